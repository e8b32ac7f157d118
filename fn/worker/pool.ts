/**
 * The engine pool: the only way kclrun's controller (and the CLI without its crash guard) calls the KCL engine.
 * Engine workers (child processes, see worker.ts) are started on demand, up to `size`, and exit after idling for
 * `idleMs`. The first starts with the first call; each further one only once a call has waited `growAfterMs` for a
 * worker (each costs its own memory, ~11 MiB for the native host after a render: a short queue behind a busy worker
 * is cheaper than that). A call leases one worker from a shared FIFO queue and runs in this process — a render's package
 * resolution, downloads and output parsing included — with its engine calls made on the leased worker, under a
 * supervisor that
 *   - stops a call that passes its deadline (the pool's timeout, lowered per call): its downloads are aborted and
 *     its worker killed;
 *   - kills a worker whose memory passes the cap (VmRSS polled while it is leased, and checked after each call);
 *   - fails the call of a worker that dies with the files it was running;
 *   - kills the worker of a call whose AbortSignal fires.
 * Program failures come back from `render` as diagnostics; everything else is a typed error.
 */
import { availableParallelism } from 'node:os';
import { existsSync } from 'node:fs';
import type { EngineCall } from '../engine/call.js';
import { engineVersion, overrideFile, type EngineOutcome } from '../engine/engine.js';
import { engineHostPath, engineLibraryPath } from '../engine/library.js';
import type { EngineVersion } from '../engine/messages.js';
import { DEFAULT_OUTPUT_LIMITS, formatDuration, LIMIT_FLAGS, type OutputLimits } from '../limits.js';
import { render, type RenderOutcome, type RenderRequest } from '../render.js';
import { namedFiles } from '../source.js';
import {
  EngineUnavailableError,
  PoolClosedError,
  ProgramStoppedError,
  RenderAbortedError,
  RenderMemoryError,
  RenderTimeoutError,
  WorkerCrashError,
  WorkerInternalError,
} from './errors.js';
import { sandboxArgs } from './protocol.js';
import type { SandboxPolicy, SandboxStatus } from './sandbox-policy.js';
import { EngineWorker, WorkerExitedError, type WorkerStartOptions } from './worker.js';

/** How long a worker may take to load its engine before a call on it fails. */
const WORKER_START_TIMEOUT_MS = 60_000;
/** How long an idle worker lives by default. */
const DEFAULT_IDLE_MS = 30_000;
/** How long a call waits for a busy worker by default before the pool starts another. */
const DEFAULT_GROW_AFTER_MS = 250;

/** Pool settings. Unset limits are off (the CLI's default); the controller sets them all. */
export interface EnginePoolOptions {
  /** Workers at most (default: the CPUs available). */
  workers?: number;
  /** Deadline of each call (default none). */
  timeoutMs?: number;
  /** Memory cap of each worker, resident set size (default none). */
  memoryLimitBytes?: number;
  /** Output caps of a render (default DEFAULT_OUTPUT_LIMITS). */
  outputLimits?: OutputLimits;
  /** The workers' whole environment, which is also what a render's package resolution reads (default: empty). */
  env?: NodeJS.ProcessEnv;
  /** The workers' stderr (default 'ignore'). */
  stderr?: WorkerStartOptions['stderr'];
  /** The engine library (default engineLibraryPath()). */
  libraryPath?: string;
  /**
   * The native engine host (default: kclrun-engine-host beside the engine library, if it was built); `null`, or a
   * host that is not there: Node workers (fn/worker/entry.ts).
   */
  hostPath?: string | null;
  /** How often a leased worker's memory is read (default 50 ms). */
  memoryPollMs?: number;
  /** How long a worker may idle before it exits (default 30 s). */
  idleMs?: number;
  /**
   * How long a call waits while every worker is busy before the pool starts another (default 250 ms; 0: at once).
   * The first worker always starts at once.
   */
  growAfterMs?: number;
  /** The file-system sandbox each worker applies to itself (default none). */
  sandbox?: SandboxPolicy;
}

/** Per-call settings. */
export interface CallOptions {
  signal?: AbortSignal;
  /** A deadline lower than the pool's (e.g. a KCLRun's spec.timeout); `timeoutSetBy` names what set it. */
  timeoutMs?: number;
  timeoutSetBy?: string;
}

/** What a call does with its leased worker's engine; `signal` fires when the supervisor stops it. */
type Task = (engine: EngineCall, job: Job, signal: AbortSignal) => Promise<unknown>;

interface Job {
  task: Task;
  /** Where the worker runs the engine calls. */
  cwd: string;
  /** A render (its deadline may pass before the program: in the downloads). */
  render: boolean;
  opts: CallOptions;
  resolve: (value: unknown) => void;
  reject: (err: Error) => void;
  /** The program's files, once the render is about to run them. */
  files: string[];
  /** Files to name before that. */
  fallbackFiles: string[];
  /** Drops the call from the queue when its signal fires (removed once it leaves the queue). */
  onQueuedAbort?: () => void;
  /** When it was queued (performance.now()). */
  queuedAt: number;
}

/** A pool of supervised engine workers. */
export class EnginePool {
  readonly size: number;
  readonly #opts: EnginePoolOptions;
  readonly #start: WorkerStartOptions;
  readonly #limits: OutputLimits;
  readonly #env: NodeJS.ProcessEnv;
  /** What the `git` of a render's git dependencies runs under: the native host's `--exec`, in the workers' sandbox. */
  readonly #gitRunUnder: string[] | undefined;
  readonly #idleMs: number;
  readonly #growAfterMs: number;
  /** Runs #dispatch when the call first in line has waited growAfterMs. */
  #growTimer: NodeJS.Timeout | undefined;
  readonly #idle: EngineWorker[] = [];
  readonly #idleTimers = new Map<EngineWorker, NodeJS.Timeout>();
  readonly #all = new Set<EngineWorker>();
  readonly #queue: Job[] = [];
  /** How to stop each running call. */
  readonly #running = new Set<(why: Error) => void>();
  #closed = false;

  /** Starts no worker: the first call (or `probe`) does. */
  constructor(opts: EnginePoolOptions = {}) {
    this.#opts = opts;
    this.size = Math.max(1, opts.workers ?? availableParallelism());
    this.#limits = opts.outputLimits ?? DEFAULT_OUTPUT_LIMITS;
    this.#env = opts.env ?? {};
    this.#idleMs = opts.idleMs ?? DEFAULT_IDLE_MS;
    this.#growAfterMs = opts.growAfterMs ?? DEFAULT_GROW_AFTER_MS;
    const libraryPath = opts.libraryPath ?? engineLibraryPath();
    const host = opts.hostPath === undefined ? engineHostPath(libraryPath) : opts.hostPath;
    this.#start = {
      libraryPath,
      hostPath: host !== null && existsSync(host) ? host : undefined,
      env: this.#env,
      stderr: opts.stderr ?? 'ignore',
      sandbox: opts.sandbox,
    };
    const native = this.#start.hostPath;
    this.#gitRunUnder = native && opts.sandbox ? [native, ...sandboxArgs(opts.sandbox), '--exec'] : undefined;
  }

  /** True when the workers are the native host, false when they are Node processes. */
  get native(): boolean {
    return this.#start.hostPath !== undefined;
  }

  /** Workers alive now (tests and metrics). */
  get workers(): number {
    return this.#all.size;
  }

  /** Calls running now (tests and metrics). */
  get busy(): number {
    return this.#all.size - this.#idle.length;
  }

  /**
   * The workers' sandbox status (undefined when no sandbox was asked for; every worker applies the same policy on
   * the same kernel): starts a worker if none is running (it idles out like any other) and resolves once its engine
   * is loaded. Rejects with EngineUnavailableError when it cannot load the engine, PoolClosedError when closed.
   */
  probe(): Promise<SandboxStatus | undefined> {
    if (this.#closed) return Promise.reject(new PoolClosedError());
    const w = this.#all.values().next().value ?? this.#spawn();
    return w.ready.catch((err: Error) => {
      throw this.#closed ? new PoolClosedError() : err;
    });
  }

  #spawn(): EngineWorker {
    const w = new EngineWorker(this.#start);
    this.#all.add(w);
    this.#rest(w);
    void w.exited.then(() => {
      this.#all.delete(w);
      this.#unrest(w);
      this.#dispatch();
    });
    return w;
  }

  /** Puts `w` on the idle list, to exit if nothing leases it within idleMs. */
  #rest(w: EngineWorker): void {
    this.#idle.push(w);
    const timer = setTimeout(() => {
      if (!this.#unrest(w)) return;
      this.#all.delete(w);
      w.retire();
    }, this.#idleMs);
    timer.unref();
    this.#idleTimers.set(w, timer);
  }

  /** Takes `w` off the idle list; false if it was not on it. */
  #unrest(w: EngineWorker): boolean {
    clearTimeout(this.#idleTimers.get(w));
    this.#idleTimers.delete(w);
    const i = this.#idle.indexOf(w);
    if (i < 0) return false;
    this.#idle.splice(i, 1);
    return true;
  }

  /**
   * Renders `request` (fn/render.ts, in this process) with the engine of a leased worker, which runs the program
   * in `cwd` (the program's work dir). A program that crashes the engine, passes the deadline, the memory cap or
   * the output caps comes back as a failed outcome with a diagnostic naming its file; an aborted call rejects with
   * RenderAbortedError, other failures with their typed errors.
   */
  async render(request: RenderRequest, cwd: string, opts: CallOptions = {}): Promise<RenderOutcome> {
    const task: Task = (engine, job, stopped) => {
      const signal = request.signal ? AbortSignal.any([request.signal, stopped]) : stopped;
      const onRun = (files: readonly string[]) => (job.files = [...files]);
      return render({ ...request, signal }, { engine, env: this.#env, limits: this.#limits, onRun, gitRunUnder: this.#gitRunUnder });
    };
    try {
      return (await this.#enqueue(task, cwd, opts, namedFiles(request.source, request.inlineName), true)) as RenderOutcome;
    } catch (err) {
      if (err instanceof ProgramStoppedError) return { ok: false, diagnostics: [err.toDiagnostic()] };
      throw err;
    }
  }

  /** `kclrun set`: the engine's OverrideFile on one file. */
  override(file: string, specs: readonly string[], opts: CallOptions = {}): Promise<EngineOutcome<boolean>> {
    return this.#enqueue((engine) => overrideFile(file, specs, engine), '/', opts, [file], false) as Promise<EngineOutcome<boolean>>;
  }

  /** The engine's version. */
  version(opts: CallOptions = {}): Promise<EngineVersion> {
    return this.#enqueue((engine) => engineVersion(engine), '/', opts, [], false) as Promise<EngineVersion>;
  }

  #enqueue(task: Task, cwd: string, opts: CallOptions, fallbackFiles: string[], isRender: boolean): Promise<unknown> {
    if (this.#closed) return Promise.reject(new PoolClosedError());
    if (opts.signal?.aborted) return Promise.reject(new RenderAbortedError(opts.signal.reason));
    return new Promise((resolve, reject) => {
      const job: Job = { task, cwd, render: isRender, opts, resolve, reject, files: [], fallbackFiles, queuedAt: performance.now() };
      if (opts.signal) {
        const signal = opts.signal;
        job.onQueuedAbort = () => this.#dequeue(job, new RenderAbortedError(signal.reason));
        signal.addEventListener('abort', job.onQueuedAbort, { once: true });
      }
      this.#queue.push(job);
      this.#dispatch();
    });
  }

  #dequeue(job: Job, err: Error): void {
    const i = this.#queue.indexOf(job);
    if (i < 0) return; // already running: its supervisor handles the abort
    this.#queue.splice(i, 1);
    job.reject(err);
  }

  #dispatch(): void {
    if (this.#closed) return;
    if (this.#all.size === 0 && this.#queue.length) this.#spawn();
    while (this.#idle.length && this.#queue.length) {
      const job = this.#queue.shift()!;
      if (job.onQueuedAbort) job.opts.signal?.removeEventListener('abort', job.onQueuedAbort);
      // The worker that rested last: under light load one worker takes every call and the others idle out.
      const w = this.#idle.at(-1)!;
      this.#unrest(w);
      void this.#run(w, job);
    }
    this.#grow();
  }

  /** Starts a worker for the call first in line once it has waited growAfterMs, or sets a timer for then. */
  #grow(): void {
    clearTimeout(this.#growTimer);
    this.#growTimer = undefined;
    const first = this.#queue[0];
    if (!first || this.#all.size >= this.size) return;
    const wait = first.queuedAt + this.#growAfterMs - performance.now();
    if (wait > 0) {
      this.#growTimer = setTimeout(() => this.#dispatch(), wait);
      return;
    }
    this.#spawn();
    this.#dispatch();
  }

  /** Runs one job on `w`, supervising it; then returns `w` to the idle list or kills it. */
  async #run(w: EngineWorker, job: Job): Promise<void> {
    let stopped: Error | undefined;
    const halt = new AbortController();
    let onStop!: (err: Error) => void;
    const stoppedNow = new Promise<never>((_, reject) => (onStop = reject));
    stoppedNow.catch(() => undefined);
    const stop = (why: Error) => {
      if (stopped) return;
      stopped = why;
      halt.abort(why);
      w.kill();
      onStop(why);
    };
    this.#running.add(stop);
    const files = () => (job.files.length ? job.files : job.fallbackFiles);
    // The deadline runs from when the worker has its engine: a worker still starting does not eat into it. A worker
    // that never gets there is the engine's failure, not the program's.
    let timer: NodeJS.Timeout | undefined = setTimeout(
      () => stop(new EngineUnavailableError(`the engine worker did not start within ${formatDuration(WORKER_START_TIMEOUT_MS)}`)),
      WORKER_START_TIMEOUT_MS,
    );
    const limit = this.#opts.memoryLimitBytes;
    const overLimit = () => {
      const rss = limit !== undefined ? w.rssBytes() : undefined;
      return rss !== undefined && rss > limit! ? rss : undefined;
    };
    let poll: NodeJS.Timeout | undefined;
    const onAbort = () => stop(new RenderAbortedError(job.opts.signal!.reason));
    job.opts.signal?.addEventListener('abort', onAbort, { once: true });
    let keep = false;
    try {
      await Promise.race([w.ready, stoppedNow]);
      clearTimeout(timer);
      const timeout = this.#deadline(job.opts);
      if (timeout) {
        // A render names its files just before the engine runs them: none yet means its dependencies were still downloading.
        const beforeProgram = () => job.render && job.files.length === 0;
        timer = setTimeout(() => stop(new RenderTimeoutError(files(), timeout.ms, timeout.setBy, beforeProgram())), timeout.ms);
      }
      if (limit !== undefined) {
        poll = setInterval(() => {
          const rss = overLimit();
          if (rss !== undefined) stop(new RenderMemoryError(files(), limit, rss));
        }, this.#opts.memoryPollMs ?? 50);
      }
      const running = job.task((method, args) => w.call(job.cwd, method, args), job, halt.signal);
      running.catch(() => undefined); // after a stop, what the task still does is moot
      const result = await Promise.race([running, stoppedNow]);
      job.resolve(result);
      // A worker left over its cap by a call that finished in time is retired, not reused.
      keep = overLimit() === undefined;
    } catch (err) {
      if (stopped) job.reject(stopped);
      else if (this.#closed) job.reject(new PoolClosedError());
      else if (err instanceof WorkerExitedError) job.reject(new WorkerCrashError(files(), err.exit.code, err.exit.signal));
      else job.reject(internal(err));
      keep = !w.dead && !w.unavailable && !stopped;
    } finally {
      this.#running.delete(stop);
      clearTimeout(timer);
      clearInterval(poll);
      job.opts.signal?.removeEventListener('abort', onAbort);
    }
    if (keep && !this.#closed && !w.dead) this.#rest(w);
    else this.#retire(w);
    this.#dispatch();
  }

  #deadline(opts: CallOptions): { ms: number; setBy: string } | undefined {
    const own = this.#opts.timeoutMs;
    if (opts.timeoutMs !== undefined && (own === undefined || opts.timeoutMs < own)) {
      return { ms: opts.timeoutMs, setBy: opts.timeoutSetBy ?? 'the caller' };
    }
    return own === undefined ? undefined : { ms: own, setBy: LIMIT_FLAGS.timeout };
  }

  /** Kills `w` (a replacement starts when a call needs one). */
  #retire(w: EngineWorker): void {
    w.kill();
    this.#all.delete(w);
  }

  /** Fails waiting and running calls with PoolClosedError, kills every worker and waits for them to end. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const job of this.#queue.splice(0)) {
      if (job.onQueuedAbort) job.opts.signal?.removeEventListener('abort', job.onQueuedAbort);
      job.reject(new PoolClosedError());
    }
    for (const stop of this.#running) stop(new PoolClosedError());
    for (const t of this.#idleTimers.values()) clearTimeout(t);
    this.#idleTimers.clear();
    clearTimeout(this.#growTimer);
    const all = [...this.#all];
    for (const w of all) w.kill();
    await Promise.all(all.map((w) => w.exited));
  }
}

/**
 * An error of the call's own code (a kclrun bug, not the program's doing: its failures are diagnostics), typed as
 * such; the pool's typed errors pass as they are.
 */
function internal(err: unknown): Error {
  if (err instanceof EngineUnavailableError || err instanceof WorkerInternalError || err instanceof PoolClosedError) return err;
  const e = err instanceof Error ? err : new Error(String(err));
  return new WorkerInternalError(e.name, e.message);
}
