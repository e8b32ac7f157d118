/**
 * Condition setters that work on any object with `status.conditions` (fluxcd/pkg/runtime/conditions, in small).
 * Pure functions: they return new condition lists; `lastTransitionTime` changes only when the status does.
 */
import { MAX_MESSAGE_LENGTH, REASON_PATTERN, type Condition, type ConditionType } from '../api/conditions.js';
import { compareStrings } from '../order.js';

/** Finds a condition by type. */
export function getCondition(conditions: readonly Condition[] | undefined, type: ConditionType): Condition | undefined {
  return conditions?.find((c) => c.type === type);
}

/** True when the condition exists with status True. */
export function isTrue(conditions: readonly Condition[] | undefined, type: ConditionType): boolean {
  return getCondition(conditions, type)?.status === 'True';
}

/** Trims a message to the API's limit (so a long KCL error can never break the status patch). */
export function clampMessage(message: string): string {
  const m = message.trim() || 'No message';
  return m.length > MAX_MESSAGE_LENGTH ? `${m.slice(0, MAX_MESSAGE_LENGTH - 16)}… (truncated)` : m;
}

/**
 * Sets a condition, keeping `lastTransitionTime` when the status is unchanged. Throws on a reason the API would
 * reject: that is a bug in this controller, not a user error.
 */
export function setCondition(
  conditions: readonly Condition[] | undefined,
  next: { type: ConditionType; status: Condition['status']; reason: string; message: string; observedGeneration?: number },
  now: Date = new Date(),
): Condition[] {
  if (!REASON_PATTERN.test(next.reason)) throw new Error(`invalid condition reason ${JSON.stringify(next.reason)}`);
  const prev = getCondition(conditions, next.type);
  const cond: Condition = {
    type: next.type,
    status: next.status,
    observedGeneration: next.observedGeneration,
    lastTransitionTime: prev && prev.status === next.status ? prev.lastTransitionTime : now.toISOString().replace(/\.\d{3}Z$/, 'Z'),
    reason: next.reason,
    message: clampMessage(next.message),
  };
  if (cond.observedGeneration === undefined) delete cond.observedGeneration;
  const rest = (conditions ?? []).filter((c) => c.type !== next.type);
  return sortConditions([...rest, cond]);
}

/** Removes a condition. */
export function deleteCondition(conditions: readonly Condition[] | undefined, type: ConditionType): Condition[] {
  return (conditions ?? []).filter((c) => c.type !== type);
}

const ORDER: Record<string, number> = { Ready: 0, Reconciling: 1, Stalled: 2, Healthy: 3 };

/** Ready first, then Reconciling, Stalled, Healthy, then others by type (as Flux prints them). */
export function sortConditions(conditions: Condition[]): Condition[] {
  return conditions.sort((a, b) => (ORDER[a.type] ?? 9) - (ORDER[b.type] ?? 9) || compareStrings(a.type, b.type));
}
