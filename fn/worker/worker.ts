/**
 * One engine worker process, seen from the parent: start it, make engine calls on it, read its memory, kill it. The
 * process is the native host (kclrun-engine-host, scripts/engine-host.c) when it was built, else a Node process
 * (entry.ts); both take the same arguments and speak the frames of protocol.ts. It knows nothing of deadlines or
 * limits (the pool supervises); it only turns the child's frames and its exit into promises.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { engineReply, serviceMethod } from '../engine/call.js';
import { EngineUnavailableError, WorkerInternalError } from './errors.js';
import { FrameReader, parseHello, parseReply, requestFrame, workerArgs } from './protocol.js';
import type { SandboxPolicy, SandboxStatus } from './sandbox-policy.js';
import { installPath } from '../install-dir.js';

const ENTRY = installPath('dist', 'fn', 'worker', 'entry.js');

/** How to start a worker. */
export interface WorkerStartOptions {
  /** The engine library (`libkcl.so`) the worker loads. */
  libraryPath: string;
  /** The native engine host; undefined: a Node worker (entry.ts). */
  hostPath?: string;
  /** The worker's whole environment. */
  env: NodeJS.ProcessEnv;
  /** The worker's stderr (the engine's own panic messages): shown (CLI) or dropped (controller: JSON logs only). */
  stderr: 'inherit' | 'ignore';
  /** The file-system sandbox the worker applies to itself before loading the engine (none: unrestricted). */
  sandbox?: SandboxPolicy;
}

/** How a worker process ended. */
export interface WorkerExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** The worker ended while a call was in flight. */
export class WorkerExitedError extends Error {
  override name = 'WorkerExitedError';
  constructor(readonly exit: WorkerExit) {
    super(`engine worker exited (${exit.signal ?? `code ${exit.code}`})`);
  }
}

interface Pending {
  method: string;
  resolve: (value: Buffer) => void;
  reject: (err: Error) => void;
}

/** A running engine worker. */
export class EngineWorker {
  readonly #child: ChildProcess;
  /** Calls sent, answered in order. */
  readonly #pending: Pending[] = [];
  readonly #frames = new FrameReader();
  #hello = false;
  #unavailable: string | undefined;
  #exit: WorkerExit | undefined;
  /** Resolves when the process has ended. */
  readonly exited: Promise<WorkerExit>;
  /**
   * Resolves when the engine is loaded, with the sandbox's status if one was asked for; rejects if the worker ends
   * first (EngineUnavailableError when it said why, else WorkerExitedError).
   */
  readonly ready: Promise<SandboxStatus | undefined>;
  #onReady!: (sandbox: SandboxStatus | undefined) => void;

  constructor(opts: WorkerStartOptions) {
    const args = workerArgs(opts.libraryPath, opts.sandbox);
    const [command, argv] = opts.hostPath ? [opts.hostPath, args] : [process.execPath, [ENTRY, ...args]];
    this.#child = spawn(command, argv, { env: opts.env, cwd: '/', stdio: ['pipe', 'pipe', opts.stderr] });
    let notReady!: (err: Error) => void;
    this.ready = new Promise((resolve, reject) => ((this.#onReady = resolve), (notReady = reject)));
    this.ready.catch(() => undefined); // a caller that never waits for it must not see an unhandled rejection
    this.#child.stdout!.on('data', (chunk: Buffer) => {
      for (const payload of this.#frames.push(chunk)) this.#onFrame(payload);
    });
    // A closed stdin (the worker died) is seen as its exit.
    this.#child.stdin!.on('error', () => undefined);
    this.exited = new Promise((resolve) => {
      const finish = (exit: WorkerExit) => {
        if (this.#exit) return;
        this.#exit = exit;
        const err = this.#unavailable !== undefined ? new EngineUnavailableError(this.#unavailable) : new WorkerExitedError(exit);
        notReady(err);
        for (const p of this.#pending.splice(0)) p.reject(err);
        resolve(exit);
      };
      // 'close', not 'exit': it comes after stdout is drained, so a last frame is never lost.
      this.#child.once('close', (code, signal) => finish({ code, signal }));
      // A spawn that failed (no pid) never exits; other errors are followed by 'close'.
      this.#child.on('error', (err) => {
        if (this.#child.pid !== undefined) return;
        this.#unavailable ??= `cannot start an engine worker: ${err.message}`;
        finish({ code: null, signal: null });
      });
    });
  }

  /** The process id (undefined if the spawn failed). */
  get pid(): number | undefined {
    return this.#child.pid;
  }

  /** True once the process has ended. */
  get dead(): boolean {
    return this.#exit !== undefined;
  }

  /** True when the worker said it could not load the engine. */
  get unavailable(): boolean {
    return this.#unavailable !== undefined;
  }

  #onFrame(payload: Buffer): void {
    if (!this.#hello) {
      this.#hello = true;
      const hello = parseHello(payload);
      if (hello.ready) this.#onReady(hello.sandbox);
      else this.#unavailable = hello.message;
      return;
    }
    const p = this.#pending.shift();
    if (!p) return;
    const reply = parseReply(payload);
    if (!reply.ok) return p.reject(new WorkerInternalError('EngineHostError', reply.message));
    try {
      p.resolve(engineReply(p.method, reply.bytes));
    } catch (err) {
      p.reject(err as Error);
    }
  }

  /**
   * Calls the engine's `KclService.<method>` in `cwd` (an engine-call function, fn/engine/call.ts). Rejects with
   * EngineCallError for an `ERROR:` reply, WorkerExitedError if the process ends first, EngineUnavailableError if it
   * could not load the engine, WorkerInternalError if it could not make the call.
   */
  call(cwd: string, method: string, args: Uint8Array): Promise<Buffer> {
    if (this.#exit) return Promise.reject(new WorkerExitedError(this.#exit));
    const full = serviceMethod(method);
    return new Promise((resolve, reject) => {
      this.#pending.push({ method: full, resolve, reject });
      this.#child.stdin!.write(requestFrame(cwd, full, args));
    });
  }

  /** Resident memory in bytes (VmRSS), or undefined when the process is gone. */
  rssBytes(): number | undefined {
    if (this.#exit || this.#child.pid === undefined) return undefined;
    try {
      const kb = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${this.#child.pid}/status`, 'latin1'))?.[1];
      return kb === undefined ? undefined : Number(kb) * 1024;
    } catch {
      return undefined; // exited between the check and the read
    }
  }

  /** Kills the process at once (SIGKILL: the engine holds nothing worth a graceful stop). */
  kill(): void {
    if (!this.#exit) this.#child.kill('SIGKILL');
  }

  /** Ends the process gracefully (its stdin closes; it exits when its call, if any, is answered). */
  retire(): void {
    if (!this.#exit) this.#child.stdin!.end();
  }
}
