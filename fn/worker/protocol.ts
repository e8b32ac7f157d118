/**
 * The messages between the engine pool (parent) and an engine worker (child process), over Node's IPC channel.
 * One request at a time per worker; every reply carries the request's id.
 */
import type { EngineOutcome } from '../engine/engine.js';
import type { EngineVersion } from '../engine/messages.js';
import type { OutputLimits } from '../limits.js';
import type { RenderOutcome, RenderRequest } from '../render.js';
import type { SandboxStatus } from './sandbox-policy.js';

/** The calls a worker answers: their arguments and results. */
export interface WorkerMethods {
  /**
   * The whole `fn/render.ts` render (package resolution, settings, ExecProgram, output unwrapping), run in `cwd`.
   * The package root crosses as plain data (a class instance would arrive without its methods) and is rebuilt.
   */
  render: { args: { request: WireRenderRequest; root?: WireRoot; limits: OutputLimits; cwd: string }; result: RenderOutcome };
  /** `kclrun set`: the engine's OverrideFile on one file. */
  override: { args: { file: string; specs: string[] }; result: EngineOutcome<boolean> };
  /** The engine's version. */
  version: { args: Record<string, never>; result: EngineVersion };
}

/** A render request without its package root (rebuilt in the worker) and signal (the pool's deadline applies). */
export type WireRenderRequest = Omit<RenderRequest, 'root' | 'signal'>;

/** A package root as data: what `new PackageRoot(dir, label)` needs. */
export interface WireRoot {
  dir: string;
  label: string;
}

/** A method name. */
export type WorkerMethod = keyof WorkerMethods;

/** Parent → worker: one call. */
export type WorkerRequest = { [M in WorkerMethod]: { id: number; method: M; args: WorkerMethods[M]['args'] } }[WorkerMethod];

/** Worker → parent. */
export type WorkerReply =
  /** The engine is loaded; calls are answered from now on (deadlines start here, not at the process start). */
  | { type: 'ready'; sandbox?: SandboxStatus }
  /** The engine is about to run these files (named if the worker dies during the call). */
  | { type: 'running'; id: number; files: string[] }
  | { type: 'result'; id: number; result: unknown }
  /** The worker's own code threw (not the KCL program: its errors are diagnostics in the result). */
  | { type: 'error'; id: number; name: string; message: string }
  /** The engine could not be loaded; the worker exits after sending this. */
  | { type: 'unavailable'; message: string };
