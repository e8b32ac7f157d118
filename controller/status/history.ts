/**
 * `status.history` (Flux's `meta.History`): one snapshot per distinct (digest, status), most recent first, at most
 * {@link HISTORY_MAX_SIZE}. A reconciliation whose objects and outcome match an earlier snapshot updates it (count,
 * last time, duration, metadata) and moves it to the front. The digest is `sha256:` of the objects applied, so it
 * changes when what lands in the cluster changes, whatever the source revision. Pure.
 */
import { createHash } from 'node:crypto';
import type { JsonObject, JsonValue } from '../../krm/index.js';
import { HISTORY_MAX_SIZE, type HistorySnapshot } from '../api/types.js';

/** One reconciliation's outcome, to record. */
export interface HistoryRecord {
  digest: string;
  at: Date;
  durationMs: number;
  /** The Ready reason (ReconciliationSucceeded, HealthCheckFailed...). */
  status: string;
  metadata: Record<string, string>;
}

/** JSON with object keys sorted, so the digest does not depend on key order. */
function canonical(v: JsonValue): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object') {
    return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${canonical(v[k] as JsonValue)}`).join(',')}}`;
  }
  return JSON.stringify(v);
}

/** `sha256:<hex>` of `objects` (in order, keys sorted). */
export function objectsDigest(objects: readonly JsonObject[]): string {
  const h = createHash('sha256');
  for (const o of objects) h.update(canonical(o)).update('\n');
  return `sha256:${h.digest('hex')}`;
}

/** A duration as Go's `time.Duration.String()` prints it (`1m2.5s`, `812ms`, `0s`), as metav1.Duration is stored. */
export function goDuration(ms: number): string {
  const total = Math.max(0, Math.round(ms));
  if (total === 0) return '0s';
  if (total < 1000) return `${total}ms`;
  const h = Math.floor(total / 3_600_000);
  const m = Math.floor((total % 3_600_000) / 60_000);
  const s = (total % 60_000) / 1000;
  const sec = `${Number.isInteger(s) ? s : s.toFixed(3).replace(/0+$/, '')}s`;
  return `${h ? `${h}h` : ''}${h || m ? `${m}m` : ''}${sec}`;
}

/** The history with `rec` upserted (a new array; the input is not changed). */
export function upsertHistory(history: readonly HistorySnapshot[] | undefined, rec: HistoryRecord): HistorySnapshot[] {
  const at = rec.at.toISOString().replace(/\.\d{3}Z$/, 'Z');
  const out = [...(history ?? [])];
  const i = out.findIndex((s) => s.digest === rec.digest && s.lastReconciledStatus === rec.status);
  const update = { lastReconciled: at, lastReconciledDuration: goDuration(rec.durationMs), metadata: { ...rec.metadata } };
  if (i >= 0) {
    const [found] = out.splice(i, 1);
    out.unshift({ ...found!, ...update, totalReconciliations: found!.totalReconciliations + 1 });
  } else {
    out.unshift({ digest: rec.digest, firstReconciled: at, lastReconciledStatus: rec.status, totalReconciliations: 1, ...update });
  }
  return out.slice(0, HISTORY_MAX_SIZE);
}
