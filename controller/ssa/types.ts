/**
 * The change-set vocabulary of the cluster library (fluxcd/pkg/ssa's `ChangeSet` with typed actions).
 */
import type { ObjectRef } from '../kube/types.js';

export type { ObjectRef, JsonObject } from '../kube/types.js';

/** What happened to one object. */
export type Action = 'created' | 'configured' | 'unchanged' | 'skipped' | 'deleted';

/** One object's result. */
export interface ChangeSetEntry {
  ref: ObjectRef;
  /** Flux inventory id `<namespace>_<name>_<group>_<kind>`. */
  id: string;
  /** The version part of the API version (`v1` for `apps/v1`): the inventory's `v`. */
  version: string;
  action: Action;
  /** `Kind/namespace/name` or `Kind/name`, for messages. */
  subject: string;
}

/** An object that could not be applied (or deleted, or became not ready). */
export interface FailedObject {
  ref: ObjectRef;
  /** HTTP status when the API server answered. */
  status?: number;
  message: string;
}

/** Options of {@link applyAllStaged}. */
export interface ApplyOptions {
  /** Server-side apply field manager. */
  fieldManager: string;
  /** Re-create objects on immutable-field errors (also per object with the `…/force: enabled` annotation). */
  force?: boolean;
  /** How long to wait for stage-one/two objects to become Current, and for deletions on re-create. Default 60000. */
  waitTimeoutMs?: number;
  /** Poll interval of those waits. Default 2000 (as Flux). */
  waitIntervalMs?: number;
  /** Labels added to every applied object (the owner labels pruning relies on). */
  ownerLabels?: Record<string, string>;
  /** More field managers whose fields are taken over, besides kubectl's (Flux's `--override-manager`). */
  overrideManagers?: readonly string[];
  /** Server-side applies in flight at once within a stage. Default 4 (Flux's `--concurrent-ssa`). */
  concurrency?: number;
  signal?: AbortSignal;
}

/** Result of {@link applyAllStaged}: the change set, plus the failures when not ok. */
export type ApplyOutcome =
  | { ok: true; changes: ChangeSetEntry[] }
  | { ok: false; changes: ChangeSetEntry[]; failed: FailedObject[] };

/** kstatus-style health. */
export type HealthStatus = 'Current' | 'InProgress' | 'Failed' | 'NotFound' | 'Unknown';

/** One object's health verdict. */
export interface HealthResult {
  status: HealthStatus;
  message: string;
}
