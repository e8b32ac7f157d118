/**
 * The KCLRun API types (`krm.kcl.dev.fluxcd/v1alpha1`), defined once. The CRD schema in `crd.ts` is typed against
 * these interfaces, so a field cannot be added here without its schema (and vice versa). Defaulting getters live
 * beside the types.
 */
import type { KclConfigSpec } from '../../fn/api.js';
import type { JsonObject } from '../../krm/index.js';
import type { Condition } from './conditions.js';
import type { ArgumentsKind, SourceKind } from './group.js';

/** A reference to a Flux source. */
export interface SourceReference {
  apiVersion?: string;
  kind: SourceKind;
  name: string;
  /** Defaults to the KCLRun's namespace. */
  namespace?: string;
}

/** A KCLRun this one depends on. */
export interface DependencyReference {
  name: string;
  namespace?: string;
}

/** An object whose health is checked. */
export interface HealthCheckReference {
  apiVersion?: string;
  kind: string;
  name: string;
  namespace?: string;
}

/**
 * A remote cluster to apply to: exactly one of a kubeconfig in a Secret (`secretRef`), or Flux's provider-based
 * ConfigMap (`configMapRef`: keys provider=generic, address, ca.crt, serviceAccountName, audiences).
 */
export interface KubeConfigReference {
  secretRef?: { name: string; key?: string };
  configMapRef?: { name: string };
}

/** An object in the KCLRun's own namespace, by name (no namespace field: another namespace cannot be named). */
export interface LocalObjectReference {
  name: string;
}

/** Labels and annotations added to every applied object. */
export interface CommonMetadata {
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

/** A ConfigMap or Secret whose data become `-D key=value` arguments. */
export interface ArgumentsReference {
  kind: ArgumentsKind;
  name: string;
  /** When true, a missing object is not an error. */
  optional?: boolean;
}

/** The `kcl run` options of a KCLRun: the function's config minus the local-only fields. */
export type KCLRunConfig = Pick<
  KclConfigSpec,
  'arguments' | 'settings' | 'overrides' | 'pathSelectors' | 'vendor' | 'sortKeys' | 'showHidden' | 'disableNone' | 'debug' | 'strictRangeCheck'
>;

/** What happens to the applied objects when the KCLRun is deleted (kustomize-controller's values). */
export const DELETION_POLICIES = ['MirrorPrune', 'Delete', 'WaitForTermination', 'Orphan'] as const;
/** One of {@link DELETION_POLICIES}. */
export type DeletionPolicy = (typeof DELETION_POLICIES)[number];

/** CEL expressions that compute the health of one apiVersion/kind (Flux's `CustomHealthCheck`). */
export interface HealthCheckExpressions {
  apiVersion: string;
  kind: string;
  /** True when the object is healthy (required). */
  current: string;
  /** True while the object is progressing (evaluated first). */
  inProgress?: string;
  /** True when the object has failed (evaluated second). */
  failed?: string;
}

/** One `status.history` entry (Flux's `meta.Snapshot`). */
export interface HistorySnapshot {
  /** `sha256:<hex>` of the objects applied. */
  digest: string;
  firstReconciled: string;
  lastReconciled: string;
  /** A Go duration, e.g. `2.81s`. */
  lastReconciledDuration: string;
  /** The Ready reason of that reconciliation. */
  lastReconciledStatus: string;
  totalReconciliations: number;
  /** `revision` (and `originRevision` when the source has one). */
  metadata?: Record<string, string>;
}

/** `spec` of a KCLRun. Only `sourceRef` is required. */
export interface KCLRunSpec {
  sourceRef: SourceReference;
  /** Reconcile interval (default 10m); a source change triggers at once regardless. */
  interval?: string;
  /** Interval after a failure (default: interval). */
  retryInterval?: string;
  /** Timeout for the render, apply and health checks (default: interval − 30s, at least 30s, at most 5m); `--render-timeout` also caps the render. */
  timeout?: string;
  /** Path of the KCL package in the artifact (default: root). */
  path?: string;
  /** Prune objects removed from the KCL output (default true). */
  prune?: boolean;
  healthChecks?: HealthCheckReference[];
  /** Wait for every applied object to become ready. */
  wait?: boolean;
  dependsOn?: DependencyReference[];
  suspend?: boolean;
  /** Re-create objects whose immutable fields changed. */
  force?: boolean;
  /** Namespace of every namespaced object (overrides the rendered one, as kustomize's `namespace`). */
  targetNamespace?: string;
  /** What deleting the KCLRun does to its objects (default MirrorPrune: delete them iff prune). */
  deletionPolicy?: DeletionPolicy;
  /** CEL health expressions for custom resources kstatus does not understand. */
  healthCheckExprs?: HealthCheckExpressions[];
  /** Impersonate this ServiceAccount of the KCLRun's namespace. */
  serviceAccountName?: string;
  kubeConfig?: KubeConfigReference;
  commonMetadata?: CommonMetadata;
  config?: KCLRunConfig;
  /** `option("params")` of the KCL program, as in the KRM function and krm-kcl. */
  params?: JsonObject;
  argumentsReferences?: ArgumentsReference[];
  /**
   * A `kubernetes.io/dockerconfigjson` Secret in this namespace: its `auths` are the registry credentials of the
   * KCL package's dependency downloads (default: anonymous).
   */
  registrySecretRef?: LocalObjectReference;
}

/** One applied object: `id` is `<namespace>_<name>_<group>_<kind>`, `v` its version. */
export interface InventoryEntry {
  id: string;
  v: string;
}

/** `status` of a KCLRun. */
export interface KCLRunStatus {
  observedGeneration?: number;
  conditions?: Condition[];
  lastAppliedRevision?: string;
  lastAttemptedRevision?: string;
  lastHandledReconcileAt?: string;
  inventory?: { entries: InventoryEntry[] };
  /** The last reconciliations, most recent first (at most {@link HISTORY_MAX_SIZE}). */
  history?: HistorySnapshot[];
}

/** How many `status.history` entries are kept (Flux's HistoryMaxSize). */
export const HISTORY_MAX_SIZE = 5;

/** A KCLRun object. */
export interface KCLRun {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace: string;
    uid?: string;
    generation?: number;
    resourceVersion?: string;
    deletionTimestamp?: string;
    finalizers?: string[];
    annotations?: Record<string, string>;
    labels?: Record<string, string>;
  };
  spec: KCLRunSpec;
  status?: KCLRunStatus;
}

/** Defaults, documented in the CRD and README. */
export const DEFAULTS = {
  interval: '10m',
  prune: true,
  timeoutMinMs: 30_000,
  timeoutMaxMs: 5 * 60_000,
} as const;

/** Parses a Go duration (`1h2m3.5s`, `500ms`) into milliseconds; undefined when invalid. */
export function parseDuration(s: string | undefined): number | undefined {
  if (!s) return undefined;
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h)/gy;
  let total = 0;
  let m: RegExpExecArray | null;
  let end = 0;
  while ((m = re.exec(s))) {
    total += Number(m[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] as 'ms' | 's' | 'm' | 'h'];
    end = re.lastIndex;
  }
  return end === s.length && end > 0 ? total : undefined;
}

/** The reconcile interval in ms. */
export function getInterval(k: KCLRun): number {
  return parseDuration(k.spec.interval) ?? parseDuration(DEFAULTS.interval)!;
}

/** The retry interval in ms (defaults to the interval). */
export function getRetryInterval(k: KCLRun): number {
  return parseDuration(k.spec.retryInterval) ?? getInterval(k);
}

/** The apply/health timeout in ms: spec.timeout, else interval − 30s clamped to [30s, 5m]. */
export function getTimeout(k: KCLRun): number {
  const t = parseDuration(k.spec.timeout);
  if (t !== undefined) return t;
  return Math.min(DEFAULTS.timeoutMaxMs, Math.max(DEFAULTS.timeoutMinMs, getInterval(k) - 30_000));
}

/** Whether pruning is on (default true). */
export function getPrune(k: KCLRun): boolean {
  return k.spec.prune ?? DEFAULTS.prune;
}

/** The deletion policy (default MirrorPrune). */
export function getDeletionPolicy(k: KCLRun): DeletionPolicy {
  return k.spec.deletionPolicy ?? 'MirrorPrune';
}

/** Whether deleting the KCLRun deletes its objects: never when suspended; MirrorPrune follows `prune`. */
export function deletesOnFinalize(k: KCLRun): boolean {
  if (k.spec.suspend) return false;
  switch (getDeletionPolicy(k)) {
    case 'MirrorPrune':
      return getPrune(k);
    case 'Delete':
    case 'WaitForTermination':
      return true;
    default:
      return false;
  }
}

/** The source's namespace (defaults to the KCLRun's). */
export function sourceNamespace(k: KCLRun): string {
  return k.spec.sourceRef.namespace ?? k.metadata.namespace;
}
