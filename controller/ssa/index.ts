/**
 * The controller's apply/prune/health library, the TypeScript counterpart of fluxcd/pkg/ssa and kstatus.
 */
export { applyAllStaged, kindsDefinedBy } from './apply-staged.js';
export { applyObject, isImmutableError, shouldSkip } from './apply.js';
export type { ApplyObjectOptions, ObjectOutcome } from './apply.js';
export { deleteAll, pruneExclusion } from './delete.js';
export type { DeleteOptions, DeleteOutcome } from './delete.js';
export { hasDrifted, normalizeForDiff, setsOnlyLiveValues } from './diff.js';
export { changeSetEntry, inventoryId, parseInventoryId, subjectOf } from './inventory.js';
export { isClassKind, isClusterDefinition, sortObjects, stageObjects } from './stages.js';
export type { Stages } from './stages.js';
export { computeStatus } from './status.js';
export { compileHealthExprs, InvalidHealthExpressionError } from './cel-health.js';
export type { CustomHealth } from './cel-health.js';
export { objectStatus, waitForReady, waitForSetTermination, waitForTermination } from './wait.js';
export type { NotReady, WaitOptions } from './wait.js';
export type {
  Action,
  ApplyOptions,
  ApplyOutcome,
  ChangeSetEntry,
  FailedObject,
  HealthResult,
  HealthStatus,
  JsonObject,
  ObjectRef,
} from './types.js';
