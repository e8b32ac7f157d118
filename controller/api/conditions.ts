/**
 * Condition types and reasons, Flux's names (fluxcd/pkg/apis/meta), declared once as string-literal unions.
 */

/** Condition types a KCLRun carries. */
export const CONDITION_TYPES = {
  Ready: 'Ready',
  Reconciling: 'Reconciling',
  Stalled: 'Stalled',
  Healthy: 'Healthy',
} as const;
/** One of {@link CONDITION_TYPES}. */
export type ConditionType = (typeof CONDITION_TYPES)[keyof typeof CONDITION_TYPES];

/** The conditions this controller owns (and overwrites on every status patch). */
export const OWNED_CONDITIONS: readonly ConditionType[] = ['Ready', 'Reconciling', 'Stalled', 'Healthy'];

/** Condition reasons. Each matches the API's reason pattern `^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$`. */
export const REASONS = {
  ReconciliationSucceeded: 'ReconciliationSucceeded',
  ReconciliationFailed: 'ReconciliationFailed',
  ArtifactFailed: 'ArtifactFailed',
  BuildFailed: 'BuildFailed',
  HealthCheckFailed: 'HealthCheckFailed',
  DependencyNotReady: 'DependencyNotReady',
  PruneFailed: 'PruneFailed',
  Progressing: 'Progressing',
  ProgressingWithRetry: 'ProgressingWithRetry',
  AccessDenied: 'AccessDenied',
  Succeeded: 'Succeeded',
  Suspended: 'Suspended',
  SourceNotReady: 'SourceNotReady',
  InvalidSpec: 'InvalidSpec',
  InvalidCELExpression: 'InvalidCELExpression',
} as const;
/** One of {@link REASONS}. */
export type Reason = (typeof REASONS)[keyof typeof REASONS];

/** A Kubernetes `metav1.Condition`. */
export interface Condition {
  type: ConditionType | string;
  status: 'True' | 'False' | 'Unknown';
  observedGeneration?: number;
  lastTransitionTime: string;
  reason: string;
  message: string;
}

/** The reason pattern the API server enforces for conditions. */
export const REASON_PATTERN = /^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$/;
/** The API's limit on condition messages. */
export const MAX_MESSAGE_LENGTH = 32768;
