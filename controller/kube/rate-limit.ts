/**
 * Client-side rate limit of API requests, client-go's token bucket (`--kube-api-qps`, `--kube-api-burst`): up to
 * `burst` requests at once, refilled at `qps` per second. A request that finds the bucket empty reserves the next
 * token and waits for it, so waiters are served in arrival order; an aborted wait gives its token back. As in Flux's
 * controllers (controller-runtime makes one REST client, with its own bucket, per resource type), there is one
 * bucket per API resource (`RateLimiter.for`): a burst of ConfigMap applies does not hold up status updates.
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

/**
 * The API resource a request path is for, the key of its bucket: `v1/configmaps`, `apps/v1/deployments`,
 * `krm.kcl.dev.fluxcd/v1alpha1/kclruns` (subresources share their resource's bucket); other paths (discovery,
 * `/version`) share one bucket, `nonresource`.
 */
export function resourceKey(path: string): string {
  const seg = path.replace(/^\/+/, '').split('?')[0]!.split('/');
  let gv: string;
  let rest: string[];
  if (seg[0] === 'api' && seg.length >= 3) [gv, rest] = [seg[1]!, seg.slice(2)];
  else if (seg[0] === 'apis' && seg.length >= 4) [gv, rest] = [`${seg[1]}/${seg[2]}`, seg.slice(3)];
  else return 'nonresource';
  const resource = rest[0] === 'namespaces' && rest.length >= 3 ? rest[2] : rest[0];
  return `${gv}/${resource}`;
}

/** One token bucket per API resource, made on first use; none when `limit` does not limit. */
export class RateLimiter {
  readonly #limit: RateLimit | undefined;
  readonly #buckets = new Map<string, TokenBucket>();

  constructor(limit: RateLimit | undefined) {
    this.#limit = limit && limit.qps > 0 ? limit : undefined;
  }

  /** The bucket of the resource `path` is for (undefined: no limit). */
  for(path: string): TokenBucket | undefined {
    if (!this.#limit) return undefined;
    const key = resourceKey(path);
    let bucket = this.#buckets.get(key);
    if (!bucket) this.#buckets.set(key, (bucket = new TokenBucket(this.#limit)));
    return bucket;
  }
}
