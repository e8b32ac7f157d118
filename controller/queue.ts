/**
 * A rate-limited work queue (client-go's, in small): keys are deduplicated, a key is processed by one worker at a
 * time (a key added while it is processed runs again after), delayed adds keep the earliest deadline, and a handler
 * that throws is retried with exponential backoff.
 */

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
  readonly #handler: (key: string) => Promise<HandlerResult>;
  readonly #opts: Required<Omit<QueueOptions, 'onError'>> & Pick<QueueOptions, 'onError'>;
  readonly #ready: string[] = [];
  readonly #queued = new Set<string>();
  readonly #active = new Set<string>();
  readonly #dirty = new Set<string>();
  readonly #timers = new Map<string, { at: number; timer: NodeJS.Timeout }>();
  readonly #failures = new Map<string, number>();
  #running = 0;
  #stopped = false;
  #idle: Array<() => void> = [];

  constructor(handler: (key: string) => Promise<HandlerResult>, opts: QueueOptions = {}) {
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

  /** Stops taking work and cancels timers; resolves when running handlers finish. */
  async stop(): Promise<void> {
    this.#stopped = true;
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
    try {
      const res = await this.#handler(key);
      this.#failures.delete(key);
      if (res.requeueAfterMs !== undefined) this.addAfter(key, res.requeueAfterMs);
    } catch (err) {
      const n = (this.#failures.get(key) ?? 0) + 1;
      this.#failures.set(key, n);
      const delay = Math.min(this.#opts.maxRetryDelayMs, this.#opts.minRetryDelayMs * 2 ** (n - 1));
      this.addAfter(key, delay);
      this.#opts.onError?.(key, err);
    } finally {
      this.#active.delete(key);
      this.#running--;
      if (this.#dirty.delete(key)) this.add(key);
      if (this.#running === 0 && this.#stopped) for (const r of this.#idle.splice(0)) r();
      this.#pump();
    }
  }
}
