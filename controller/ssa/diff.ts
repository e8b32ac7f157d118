/**
 * Drift detection: compares the dry-run result of a server-side apply with the live object (fluxcd/pkg/ssa
 * `hasDrifted`). Server-maintained metadata and `status` are ignored. Pure.
 */
import type { JsonObject, JsonValue } from '../kube/types.js';
import { jsonEqual } from '../../krm/index.js';
import { asObject } from './meta.js';

/** Metadata the server maintains, ignored by the comparison. */
const IGNORED_METADATA = [
  'managedFields',
  'resourceVersion',
  'generation',
  'creationTimestamp',
  'uid',
  'selfLink',
] as const;

/** `obj` without `status` and the server-maintained metadata. */
export function normalizeForDiff(obj: JsonObject): JsonObject {
  const copy: JsonObject = { ...obj };
  delete copy['status'];
  const md = asObject(copy['metadata']);
  if (md) {
    const m: JsonObject = { ...md };
    for (const k of IGNORED_METADATA) delete m[k];
    copy['metadata'] = m;
  }
  return copy;
}

/** True when applying would change the live object, judged from the dry-run result. */
export function hasDrifted(live: JsonObject, dryRun: JsonObject): boolean {
  return !jsonEqual(normalizeForDiff(live), normalizeForDiff(dryRun));
}

/**
 * True when every field `desired` sets holds the same value in `live` (lists compared whole). False means applying
 * `desired` would, as far as JSON can tell, change the object: a dry-run could only confirm it. True says nothing
 * either way (fields our manager gave up are removed by the apply): the dry-run decides.
 */
export function setsOnlyLiveValues(desired: JsonValue | undefined, live: JsonValue | undefined): boolean {
  if (desired === null || typeof desired !== 'object' || Array.isArray(desired)) return jsonEqual(desired, live);
  if (live === null || typeof live !== 'object' || Array.isArray(live)) return false;
  return Object.entries(desired).every(([k, v]) => Object.hasOwn(live, k) && setsOnlyLiveValues(v, live[k]));
}
