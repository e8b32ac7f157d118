/**
 * Build stage: render the KCL package at `spec.path` inside the fetched artifact through the one core
 * (`fn/render.ts`, the same code as `kclrun render` and `kclrun fn`) with the controller's engine pool: the program
 * runs in one of its engine workers (fn/worker/), never in the controller's own process. Diagnostics name the KCL file (relative to the artifact) and
 * line; a program that crashes the engine or passes a limit fails here with the limit and its flag named.
 * Argument values are passed to the engine only; they never appear in a message. Nothing outside the artifact is
 * read: a kcl.mod above it is ignored, and a path that leads out is a BuildFailed naming it.
 */
import { existsSync } from 'node:fs';
import { relative, resolve, sep } from 'node:path';
import type { JsonObject } from '../../krm/index.js';
import { formatDiagnostic } from '../../fn/engine/diagnostics.js';
import { PackageRoot } from '../../fn/package/root.js';
import type { EnginePool } from '../../fn/worker/pool.js';
import type { PackageAccess } from '../../fn/render.js';
import { EngineUnavailableError, WorkerInternalError } from '../../fn/worker/errors.js';
import type { KCLRunConfig } from '../api/types.js';

/** The rendered objects, or the build failure message. */
export type BuildOutcome = { ok: true; objects: JsonObject[] } | { ok: false; message: string };

/** Where and how long to render. */
export interface BuildContext {
  engine: EnginePool;
  /** Aborts the render (the controller is stopping): the call rejects with RenderAbortedError (rethrown, as is PoolClosedError). */
  signal?: AbortSignal;
  /** The KCLRun's own deadline; it lowers the pool's `--render-timeout`. `timeoutSetBy` names it. */
  timeoutMs?: number;
  timeoutSetBy?: string;
  /** `option("params")` of the program (`{}` when unset, as the KRM function passes it). */
  params?: JsonObject;
  /**
   * The KCLRun's package cache and registry credentials. Dependencies download as part of the render, so the render
   * deadline counts them (and stops them); kcl.mod.lock is read, never written.
   */
  packages?: PackageAccess;
}

/** Renders `path` (relative to the artifact root `dir`) with `config`, the referenced arguments and `ctx.params`. */
export async function buildObjects(
  dir: string,
  path: string | undefined,
  config: KCLRunConfig | undefined,
  args: Array<{ name: string; value: string }>,
  ctx: BuildContext,
): Promise<BuildOutcome> {
  const root = resolve(dir);
  const target = resolve(root, (path ?? '.').replace(/^\/+/, ''));
  if (target !== root && !target.startsWith(root + sep)) return { ok: false, message: `path "${path}" escapes the artifact` };
  if (!existsSync(target)) return { ok: false, message: `path "${path}" not found in the artifact` };
  // Package resolution (kcl.mod, path and vendored dependencies, settings files) stays inside the artifact.
  const confined = new PackageRoot(root, 'the artifact');
  let out;
  try {
    const request = {
      source: { kind: 'local' as const, paths: [target] },
      baseDir: target,
      config,
      options: [...args, { name: 'params', value: JSON.stringify(ctx.params ?? {}) }],
      root: confined,
      packages: ctx.packages,
    };
    out = await ctx.engine.render(request, root, { signal: ctx.signal, timeoutMs: ctx.timeoutMs, timeoutSetBy: ctx.timeoutSetBy });
  } catch (err) {
    // The controller's engine failed, not the program: still a failed build (nothing applied), retried later.
    if (err instanceof EngineUnavailableError || err instanceof WorkerInternalError) {
      return { ok: false, message: `KCL build failed: ${err.message}` };
    }
    throw err;
  }
  if (out.ok) return { ok: true, objects: out.objects };
  const shown = out.diagnostics.map((d) =>
    formatDiagnostic({
      ...d,
      file: d.file ? relative(root, resolve(root, d.file)) : d.file,
      related: d.related?.map((r) => ({ ...r, file: r.file ? relative(root, resolve(root, r.file)) : r.file })),
    }),
  );
  return { ok: false, message: `KCL build failed: ${shown.join('; ')}` };
}
