/**
 * Why an engine call did not come back: the worker died, passed its deadline or its memory cap, the caller aborted,
 * the engine could not be loaded, or the pool is closed. Each failure of the program itself (crash, timeout,
 * memory) names the files the worker was running and becomes a diagnostic a user can act on.
 */
import type { Diagnostic } from '../engine/diagnostics.js';
import { formatBytes, formatDuration, LIMIT_FLAGS } from '../limits.js';

/** A KCL program stopped the worker that ran it. `files` are the program's files (the first is named). */
export abstract class ProgramStoppedError extends Error {
  constructor(
    readonly files: readonly string[],
    message: string,
  ) {
    super(message);
  }

  /** The diagnostic a user sees: `main.k: <message>`. */
  toDiagnostic(): Diagnostic {
    return { severity: 'error', file: this.files[0], message: this.message };
  }
}

/** The worker died (a signal or an exit) while running a program. */
export class WorkerCrashError extends ProgramStoppedError {
  override name = 'WorkerCrashError';
  constructor(
    files: readonly string[],
    readonly code: number | null,
    readonly signal: NodeJS.Signals | null,
  ) {
    super(files, crashMessage(code, signal));
  }
}

function crashMessage(code: number | null, signal: NodeJS.Signals | null): string {
  if (signal === 'SIGSEGV' || signal === 'SIGBUS') {
    return `the KCL engine crashed (${signal}) while running this program; the usual cause is unbounded recursion`;
  }
  if (signal === 'SIGKILL') {
    return 'the KCL engine was killed (SIGKILL) while running this program; the usual cause is running out of memory';
  }
  if (signal) return `the KCL engine crashed (${signal}) while running this program`;
  return `the KCL engine exited (code ${code}) while running this program`;
}

/** The render ran past its deadline (the program, or before it the download of its dependencies); the worker was killed. */
export class RenderTimeoutError extends ProgramStoppedError {
  override name = 'RenderTimeoutError';
  constructor(
    files: readonly string[],
    readonly limitMs: number,
    /** What set the limit: a flag, or e.g. the KCLRun's `spec.timeout`. */
    readonly setBy: string,
    /** The engine had not started the program yet: package resolution (dependency downloads) took the time. */
    readonly beforeProgram = false,
  ) {
    const what = beforeProgram ? "fetching the package's dependencies took" : 'the program ran';
    super(files, `${what} longer than the ${formatDuration(limitMs)} limit and was stopped (set by ${setBy})`);
  }
}

/** The worker's memory passed its cap; the worker was killed. */
export class RenderMemoryError extends ProgramStoppedError {
  override name = 'RenderMemoryError';
  constructor(
    files: readonly string[],
    readonly limitBytes: number,
    readonly usedBytes: number,
  ) {
    super(
      files,
      `the program used more than the ${formatBytes(limitBytes)} memory limit (${formatBytes(usedBytes)}) and was stopped (set by ${LIMIT_FLAGS.memory})`,
    );
  }
}

/** The caller's AbortSignal fired; a running worker was killed. */
export class RenderAbortedError extends Error {
  override name = 'RenderAbortedError';
  constructor(cause?: unknown) {
    super('the engine call was aborted', { cause });
  }
}

/** The engine could not be loaded in a worker (e.g. not fetched), or the worker did not start. */
export class EngineUnavailableError extends Error {
  override name = 'EngineUnavailableError';
}

/**
 * A call's own code threw (a kclrun bug, not the program's doing: the program's failures are diagnostics), or the
 * worker could not make the engine call (e.g. it could not enter the work dir).
 */
export class WorkerInternalError extends Error {
  override name = 'WorkerInternalError';
  constructor(
    readonly remoteName: string,
    message: string,
  ) {
    super(`engine worker: ${remoteName}: ${message}`);
  }
}

/** The pool was closed before the call could run. */
export class PoolClosedError extends Error {
  override name = 'PoolClosedError';
  constructor() {
    super('the engine pool is closed');
  }
}
