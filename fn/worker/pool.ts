/**
 * The engine pool: the only way kclrun's controller and CLI call the KCL engine. A few engine workers (child
 * processes, see entry.ts), each taking one call at a time from a shared FIFO queue, under a supervisor that
 *   - kills a worker whose call passes its deadline (the pool's timeout, lowered per call) or whose memory passes
 *     the cap (VmRSS polled while it runs, and checked after each call), and replaces it;
 *   - replaces a worker that dies, failing its call with the files it was running;
 *   - kills the worker of a call whose AbortSignal fires;
 *   - re-checks the output caps on what comes back.
 * Program failures come back from `render` as diagnostics; everything else is a typed error.
 */
import { availableParallelism } from 'node:os';
import { engineLibraryPath } from '../engine/library.js';
import { checkOutputLimits, DEFAULT_OUTPUT_LIMITS, formatDuration, LIMIT_FLAGS, type OutputLimits } from '../limits.js';
import type { RenderOutcome, RenderRequest } from '../render.js';
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
import type { WorkerMethod, WorkerMethods } from './protocol.js';
import type { SandboxPolicy, SandboxStatus } from './sandbox-policy.js';
import { EngineWorker, WorkerExitedError, type WorkerStartOptions } from './worker.js';

/** How long a worker may take to load its engine before a call on it fails. */
const WORKER_START_TIMEOUT_MS = 60_000;

/** Pool settings. Unset limits are off (the CLI's default); the controller sets them all. */
export interface EnginePoolOptions {
  /** Workers (default: the CPUs available). */
  workers?: number;
  /** Deadline of each call (default none). */
  timeoutMs?: number;
  /** Memory cap of each worker, resident set size (default none). */
  memoryLimitBytes?: number;
  /** Output caps of a render (default DEFAULT_OUTPUT_LIMITS). */
  outputLimits?: OutputLimits;
  /** The workers' whole environment (default: empty). */
  env?: NodeJS.ProcessEnv;
  /** The workers' stderr (default 'ignore'). */
  stderr?: WorkerStartOptions['stderr'];
  /** The engine library (default engineLibraryPath()). */
  libraryPath?: string;
  /** How often a busy worker's memory is read (default 50 ms). */
  memoryPollMs?: number;
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

interface Job {
  method: WorkerMethod;
  args: unknown;
  opts: CallOptions;
  resolve: (value: unknown) => void;
  reject: (err: Error) => void;
  /** The program's files, once the worker reports them. */
  files: string[];
  /** Files to name before the worker reports them. */
  fallbackFiles: string[];
  /** Drops the call from the queue when its signal fires (removed once it leaves the queue). */
  onQueuedAbort?: () => void;
}

/** A pool of supervised engine workers. */
export class EnginePool {
  readonly size: number;
  readonly #opts: EnginePoolOptions;
  readonly #start: WorkerStartOptions;
  readonly #limits: OutputLimits;
  readonly #idle: EngineWorker[] = [];
  readonly #all = new Set<EngineWorker>();
  readonly #queue: Job[] = [];
  #closed = false;

  /** Starts `workers` workers now, so their engines load while the caller gets ready. */
  constructor(opts: EnginePoolOptions = {}) {
    this.#opts = opts;
    this.size = Math.max(1, opts.workers ?? availableParallelism());
    this.#limits = opts.outputLimits ?? DEFAULT_OUTPUT_LIMITS;
    this.#start = {
      libraryPath: opts.libraryPath ?? engineLibraryPath(),
      env: opts.env ?? {},
      stderr: opts.stderr ?? 'ignore',
      sandbox: opts.sandbox,
    };
    for (let i = 0; i < this.size; i++) this.#spawn();
    this.sandbox = this.#idle[0]!.ready;
  }

  /**
   * The sandbox status of the first worker, once its engine is loaded (undefined when no sandbox was asked for);
   * every worker applies the same policy on the same kernel. Never resolves if that worker dies before.
   */
  readonly sandbox: Promise<SandboxStatus | undefined>;

  /** Workers alive now (tests and metrics). */
  get workers(): number {
    return this.#all.size;
  }

  /** Calls running now (tests and metrics). */
  get busy(): number {
    return this.#all.size - this.#idle.length;
  }

  #spawn(): EngineWorker {
    const w = new EngineWorker(this.#start);
    this.#all.add(w);
    this.#idle.push(w);
    void w.exited.then(() => {
      this.#all.delete(w);
      const i = this.#idle.indexOf(w);
      if (i < 0) return; // a busy worker: its call's supervisor replaces it
      this.#idle.splice(i, 1);
      // An idle worker that died is replaced now, unless it never had an engine (then only on demand: no loop).
      if (!this.#closed && !w.unavailable) this.#spawn();
      this.#dispatch();
    });
    return w;
  }

  /** Calls `method` on the next free worker. Rejects with the typed errors of errors.ts. */
  call<M extends WorkerMethod>(method: M, args: WorkerMethods[M]['args'], opts: CallOptions = {}): Promise<WorkerMethods[M]['result']> {
    return this.#enqueue(method, args, opts, []) as Promise<WorkerMethods[M]['result']>;
  }

  /**
   * Renders in a worker (in `cwd`, the program's work dir). A program that crashes the engine, passes the
   * deadline, the memory cap or the output caps comes back as a failed outcome with a diagnostic naming its file;
   * an aborted call rejects with RenderAbortedError, other failures with their typed errors.
   */
  async render(request: RenderRequest, cwd: string, opts: CallOptions = {}): Promise<RenderOutcome> {
    const named = namedFiles(request.source, request.inlineName);
    const { root, signal: _signal, ...wire } = request; // the worker's deadline bounds downloads; a signal cannot cross
    const args = { request: wire, root: root && { dir: root.dir, label: root.label }, limits: this.#limits, cwd };
    try {
      const out = (await this.#enqueue('render', args, opts, named)) as RenderOutcome;
      if (!out.ok) return out;
      // Defence in depth: the worker checked the caps, check what actually came back.
      const over = checkOutputLimits(this.#limits, { bytes: Buffer.byteLength(out.yaml), objects: out.objects.length });
      return over ? { ok: false, diagnostics: [over], log: out.log } : out;
    } catch (err) {
      if (err instanceof ProgramStoppedError) return { ok: false, diagnostics: [err.toDiagnostic()] };
      throw err;
    }
  }

  #enqueue(method: WorkerMethod, args: unknown, opts: CallOptions, fallbackFiles: string[]): Promise<unknown> {
    if (this.#closed) return Promise.reject(new PoolClosedError());
    if (opts.signal?.aborted) return Promise.reject(new RenderAbortedError(opts.signal.reason));
    return new Promise((resolve, reject) => {
      const job: Job = { method, args, opts, resolve, reject, files: [], fallbackFiles };
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
    // Workers that could not load the engine are not replaced at once; a waiting call starts one.
    while (this.#queue.length > this.#idle.length && this.#all.size < this.size) this.#spawn();
    while (this.#idle.length && this.#queue.length) {
      const job = this.#queue.shift()!;
      if (job.onQueuedAbort) job.opts.signal?.removeEventListener('abort', job.onQueuedAbort);
      void this.#run(this.#idle.shift()!, job);
    }
  }

  /** Runs one job on `w`, supervising it; then returns `w` to the idle list or replaces it. */
  async #run(w: EngineWorker, job: Job): Promise<void> {
    let stopped: Error | undefined;
    const stop = (why: Error) => {
      stopped ??= why;
      w.kill();
    };
    const files = () => (job.files.length ? job.files : job.fallbackFiles);
    // The deadline runs from when the worker has its engine: a worker still starting does not eat into it. A worker
    // that never gets there is the engine's failure, not the program's.
    const timeout = this.#deadline(job.opts);
    let settled = false;
    let timer: NodeJS.Timeout | undefined = setTimeout(
      () => stop(new EngineUnavailableError(`the engine worker did not start within ${formatDuration(WORKER_START_TIMEOUT_MS)}`)),
      WORKER_START_TIMEOUT_MS,
    );
    void w.ready.then(() => {
      clearTimeout(timer);
      if (!settled && timeout) {
        // A render reports its files just before the engine runs them: none yet means its dependencies were still downloading.
        const beforeProgram = () => job.method === 'render' && job.files.length === 0;
        timer = setTimeout(() => stop(new RenderTimeoutError(files(), timeout.ms, timeout.setBy, beforeProgram())), timeout.ms);
      }
    });
    const limit = this.#opts.memoryLimitBytes;
    const overLimit = () => {
      const rss = limit !== undefined ? w.rssBytes() : undefined;
      return rss !== undefined && rss > limit! ? rss : undefined;
    };
    const poll =
      limit !== undefined &&
      setInterval(() => {
        const rss = overLimit();
        if (rss !== undefined) stop(new RenderMemoryError(files(), limit, rss));
      }, this.#opts.memoryPollMs ?? 50);
    const onAbort = () => stop(new RenderAbortedError(job.opts.signal!.reason));
    job.opts.signal?.addEventListener('abort', onAbort, { once: true });
    let keep = false;
    try {
      const result = await w.call(job.method as never, job.args as never, (f) => (job.files = f));
      if (stopped) throw stopped;
      job.resolve(result);
      // A worker left over its cap by a call that finished in time is recycled, not reused.
      keep = overLimit() === undefined;
    } catch (err) {
      if (stopped) job.reject(stopped);
      else if (this.#closed) job.reject(new PoolClosedError());
      else if (err instanceof WorkerExitedError) job.reject(new WorkerCrashError(files(), err.exit.code, err.exit.signal));
      else job.reject(err as Error);
      keep = err instanceof WorkerInternalError && !stopped;
    } finally {
      settled = true;
      clearTimeout(timer);
      if (poll) clearInterval(poll);
      job.opts.signal?.removeEventListener('abort', onAbort);
    }
    if (keep && !this.#closed) this.#idle.push(w);
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

  /** Kills `w` and starts its replacement (unless the pool is closed or `w` could not load the engine). */
  #retire(w: EngineWorker): void {
    w.kill();
    this.#all.delete(w);
    if (!this.#closed && !w.unavailable) this.#spawn();
  }

  /** Fails waiting and running calls with PoolClosedError, kills every worker and waits for them to end. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const job of this.#queue.splice(0)) {
      if (job.onQueuedAbort) job.opts.signal?.removeEventListener('abort', job.onQueuedAbort);
      job.reject(new PoolClosedError());
    }
    const all = [...this.#all];
    for (const w of all) w.kill();
    await Promise.all(all.map((w) => w.exited));
  }
}
