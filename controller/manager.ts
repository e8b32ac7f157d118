/**
 * Wires watches to the work queue: KCLRuns enqueue themselves when their spec (generation), their
 * `reconcile.fluxcd.io/requestedAt` annotation or their deletion changes; a source whose artifact revision changes
 * enqueues the KCLRuns that reference it, found through an index by source (never a full list).
 *
 * It also cancels work that has become moot: a deleted KCLRun's running reconcile (the finalizer runs next), and a
 * running reconcile whose source has a newer revision (it runs again at once, for the new revision — as
 * kustomize-controller cancels health checks when a new revision arrives).
 */
import type { KubeClient } from './kube/client.js';
import { REQUESTED_AT_ANNOTATION, SOURCE_KINDS, type SourceKind } from './api/group.js';
import { discoverSourceVersion } from './source-version.js';
import type { KCLRun } from './api/types.js';
import { Informer, objectKey } from './informer.js';
import { WorkQueue } from './queue.js';
import { ReconcileCancelled } from './cancel.js';
import type { Reconciler } from './reconciler.js';
import { kclRunPath, sourcePath, type FluxSource } from './store.js';
import type { Logger } from './log.js';

/** Manager settings. */
export interface ManagerOptions {
  /** Watch only this namespace (Flux's --watch-all-namespaces=false uses RUNTIME_NAMESPACE). */
  namespace?: string;
  /** Reconcile only the KCLRuns matching this label selector (`--watch-label-selector`, sharding). */
  labelSelector?: string;
  concurrency?: number;
  minRetryDelayMs?: number;
  maxRetryDelayMs?: number;
}

function sourceKey(kind: string, namespace: string, name: string): string {
  return `${kind}/${namespace}/${name}`;
}

function sourceKeyOf(k: KCLRun): string {
  const ref = k.spec.sourceRef;
  return sourceKey(ref.kind, ref.namespace ?? k.metadata.namespace, ref.name);
}

/** Runs the controller loop until stopped. */
export class Manager {
  readonly queue: WorkQueue;
  readonly #bySource = new Map<string, Set<string>>();
  readonly #informers: Informer<never>[] = [];
  #stopped = false;

  constructor(
    readonly client: KubeClient,
    readonly reconciler: Reconciler,
    readonly log: Logger,
    readonly opts: ManagerOptions = {},
  ) {
    this.queue = new WorkQueue(
      async (key, scope) => {
        const [ns, name] = key.split('/') as [string, string];
        return this.reconciler.reconcile(ns, name, scope);
      },
      {
        concurrency: opts.concurrency,
        minRetryDelayMs: opts.minRetryDelayMs,
        maxRetryDelayMs: opts.maxRetryDelayMs,
        onError: (key, err) => this.log.error('reconcile error, retrying', { kclrun: key, error: (err as Error).message }),
      },
    );
  }

  /** KCLRun keys that reference a source (for tests and debugging). */
  dependents(kind: string, namespace: string, name: string): string[] {
    return [...(this.#bySource.get(sourceKey(kind, namespace, name)) ?? [])];
  }

  #index(k: KCLRun, previous?: KCLRun): void {
    const key = objectKey(k);
    if (previous) this.#bySource.get(sourceKeyOf(previous))?.delete(key);
    const s = sourceKeyOf(k);
    if (!this.#bySource.has(s)) this.#bySource.set(s, new Set());
    this.#bySource.get(s)!.add(key);
  }

  /** Cancels the running reconcile of `key` (if any) and runs it again as soon as it has stopped. */
  #restart(key: string, reason: ReconcileCancelled): void {
    this.queue.cancel(key, reason);
    this.queue.add(key);
  }

  #unindex(k: KCLRun): void {
    this.#bySource.get(sourceKeyOf(k))?.delete(objectKey(k));
  }

  /** Starts the informers (sources first, then KCLRuns) and the queue. */
  async start(): Promise<void> {
    const kclruns = new Informer<KCLRun>(this.client, kclRunPath(this.opts.namespace), {
      onAdd: (k) => {
        this.#index(k);
        this.queue.add(objectKey(k));
      },
      onUpdate: (k, prev) => {
        this.#index(k, prev);
        const requested = k.metadata.annotations?.[REQUESTED_AT_ANNOTATION];
        if (k.metadata.deletionTimestamp && !prev.metadata.deletionTimestamp) {
          this.#restart(objectKey(k), new ReconcileCancelled('Deleted'));
        } else if (
          k.metadata.generation !== prev.metadata.generation ||
          requested !== prev.metadata.annotations?.[REQUESTED_AT_ANNOTATION]
        ) {
          this.queue.add(objectKey(k));
        }
      },
      onDelete: (k) => {
        this.#unindex(k);
        this.queue.cancel(objectKey(k), new ReconcileCancelled('Deleted'));
        this.queue.forget(objectKey(k));
      },
    }, this.log, this.opts.labelSelector);
    // Sources are listed first: a source's first sight then finds no KCLRun indexed, and each KCLRun is queued once,
    // by its own first sight. Listed the other way round, a source listed after its KCLRun was queued (or already
    // reconciling) queued it a second time: a redundant reconcile at every start, whenever the KCLRuns' list won.
    await Promise.all(SOURCE_KINDS.map((kind) => this.#startSource(kind)));
    await kclruns.start();
    this.#informers.push(kclruns as unknown as Informer<never>);
  }

  /** Starts watching one source kind; resolves after the first attempt (listed, or failed and retrying in the background). */
  #startSource(kind: SourceKind): Promise<void> {
    const onChange = (src: FluxSource, prev?: FluxSource) => {
      const rev = src.status?.artifact?.revision;
      if (!rev || rev === prev?.status?.artifact?.revision) return;
      const source = `${kind}/${src.metadata.namespace}/${src.metadata.name}`;
      for (const key of this.dependents(kind, src.metadata.namespace, src.metadata.name)) {
        this.log.debug('source revision changed', { source, revision: rev, kclrun: key });
        // A first sight of the source (start-up, relist) is no newer revision: running work is left alone.
        if (prev) this.#restart(key, new ReconcileCancelled('NewRevision', `${source} has revision ${rev}`));
        else this.queue.add(key);
      }
    };
    // The version is discovered on each attempt: a Flux upgrade (OCIRepository v1beta2 → v1) is picked up on retry.
    const attempt = async (delay: number) => {
      if (this.#stopped) return;
      const version = await discoverSourceVersion(this.client, kind);
      const informer = new Informer<FluxSource>(this.client, sourcePath(kind, this.opts.namespace, version), {
        onAdd: (s) => onChange(s),
        onUpdate: (s, prev) => onChange(s, prev),
      }, this.log);
      this.#informers.push(informer as unknown as Informer<never>);
      await informer.start().catch((err: unknown) => {
        informer.stop();
        this.#informers.splice(this.#informers.indexOf(informer as unknown as Informer<never>), 1);
        if (this.#stopped) return;
        this.log.error('cannot watch source kind, retrying', { kind, version, error: (err as Error).message });
        setTimeout(() => void attempt(Math.min(delay * 2, 60_000)), delay).unref();
      });
    };
    return attempt(1000).catch((err: unknown) => {
      this.log.error('cannot watch source kind', { kind, error: (err as Error).message });
    });
  }

  /**
   * Stops watching, cancels running reconciles with `reason` (at once, before the first await) and waits until
   * they have returned. Idempotent: a later call waits for the same reconciles.
   */
  async stop(reason = new ReconcileCancelled('Shutdown')): Promise<void> {
    this.#stopped = true;
    for (const i of this.#informers) i.stop();
    await this.queue.stop(reason);
  }
}
