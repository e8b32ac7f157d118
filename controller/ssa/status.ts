/**
 * kstatus-style health of one object: generic checks (deletion, observedGeneration, Reconciling/Stalled), then the
 * kind's rule, then the generic `Ready` condition. Pure.
 */
import { splitApiVersion } from '../kube/types.js';
import { asObject } from './meta.js';
import { RULES, conditions, field } from './status-rules.js';
import type { CustomHealth } from './cel-health.js';
import type { HealthResult, JsonObject } from './types.js';

/** Kinds that are Current as soon as they exist. */
const ALWAYS_CURRENT = new Set(['ConfigMap', 'Secret', 'ServiceAccount']);

/** The health of `obj` as the API server returned it; `custom` (CEL expressions) replaces kstatus for its kinds. */
export function computeStatus(obj: JsonObject, custom?: CustomHealth): HealthResult {
  const kind = String(obj['kind'] ?? '');
  const { group } = splitApiVersion(String(obj['apiVersion'] ?? ''));
  const own = custom?.get(group === '' ? kind : `${group}/${kind}`);
  if (own) return own(obj);
  const md = asObject(obj['metadata']);
  if (md?.['deletionTimestamp']) return { status: 'InProgress', message: 'Resource scheduled for deletion' };
  const generation = field(obj, 'metadata.generation');
  const observed = field(obj, 'status.observedGeneration');
  if (typeof generation === 'number' && typeof observed === 'number' && generation !== observed) {
    return { status: 'InProgress', message: `${kind} generation is ${generation}, but latest observed generation is ${observed}` };
  }
  const conds = conditions(obj);
  for (const c of conds) {
    if (c.type === 'Reconciling' && c.status === 'True') return { status: 'InProgress', message: c.message || c.reason || 'Reconciling' };
    if (c.type === 'Stalled' && c.status === 'True') return { status: 'Failed', message: c.message || c.reason || 'Stalled' };
  }
  if (group === '' && ALWAYS_CURRENT.has(kind)) return { status: 'Current', message: 'Resource is always ready' };
  const rule = RULES[group === '' ? kind : `${group}/${kind}`];
  if (rule) return rule(obj);
  const ready = conds.find((c) => c.type === 'Ready');
  if (ready) {
    if (ready.status === 'True') return { status: 'Current', message: ready.message || 'Resource is Ready' };
    return { status: 'InProgress', message: ready.message || ready.reason || 'Resource not ready' };
  }
  return { status: 'Current', message: 'Resource is current' };
}
