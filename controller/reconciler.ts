/**
 * The KCLRun reconciler. It only sequences the stages — gates (deletion, finalizer, suspend, source, artifact,
 * dependencies), then fetch → build → apply → prune → health — and maps their outcomes to conditions, events and
 * requeue decisions, the way kustomize-controller does. A failed stage applies and prunes nothing after it.
 *
 * Every request runs under the reconcile's signal (see `cancel.ts`). A cancelled reconcile reports no verdict:
 * what a stage returns after the signal was aborted is not a failure. It writes nothing once this replica has lost
 * its lease or is shutting down; cancelled for a newer revision or a deletion, it records the inventory of what it
 * applied (so it is pruned later) and the queue runs it again at once.
 */
import { join } from 'node:path';
import type { KubeClient } from './kube/client.js';
import { applyAllStaged, changeSetEntry, compileHealthExprs, deleteAll, inventoryId, parseInventoryId, waitForReady, waitForSetTermination, type ObjectRef } from './ssa/index.js';
import { refOf } from './kube/index.js';
import { APPLY_FIELD_MANAGER, FINALIZER, KIND, REQUESTED_AT_ANNOTATION } from './api/group.js';
import { REASONS, type Reason } from './api/conditions.js';
import { deletesOnFinalize, getDeletionPolicy, getInterval, getPrune, getRetryInterval, getTimeout, sourceNamespace, type InventoryEntry, type KCLRun } from './api/types.js';
import { fetchArtifact, type FetchOptions } from './stages/fetch.js';
import { buildObjects } from './stages/render.js';
import { readRegistryAuth } from './stages/registry-auth.js';
import { targetClient, type Target } from './stages/target.js';
import { ownerLabels, prepareObjects } from './stages/prepare.js';
import { sortEntries, staleEntries, withSurvivors } from './status/inventory.js';
import { StatusWriter } from './status/writer.js';
import { objectsDigest } from './status/history.js';
import { redact, secretValues } from './status/redact.js';
import { sourceVersionFor } from './source-version.js';
import { getKCLRun, getSource, readArguments, recordEvent, setFinalizers } from './store.js';
import { specNameProblem } from './api/names.js';
import { isTrue } from './status/conditions.js';
import { cancellation, ReconcileCancelled, throwIfCancelled, uncancelled, type ReconcileScope } from './cancel.js';
import type { Logger } from './log.js';
import type { Metrics } from './metrics.js';
import type { EventNotifier } from './notify.js';
import type { JsonObject } from '../krm/index.js';
import type { EnginePool } from '../fn/worker/pool.js';

/** Controller-wide settings (Flux's flags). */
export interface ReconcilerOptions {
  /** The engine workers that render KCL (the controller never runs the engine in its own process). */
  engine: EnginePool;
  noCrossNamespaceRefs?: boolean;
  defaultServiceAccount?: string;
  /** Requeue delay while a source or dependency is not ready (default 30s). */
  requeueDependencyMs?: number;
  fetch?: FetchOptions;
  /** Jitter applied to the interval, as a fraction (default 0.05). */
  jitter?: number;
  /** Allow `exec` and `auth-provider` in remote kubeconfigs (`--insecure-kubeconfig-exec`). */
  insecureKubeconfigExec?: boolean;
  /** Allow `insecure-skip-tls-verify` and plain http in remote kubeconfigs (`--insecure-kubeconfig-tls`). */
  insecureKubeconfigTls?: boolean;
  /** Forwards events to notification-controller (`--events-addr`). */
  notifier?: EventNotifier;
  /** Field managers whose fields are taken over on apply (`--override-manager`). */
  overrideManagers?: readonly string[];
  /** Server-side applies in flight at once within a stage (`--concurrent-ssa`). */
  concurrentSsa?: number;
  /**
   * The package cache (`--kcl-pkg-cache`): each namespace's dependencies are cached in its own directory below it,
   * so a tenant never gets a package another tenant downloaded (with its own credentials, or from another registry
   * under the same name). Unset: the engine workers' environment decides.
   */
  packageCache?: string;
}

/** What the queue should do next with this KCLRun. */
export interface ReconcileResult {
  requeueAfterMs?: number;
}

/** A stage failure: Ready=False with this reason and message. */
interface Failure {
  reason: Reason;
  message: string;
  /** Configuration errors: Stalled=True and no retry. */
  stalled?: boolean;
  requeueAfterMs?: number;
}

/** Reconciles KCLRuns with the given controller client. */
export class Reconciler {
  constructor(
    readonly client: KubeClient,
    readonly log: Logger,
    readonly metrics: Metrics,
    readonly opts: ReconcilerOptions,
  ) {}

  /** Reconciles one KCLRun by key, until done or until `scope.signal` is aborted. */
  async reconcile(namespace: string, name: string, scope: ReconcileScope = uncancelled()): Promise<ReconcileResult> {
    const log = this.log.with({ kclrun: { name, namespace } });
    try {
      return await this.reconcileKey(namespace, name, scope, log);
    } catch (err) {
      const cancelled = err instanceof ReconcileCancelled ? err : cancellation(scope.signal);
      if (!cancelled) throw err;
      const detail = err === cancelled ? {} : { error: (err as Error).message };
      log.info('reconciliation cancelled', { cause: cancelled.why, ...detail });
      return {};
    }
  }

  private async reconcileKey(namespace: string, name: string, scope: ReconcileScope, log: Logger): Promise<ReconcileResult> {
    const { signal } = scope;
    const got = await getKCLRun(this.client, namespace, name, signal);
    if (!got.ok) {
      throwIfCancelled(signal);
      if (got.status === 404) return {};
      throw new Error(`get ${KIND} ${namespace}/${name}: ${got.message}`);
    }
    const k = got.body;
    const started = Date.now();
    try {
      if (k.metadata.deletionTimestamp) return await this.finalize(k, log, signal);
      if (!k.metadata.finalizers?.includes(FINALIZER)) {
        const res = await setFinalizers(this.client, k, [...(k.metadata.finalizers ?? []), FINALIZER], signal);
        if (!res.ok) {
          throwIfCancelled(signal);
          throw new Error(`add finalizer: ${res.message}`);
        }
        k.metadata = res.body.metadata;
      }
      if (k.spec.suspend) {
        log.info('reconciliation is suspended for this object');
        this.metrics.suspended(k, true);
        return {};
      }
      this.metrics.suspended(k, false);
      return await this.reconcileActive(k, log, scope);
    } finally {
      this.metrics.duration(k, (Date.now() - started) / 1000);
    }
  }

  private withJitter(ms: number): number {
    const j = this.opts.jitter ?? 0.05;
    return Math.round(ms * (1 - j + Math.random() * 2 * j));
  }

  private async reconcileActive(k: KCLRun, log: Logger, scope: ReconcileScope): Promise<ReconcileResult> {
    // Progress is first written after the gates (source, artifact, dependencies) pass, as kustomize-controller
    // does: a KCLRun waiting on a gate keeps Ready=False instead of flapping through Unknown on every requeue.
    const status = new StatusWriter(this.client, k, log, this.metrics, scope.signal, this.opts.notifier);
    // Secret values read or rendered during this reconcile; failure messages (status, Event, log) never show them.
    const secrets = new Set<string>();
    let failure: Failure | undefined;
    let stopped: unknown; // what a stage threw once cancelled (reported with the cancellation)
    try {
      failure = await this.run(k, status, log, secrets, scope.signal);
    } catch (err) {
      if (!cancellation(scope.signal)) throw err;
      stopped = err;
    }
    const cancelled = cancellation(scope.signal);
    if (cancelled) {
      if (!cancelled.ownershipLost && status.inventoryChanged) await status.record(scope.owner);
      throw stopped ?? cancelled;
    }
    if (!failure) return { requeueAfterMs: this.withJitter(getInterval(k)) };
    await status.fail(failure.reason, redact(failure.message, secrets), failure.stalled ?? false);
    if (failure.stalled) return {};
    return { requeueAfterMs: failure.requeueAfterMs ?? getRetryInterval(k) };
  }

  private dependencyDelay(): number {
    return this.opts.requeueDependencyMs ?? 30_000;
  }

  /** Runs the gates and stages; returns the first failure, or undefined after marking success. */
  private async run(k: KCLRun, status: StatusWriter, log: Logger, secrets: Set<string>, signal: AbortSignal): Promise<Failure | undefined> {
    // The CRD schema refuses these names already; a KCLRun stored under an older schema must not reach a request.
    const invalidName = specNameProblem(k.spec);
    if (invalidName) return { reason: REASONS.InvalidSpec, stalled: true, message: invalidName };
    const ns = k.metadata.namespace;
    const ref = k.spec.sourceRef;
    const srcNs = sourceNamespace(k);
    if (this.opts.noCrossNamespaceRefs && srcNs !== ns) {
      return { reason: REASONS.AccessDenied, stalled: true, message: `cannot access ${ref.kind}/${srcNs}/${ref.name}: cross-namespace references are not allowed` };
    }
    const exprs = await compileHealthExprs(k.spec.healthCheckExprs);
    if (!exprs.ok) return { reason: REASONS.InvalidCELExpression, stalled: true, message: `invalid health check expression: ${exprs.error.message}` };
    const version = await sourceVersionFor(this.client, ref.kind, ref.apiVersion);
    if ('error' in version) return { reason: REASONS.ArtifactFailed, stalled: true, message: version.error };
    const src = await getSource(this.client, ref.kind, srcNs, ref.name, signal, version.version);
    if (!src.ok) {
      const message = src.status === 404 ? `Source '${ref.kind}/${srcNs}/${ref.name}' not found` : `cannot get source: ${src.message}`;
      return { reason: REASONS.ArtifactFailed, message, requeueAfterMs: this.dependencyDelay() };
    }
    const artifact = src.body.status?.artifact;
    if (!artifact?.url) {
      return { reason: REASONS.ArtifactFailed, message: `Source '${ref.kind}/${srcNs}/${ref.name}' is not ready, artifact not found`, requeueAfterMs: this.dependencyDelay() };
    }
    for (const dep of k.spec.dependsOn ?? []) {
      const depNs = dep.namespace ?? ns;
      if (this.opts.noCrossNamespaceRefs && depNs !== ns) {
        return { reason: REASONS.AccessDenied, stalled: true, message: `cannot depend on ${KIND}/${depNs}/${dep.name}: cross-namespace references are not allowed` };
      }
      const d = await getKCLRun(this.client, depNs, dep.name, signal);
      const ready = d.ok && isTrue(d.body.status?.conditions, 'Ready') && d.body.status?.observedGeneration === d.body.metadata.generation;
      if (!ready) {
        return { reason: REASONS.DependencyNotReady, message: `dependency '${depNs}/${dep.name}' is not ready`, requeueAfterMs: this.dependencyDelay() };
      }
    }
    const revision = artifact.revision;
    status.attempt(revision);
    await status.progressing(`Fetching manifests for revision ${revision} with a timeout of ${Math.round(getTimeout(k) / 1000)}s`);
    const fetched = await fetchArtifact(artifact, { ...this.opts.fetch, signal });
    if (!fetched.ok) {
      return { reason: REASONS.ArtifactFailed, message: fetched.message, requeueAfterMs: fetched.notFound ? this.dependencyDelay() : undefined };
    }
    try {
      return await this.applyRevision(k, status, log, fetched.dir, revision, secrets, signal);
    } finally {
      await fetched.cleanup();
    }
  }

  private async applyRevision(
    k: KCLRun,
    status: StatusWriter,
    log: Logger,
    dir: string,
    revision: string,
    secrets: Set<string>,
    signal: AbortSignal,
  ): Promise<Failure | undefined> {
    await status.progressing(`Building manifests for revision ${revision}`);
    const args = await readArguments(this.client, k, signal);
    if (!args.ok) return { reason: REASONS.BuildFailed, message: args.message };
    for (const s of args.secrets) secrets.add(s);
    // A missing Secret is retried at the retry interval (no watch on Secrets notices the tenant's fix).
    const registry = await readRegistryAuth(this.client, k, signal);
    if (!registry.ok) return { reason: REASONS.BuildFailed, message: registry.message };
    for (const s of registry.secrets) secrets.add(s);
    const cache = this.opts.packageCache;
    const buildStarted = performance.now();
    const built = await buildObjects(dir, k.spec.path, k.spec.config, args.args, {
      packages: { ...(cache !== undefined && { cache: join(cache, k.metadata.namespace) }), dockerConfig: registry.dockerConfig },
      engine: this.opts.engine,
      params: k.spec.params,
      signal, // a cancelled reconcile kills its render's worker
      timeoutMs: getTimeout(k),
      timeoutSetBy: k.spec.timeout ? "the KCLRun's spec.timeout" : "the KCLRun's default spec.timeout",
    });
    if (!built.ok) return { reason: REASONS.BuildFailed, message: built.message };
    log.debug('manifests built', { revision, objects: built.objects.length, durationMs: Math.round(performance.now() - buildStarted) });
    for (const s of secretValues(built.objects)) secrets.add(s);

    throwIfCancelled(signal);
    const target = await this.clientFor(k, signal);
    if ('reason' in target) return target;
    try {
      return await this.applyObjects(k, status, log, target.client, built.objects, revision, signal);
    } finally {
      target.dispose();
    }
  }

  /** Prepare → staged apply → prune → health → Ready, with `target` (the KCLRun's identity and cluster). */
  private async applyObjects(
    k: KCLRun,
    status: StatusWriter,
    log: Logger,
    target: KubeClient,
    objects: JsonObject[],
    revision: string,
    signal: AbortSignal,
  ): Promise<Failure | undefined> {
    const timeoutS = Math.round(getTimeout(k) / 1000);
    const prepared = await prepareObjects(k, objects, async (apiVersion, kind) => (await target.mapping(apiVersion, kind))?.namespaced);
    if (!prepared.ok) return { reason: REASONS.BuildFailed, message: prepared.message };
    status.recordHistory(objectsDigest(prepared.objects), { revision });

    const previous = k.status?.inventory?.entries ?? [];
    // Record what is about to be applied before applying it (with the progressing patch): a controller killed
    // mid-apply leaves no object outside the inventory, so a later revision that drops it still prunes it.
    status.inventory(withSurvivors(previous, intendedEntries(prepared.objects)));
    await status.progressing(`Detecting drift for revision ${revision} with a timeout of ${timeoutS}s`);
    const owner = ownerLabels(k);
    const applyStarted = performance.now();
    const applied = await applyAllStaged(target, prepared.objects, {
      fieldManager: APPLY_FIELD_MANAGER,
      force: k.spec.force ?? false,
      waitTimeoutMs: getTimeout(k),
      ownerLabels: owner,
      signal,
      overrideManagers: this.opts.overrideManagers,
      concurrency: this.opts.concurrentSsa,
    });
    const applyMs = Math.round(performance.now() - applyStarted);
    const current = sortEntries(
      applied.changes.filter((c) => c.action !== 'skipped').map((c): InventoryEntry => ({ id: c.id, v: c.version })),
    );
    const changed = applied.changes.filter((c) => c.action === 'created' || c.action === 'configured');
    if (!applied.ok) {
      // Keep what was applied in the inventory (so it is pruned later) plus everything from before.
      status.inventory(withSurvivors(current, previous));
      throwIfCancelled(signal); // objects that were not attempted are no failure
      const message = applied.failed.map((f) => f.message).join('; ');
      return { reason: REASONS.ReconciliationFailed, message: `apply failed: ${message}` };
    }
    if (changed.length) {
      const summary = changed.map((c) => `${c.subject} ${c.action}`).join('\n');
      log.info('server-side apply completed', { revision, durationMs: applyMs, changes: Object.fromEntries(changed.map((c) => [c.subject, c.action])) });
      await status.event('Normal', REASONS.Progressing, summary, revision);
    }

    let inventory = current;
    if (getPrune(k)) {
      const stale = staleEntries(previous, current);
      if (stale.length) {
        const pruned = await deleteAll(target, stale.map((e) => parseInventoryId(e.id, e.v)), { ownerLabels: owner, signal });
        const failedIds = new Set(pruned.failed.map((f) => inventoryId(f.ref)));
        inventory = withSurvivors(current, stale.filter((e) => failedIds.has(e.id)));
        status.inventory(inventory);
        throwIfCancelled(signal);
        if (pruned.deleted.length) {
          await status.event('Normal', REASONS.Progressing, pruned.deleted.map((d) => `${d.subject} deleted`).join('\n'), revision);
          log.info('garbage collection completed', { revision, deleted: pruned.deleted.map((d) => d.subject) });
        }
        if (pruned.failed.length) {
          return { reason: REASONS.PruneFailed, message: `prune failed: ${pruned.failed.map((f) => f.message).join('; ')}` };
        }
      }
    }
    status.inventory(inventory);

    const checks = this.healthTargets(k, applied.changes.filter((c) => c.action !== 'skipped').map((c) => c.ref));
    if (checks.length) {
      await status.progressing(`Running health checks for revision ${revision} with a timeout of ${timeoutS}s`);
      const exprs = await compileHealthExprs(k.spec.healthCheckExprs);
      const health = await waitForReady(target, checks, { timeoutMs: getTimeout(k), signal, custom: exprs.ok ? exprs.health : undefined });
      throwIfCancelled(signal); // a cancelled wait is no health verdict
      if (!health.ok) {
        const list = health.notReady.map((n) => `${n.ref.kind}/${n.ref.namespace ? `${n.ref.namespace}/` : ''}${n.ref.name} status: '${n.status}'${n.message ? ` (${n.message})` : ''}`);
        status.healthy(false, `health check failed after ${timeoutS}s: ${list.join(', ')}`);
        return { reason: REASONS.HealthCheckFailed, message: `health check failed after ${timeoutS}s: timeout waiting for: [${list.join(', ')}]` };
      }
      status.healthy(true, 'Health check passed');
    }
    await status.succeed(revision, this.requestedAt(k));
    return undefined;
  }

  private healthTargets(k: KCLRun, applied: ObjectRef[]): ObjectRef[] {
    const refs: ObjectRef[] = k.spec.wait ? [...applied] : [];
    for (const h of k.spec.healthChecks ?? []) {
      refs.push({ apiVersion: h.apiVersion ?? 'v1', kind: h.kind, name: h.name, namespace: h.namespace ?? k.metadata.namespace });
    }
    return refs;
  }

  private requestedAt(k: KCLRun): string | undefined {
    return k.metadata.annotations?.[REQUESTED_AT_ANNOTATION];
  }

  /**
   * The client that applies for this KCLRun (see stages/target.ts). A refused kubeconfig is retried at the retry
   * interval like any other failure (as Flux does): no watch on Secrets exists to notice the tenant's fix.
   */
  private async clientFor(k: KCLRun, signal: AbortSignal): Promise<Target | Failure> {
    const target = await targetClient(this.client, k, {
      defaultServiceAccount: this.opts.defaultServiceAccount,
      allowExec: this.opts.insecureKubeconfigExec,
      allowInsecureTls: this.opts.insecureKubeconfigTls,
      signal,
    });
    throwIfCancelled(signal);
    if ('message' in target) return { reason: REASONS.ReconciliationFailed, message: target.message };
    return target;
  }

  /**
   * Deletion, by `deletionPolicy` (kustomize-controller's rules): delete the inventory's objects (MirrorPrune when
   * prune is on, Delete, WaitForTermination; never when suspended), for WaitForTermination also wait until they are
   * gone (within the timeout; then log, warn and go on), then release the finalizer. A failed delete is retried.
   */
  private async finalize(k: KCLRun, log: Logger, signal: AbortSignal): Promise<ReconcileResult> {
    if (deletesOnFinalize(k) && k.status?.inventory?.entries.length) {
      const invalidName = specNameProblem(k.spec);
      const target = invalidName ? { reason: REASONS.InvalidSpec, message: invalidName } : await this.clientFor(k, signal);
      if ('reason' in target) {
        log.error('cannot prune on deletion, objects are left in place', { reason: target.message });
      } else {
        try {
          const refs = k.status.inventory.entries.map((e) => parseInventoryId(e.id, e.v));
          const pruned = await deleteAll(target.client, refs, { ownerLabels: ownerLabels(k), terminating: 'deleted', signal });
          throwIfCancelled(signal);
          if (pruned.failed.length) {
            log.error('prune on deletion failed', { failed: pruned.failed.map((f) => `${f.ref.kind}/${f.ref.name}: ${f.message}`) });
            return { requeueAfterMs: getRetryInterval(k) };
          }
          log.info('pruned objects on deletion', { deleted: pruned.deleted.map((d) => d.subject) });
          if (getDeletionPolicy(k) === 'WaitForTermination' && pruned.deleted.length) {
            const gone = await waitForSetTermination(target.client, pruned.deleted.map((d) => d.ref), { timeoutMs: getTimeout(k), intervalMs: 1000, signal });
            throwIfCancelled(signal);
            if (!gone.ok) {
              log.error('failed to wait for resources termination', { error: gone.message });
              await recordEvent(this.client, k, 'Warning', REASONS.PruneFailed, `failed to wait for resources termination: ${gone.message}`).catch((err: unknown) =>
                log.error('cannot record event', { error: (err as Error).message }),
              );
            }
          }
        } finally {
          target.dispose();
        }
      }
    }
    const res = await setFinalizers(this.client, k, (k.metadata.finalizers ?? []).filter((f) => f !== FINALIZER), signal);
    throwIfCancelled(signal);
    if (!res.ok && res.status !== 404) throw new Error(`remove finalizer: ${res.message}`);
    this.metrics.forget(k);
    return {};
  }
}

/** The inventory entries of the objects about to be applied. */
function intendedEntries(objects: readonly JsonObject[]): InventoryEntry[] {
  return objects.map((o) => changeSetEntry(refOf(o), 'unchanged')).map((c) => ({ id: c.id, v: c.version }));
}
