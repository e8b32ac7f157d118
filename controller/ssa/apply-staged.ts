/**
 * Staged apply (fluxcd/pkg/ssa `ApplyAllStaged`): CRDs, Namespaces and ClusterRoles first and wait until they are
 * Current; then `*Class` kinds, and wait; then everything else. Within a stage every object is attempted; a stage
 * with failures stops the later stages (their objects are not attempted and not reported). Each stage reads its live
 * objects with LISTs per kind and namespace where that saves GETs (`live.ts`: first by the owner labels).
 */
import type { KubeClient } from '../kube/client.js';
import { applyObject } from './apply.js';
import { listLive } from './live.js';
import { mapLimit } from './meta.js';
import { stageObjects } from './stages.js';
import { subjectOf } from './inventory.js';
import type { ApplyOptions, ApplyOutcome, ChangeSetEntry, FailedObject, JsonObject } from './types.js';
import { waitForReady } from './wait.js';

/** `apiVersion|kind` of every version served by the CRDs among `objects`. */
export function kindsDefinedBy(objects: readonly JsonObject[]): Set<string> {
  const kinds = new Set<string>();
  for (const o of objects) {
    if (o['kind'] !== 'CustomResourceDefinition') continue;
    const spec = (o['spec'] ?? {}) as { group?: string; names?: { kind?: string }; versions?: { name?: string }[] };
    for (const v of spec.versions ?? []) kinds.add(`${spec.group}/${v.name}|${spec.names?.kind}`);
  }
  return kinds;
}

/** Applies `objects` in stages; see the module comment. */
export async function applyAllStaged(client: KubeClient, objects: JsonObject[], opts: ApplyOptions): Promise<ApplyOutcome> {
  const stages = stageObjects(objects);
  const pendingKinds = kindsDefinedBy(stages.definitions);
  const changes: ChangeSetEntry[] = [];
  const steps: [JsonObject[], boolean][] = [
    [stages.definitions, true],
    [stages.classes, true],
    [stages.rest, false],
  ];
  for (const [stage, wait] of steps) {
    if (stage.length === 0) continue;
    const failed: FailedObject[] = [];
    const known = await listLive(client, stage, { signal: opts.signal, ownerLabels: opts.ownerLabels });
    const objectOpts = { ...opts, pendingKinds, known };
    const results = await mapLimit(stage, opts.concurrency ?? 4, (o) => applyObject(client, o, objectOpts));
    for (const r of results) {
      if (r.ok) changes.push(r.entry);
      else failed.push(r.status ? { ref: r.ref, status: r.status, message: r.message } : { ref: r.ref, message: r.message });
    }
    if (failed.length > 0) return { ok: false, changes, failed };
    if (!wait) continue;
    const refs = results.flatMap((r) => (r.ok && r.entry.action !== 'skipped' ? [r.entry.ref] : []));
    const ready = await waitForReady(client, refs, {
      timeoutMs: opts.waitTimeoutMs ?? 60_000,
      intervalMs: opts.waitIntervalMs ?? 2000,
      signal: opts.signal,
    });
    if (!ready.ok) {
      const notReady = ready.notReady.map((n) => ({ ref: n.ref, message: `${subjectOf(n.ref)} not ready: ${n.status}: ${n.message}` }));
      return { ok: false, changes, failed: notReady };
    }
  }
  return { ok: true, changes };
}
