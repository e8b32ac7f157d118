/**
 * List-then-watch for one collection, with a local cache. Reconnects from the last resourceVersion when a watch
 * ends (server timeouts are routine), relists on 410 Gone, and backs off on errors — it never stops by itself
 * (an informer that stops on the first unexpected error leaves the controller deaf).
 */
import type { KubeClient } from './kube/client.js';
import type { Logger } from './log.js';

/** The fields an informer needs from any object. */
export interface Meta {
  metadata: { name: string; namespace?: string; resourceVersion?: string };
}

/** Event handlers; `previous` is the cached object before an update. */
export interface InformerHandlers<T extends Meta> {
  onAdd?(obj: T): void;
  onUpdate?(obj: T, previous: T): void;
  onDelete?(obj: T): void;
}

/** The cache key of an object: `namespace/name` (or `name`). */
export function objectKey(obj: Meta): string {
  return obj.metadata.namespace ? `${obj.metadata.namespace}/${obj.metadata.name}` : obj.metadata.name;
}

/** Watches `path` (a collection URL path) and keeps a cache of its objects. */
export class Informer<T extends Meta> {
  readonly cache = new Map<string, T>();
  #resourceVersion = '';
  #abort?: AbortController;
  #stopped = false;
  #synced = false;
  #backoff = 500;
  #retry?: NodeJS.Timeout;

  constructor(
    readonly client: KubeClient,
    readonly path: string,
    readonly handlers: InformerHandlers<T>,
    readonly log: Logger,
    /** Only objects matching this label selector are listed and watched (sharding). */
    readonly labelSelector?: string,
  ) {}

  /** True after the first successful list. */
  get synced(): boolean {
    return this.#synced;
  }

  /**
   * Starts listing and watching; resolves after the first list. Transient list errors (a CRD's storage still
   * initialising, a 5xx) are retried for up to `initialTimeoutMs`; then it rejects.
   */
  async start(initialTimeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + initialTimeoutMs;
    for (let delay = 200; ; delay = Math.min(delay * 2, 5000)) {
      try {
        await this.#list();
        break;
      } catch (err) {
        // Forbidden or unauthenticated will not heal by waiting: fail at once with the API's message.
        const status = (err as { status?: number }).status;
        if (this.#stopped || status === 401 || status === 403 || Date.now() + delay > deadline) throw err;
        this.log.debug('initial list failed, retrying', { path: this.path, error: (err as Error).message });
        await new Promise((r) => setTimeout(r, delay));
      }
    }
    this.#watch();
  }

  /** Stops watching. */
  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#retry);
    this.#abort?.abort();
  }

  async #list(): Promise<void> {
    const res = await this.client.request<{ metadata: { resourceVersion: string }; items: T[] }>('GET', this.path, {
      query: { labelSelector: this.labelSelector },
    });
    if (!res.ok) throw Object.assign(new Error(`list ${this.path}: ${res.message}`), { status: res.status });
    const seen = new Set<string>();
    for (const item of res.body.items) {
      const key = objectKey(item);
      seen.add(key);
      this.#upsert(key, item);
    }
    for (const [key, obj] of this.cache) {
      if (!seen.has(key)) {
        this.cache.delete(key);
        this.handlers.onDelete?.(obj);
      }
    }
    this.#resourceVersion = res.body.metadata.resourceVersion;
    this.#synced = true;
  }

  #upsert(key: string, obj: T): void {
    // managedFields are the bulk of a small object's metadata and nothing reads them from the cache.
    delete (obj.metadata as { managedFields?: unknown }).managedFields;
    const prev = this.cache.get(key);
    this.cache.set(key, obj);
    if (!prev) this.handlers.onAdd?.(obj);
    else if (prev.metadata.resourceVersion !== obj.metadata.resourceVersion) this.handlers.onUpdate?.(obj, prev);
  }

  #schedule(relist: boolean): void {
    if (this.#stopped) return;
    const delay = this.#backoff;
    this.#backoff = Math.min(this.#backoff * 2, 30_000);
    this.#retry = setTimeout(() => {
      const next = relist ? this.#list() : Promise.resolve();
      next.then(
        () => this.#watch(),
        (err: unknown) => {
          this.log.error('list failed, retrying', { path: this.path, error: (err as Error).message });
          this.#schedule(true);
        },
      );
    }, delay);
  }

  #watch(): void {
    if (this.#stopped) return;
    let gone = false;
    const abort = new AbortController();
    this.#abort = abort;
    const opts = { resourceVersion: this.#resourceVersion, labelSelector: this.labelSelector, timeoutSeconds: 300, signal: abort.signal };
    void this.client
      .watch<T & { code?: number }>(this.path, opts, ({ type, object: obj }) => {
        this.#backoff = 500;
        if (type === 'ERROR') {
          if (obj.code === 410) gone = true;
          return;
        }
        if (obj.metadata?.resourceVersion) this.#resourceVersion = obj.metadata.resourceVersion;
        if (type === 'BOOKMARK') return;
        const key = objectKey(obj);
        if (type === 'DELETED') {
          this.cache.delete(key);
          this.handlers.onDelete?.(obj);
        } else this.#upsert(key, obj);
      })
      .then((end) => {
        if (this.#stopped) return;
        if (end.ok && !gone) {
          // The server's timeout: routine, reconnect from the last version at once.
          this.#backoff = 500;
          this.#watch();
          return;
        }
        if (!end.ok && end.reason === 'ConfigError') this.log.error('watch failed', { path: this.path, error: end.message });
        else if (!end.ok && end.status !== 410) this.log.debug('watch ended', { path: this.path, error: end.message });
        this.#schedule(gone || (!end.ok && end.status === 410));
      });
  }
}
