/**
 * A rate-limited work queue (client-go's, in small): keys are deduplicated, a key is processed by one worker at a
 * time (a key added while it is processed runs again after), delayed adds keep the earliest deadline, and a handler
 * that throws is retried with exponential backoff.
 *
 * The queue owns the cancellation of the work it starts: each handler call gets its own `AbortSignal`, aborted by
 * {@link WorkQueue.cancel} for that key or by {@link WorkQueue.stop} for all. A handler that ends after its signal
 * was aborted is not retried with backoff (a key added meanwhile still runs again at once).
 */
import type { ReconcileScope } from './cancel.js';

/** What a handler asks for next. */
export interface HandlerResult {
  requeueAfterMs?: number;
}

/** Queue settings. */
export interface QueueOptions {
  /** Parallel workers (Flux's --concurrent, default 4). */
  concurrency?: number;
  /** Backoff after an error: first delay (default 750ms) … maximum (default 15m). */
  minRetryDelayMs?: number;
  maxRetryDelayMs?: number;
  /** Called when a handler throws (after scheduling the retry). */
  onError?: (key: string, err: unknown) => void;
}

/** The queue. */
export class WorkQueue {
  readonly #handler: (key: string, scope: ReconcileScope) => Promise<HandlerResult>;
  readonly #opts: Required<Omit<QueueOptions, 'onError'>> & Pick<QueueOptions, 'onError'>;
  readonly #ready: string[] = [];
  readonly #queued = new Set<string>();
  readonly #active = new Set<string>();
  readonly #dirty = new Set<string>();
  readonly #timers = new Map<string, { at: number; timer: NodeJS.Timeout }>();
  readonly #failures = new Map<string, number>();
  /** Aborted by stop(): the owner signal of every handler. */
  readonly #lifetime = new AbortController();
  /** The cancellation of each running handler. */
  readonly #inflight = new Map<string, AbortController>();
  #running = 0;
  #stopped = false;
  #idle: Array<() => void> = [];

  constructor(handler: (key: string, scope: ReconcileScope) => Promise<HandlerResult>, opts: QueueOptions = {}) {
    this.#handler = handler;
    this.#opts = {
      concurrency: opts.concurrency ?? 4,
      minRetryDelayMs: opts.minRetryDelayMs ?? 750,
      maxRetryDelayMs: opts.maxRetryDelayMs ?? 15 * 60_000,
      onError: opts.onError,
    };
  }

  /** Adds a key now. */
  add(key: string): void {
    if (this.#stopped) return;
    const t = this.#timers.get(key);
    if (t) {
      clearTimeout(t.timer);
      this.#timers.delete(key);
    }
    if (this.#active.has(key)) {
      this.#dirty.add(key);
      return;
    }
    if (this.#queued.has(key)) return;
    this.#queued.add(key);
    this.#ready.push(key);
    this.#pump();
  }

  /** Adds a key after `ms` (an earlier pending deadline wins). */
  addAfter(key: string, ms: number): void {
    if (this.#stopped) return;
    if (ms <= 0) return this.add(key);
    const at = Date.now() + ms;
    const existing = this.#timers.get(key);
    if (existing && existing.at <= at) return;
    if (existing) clearTimeout(existing.timer);
    const timer = setTimeout(() => {
      this.#timers.delete(key);
      this.add(key);
    }, ms);
    timer.unref?.();
    this.#timers.set(key, { at, timer });
  }

  /** Forgets a key's pending timer and failure count. */
  forget(key: string): void {
    const t = this.#timers.get(key);
    if (t) clearTimeout(t.timer);
    this.#timers.delete(key);
    this.#failures.delete(key);
  }

  /** Number of keys waiting or being processed. */
  get length(): number {
    return this.#ready.length + this.#active.size;
  }

  /** Aborts the running handler of `key` (if any) with `reason`; true if one was running. */
  cancel(key: string, reason: unknown): boolean {
    const running = this.#inflight.get(key);
    running?.abort(reason);
    return running !== undefined;
  }

  /**
   * Stops taking work, cancels timers and aborts every running handler with `reason` (synchronously, before the
   * first await); resolves when they have returned.
   */
  async stop(reason?: unknown): Promise<void> {
    this.#stopped = true;
    if (!this.#lifetime.signal.aborted) this.#lifetime.abort(reason);
    for (const running of this.#inflight.values()) running.abort(reason);
    for (const t of this.#timers.values()) clearTimeout(t.timer);
    this.#timers.clear();
    this.#ready.length = 0;
    this.#queued.clear();
    if (this.#running > 0) await new Promise<void>((r) => this.#idle.push(r));
  }

  #pump(): void {
    while (!this.#stopped && this.#running < this.#opts.concurrency && this.#ready.length > 0) {
      const key = this.#ready.shift()!;
      this.#queued.delete(key);
      this.#active.add(key);
      this.#running++;
      void this.#process(key);
    }
  }

  async #process(key: string): Promise<void> {
    const own = new AbortController();
    this.#inflight.set(key, own);
    const signal = own.signal; // aborted by cancel(key) or stop()
    try {
      const res = await this.#handler(key, { signal, owner: this.#lifetime.signal });
      this.#failures.delete(key);
      if (res.requeueAfterMs !== undefined && !signal.aborted) this.addAfter(key, res.requeueAfterMs);
    } catch (err) {
      if (signal.aborted) return; // cancelled work is not a failure: no backoff (the finally block still runs)
      const n = (this.#failures.get(key) ?? 0) + 1;
      this.#failures.set(key, n);
      const delay = Math.min(this.#opts.maxRetryDelayMs, this.#opts.minRetryDelayMs * 2 ** (n - 1));
      this.addAfter(key, delay);
      this.#opts.onError?.(key, err);
    } finally {
      this.#inflight.delete(key);
      this.#active.delete(key);
      this.#running--;
      if (this.#dirty.delete(key)) this.add(key);
      if (this.#running === 0 && this.#stopped) for (const r of this.#idle.splice(0)) r();
      this.#pump();
    }
  }
}
