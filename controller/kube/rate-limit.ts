/**
 * Client-side rate limit of API requests, client-go's token bucket (`--kube-api-qps`, `--kube-api-burst`): up to
 * `burst` requests at once, refilled at `qps` per second. A request that finds the bucket empty reserves the next
 * token and waits for it, so waiters are served in arrival order; an aborted wait gives its token back.
 */
import { setTimeout as sleep } from 'node:timers/promises';

/** Rate limit settings; `qps <= 0` means no limit (as client-go's negative QPS). */
export interface RateLimit {
  qps: number;
  burst: number;
}

/** A token bucket shared by every client of one cluster connection. */
export class TokenBucket {
  readonly #qps: number;
  readonly #burst: number;
  readonly #now: () => number;
  #tokens: number;
  #at: number;

  constructor(limit: RateLimit, now: () => number = Date.now) {
    if (!(limit.qps > 0) || !(limit.burst >= 1)) throw new RangeError(`invalid rate limit: qps ${limit.qps}, burst ${limit.burst}`);
    this.#qps = limit.qps;
    this.#burst = Math.floor(limit.burst);
    this.#tokens = this.#burst;
    this.#now = now;
    this.#at = now();
  }

  /** Milliseconds the caller must wait for its token (0 when one is available); the token is taken. */
  reserve(): number {
    const now = this.#now();
    this.#tokens = Math.min(this.#burst, this.#tokens + ((now - this.#at) / 1000) * this.#qps);
    this.#at = now;
    this.#tokens -= 1;
    return this.#tokens >= 0 ? 0 : Math.ceil((-this.#tokens / this.#qps) * 1000);
  }

  /** Waits for a token. Rejects with the signal's reason when aborted (and returns the token). */
  async take(signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    const wait = this.reserve();
    if (wait === 0) return;
    try {
      await sleep(wait, undefined, { signal });
    } catch (err) {
      this.#tokens += 1;
      throw signal?.reason ?? err;
    }
  }
}

/** A bucket for `limit`, or undefined when it does not limit. */
export function tokenBucket(limit: RateLimit | undefined): TokenBucket | undefined {
  return limit && limit.qps > 0 ? new TokenBucket(limit) : undefined;
}
