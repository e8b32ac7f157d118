/**
 * Pruning (fluxcd/pkg/ssa `DeleteAll`): delete, with background propagation, only objects that still carry the
 * owner labels and are not excluded by annotation. A 404 (or a kind no longer served) counts as deleted; an object
 * that is still there after the delete (a finalizer holds it) counts as failed, so it stays in the inventory and the
 * next reconcile looks at it again.
 */
import { DISABLED, PRUNE_ANNOTATION, RECONCILE_ANNOTATION, SSA_ANNOTATION, SSA_IGNORE } from '../api/group.js';
import type { KubeClient } from '../kube/client.js';
import { changeSetEntry, subjectOf } from './inventory.js';
import { hasLabels, mapLimit, metadataValue } from './meta.js';
import type { ChangeSetEntry, JsonObject, ObjectRef } from './types.js';

/** Options of {@link deleteAll}. */
export interface DeleteOptions {
  /** Only objects carrying all of these labels are deleted; an empty selector deletes nothing. */
  ownerLabels: Record<string, string>;
  /** Deletes in flight at once; default 4. */
  concurrency?: number;
  /**
   * What an object a finalizer still holds after its delete counts as: `failed` (default: a prune keeps it in the
   * inventory and looks again next time) or `deleted` (a KCLRun's own deletion: the delete was issued, as Flux
   * counts it; `WaitForTermination` then waits for it to go).
   */
  terminating?: 'failed' | 'deleted';
  signal?: AbortSignal;
}

/** Result of {@link deleteAll}. */
export interface DeleteOutcome {
  deleted: ChangeSetEntry[];
  skipped: ChangeSetEntry[];
  failed: { ref: ObjectRef; message: string }[];
}

type One = { kind: 'deleted' | 'skipped'; entry: ChangeSetEntry } | { kind: 'failed'; ref: ObjectRef; message: string };

/** Why a live object must not be pruned, if it must not. */
export function pruneExclusion(live: JsonObject, ownerLabels: Record<string, string>): string | undefined {
  if (!hasLabels(live, ownerLabels)) return 'not labelled by this owner';
  if (metadataValue(live, PRUNE_ANNOTATION) === DISABLED) return `${PRUNE_ANNOTATION}: ${DISABLED}`;
  if (metadataValue(live, RECONCILE_ANNOTATION) === DISABLED) return `${RECONCILE_ANNOTATION}: ${DISABLED}`;
  if (metadataValue(live, SSA_ANNOTATION) === SSA_IGNORE) return `${SSA_ANNOTATION}: ${SSA_IGNORE}`;
  return undefined;
}

/**
 * Why a deleted object is still there, if a finalizer of its metadata holds it. An object that is only being
 * removed by the API server itself (a Namespace emptying out, whose finalizer is in `spec`) counts as deleted.
 */
function terminating(obj: unknown): string | undefined {
  const meta = (obj as { metadata?: { deletionTimestamp?: unknown; finalizers?: unknown } } | undefined)?.metadata;
  if (!meta?.deletionTimestamp) return undefined;
  const finalizers = Array.isArray(meta.finalizers) ? meta.finalizers.filter((f) => typeof f === 'string') : [];
  return finalizers.length ? `is terminating, waiting for finalizers [${finalizers.join(', ')}]` : undefined;
}

async function deleteOne(client: KubeClient, ref: ObjectRef, opts: DeleteOptions): Promise<One> {
  const live = await client.get(ref, { signal: opts.signal });
  if (!live.ok) {
    if (live.status === 404) return { kind: 'deleted', entry: changeSetEntry(ref, 'deleted') };
    return { kind: 'failed', ref, message: `${subjectOf(ref)} query failed: ${live.message}` };
  }
  if (pruneExclusion(live.body, opts.ownerLabels) !== undefined) return { kind: 'skipped', entry: changeSetEntry(ref, 'skipped') };
  const res = await client.delete(ref, { propagationPolicy: 'Background', signal: opts.signal });
  if (!res.ok && res.status !== 404) return { kind: 'failed', ref, message: `${subjectOf(ref)} delete failed: ${res.message}` };
  const held = res.ok ? terminating(res.body) : undefined;
  if (held && opts.terminating !== 'deleted') return { kind: 'failed', ref, message: `${subjectOf(ref)} ${held}` };
  return { kind: 'deleted', entry: changeSetEntry(ref, 'deleted') };
}

/** Deletes the objects of `entries` that this owner may prune; reports deleted, skipped and failed objects. */
export async function deleteAll(client: KubeClient, entries: ObjectRef[], opts: DeleteOptions): Promise<DeleteOutcome> {
  const out: DeleteOutcome = { deleted: [], skipped: [], failed: [] };
  const results = await mapLimit(entries, opts.concurrency ?? 4, (ref) => deleteOne(client, ref, opts));
  for (const r of results) {
    if (r.kind === 'failed') out.failed.push({ ref: r.ref, message: r.message });
    else out[r.kind].push(r.entry);
  }
  return out;
}
