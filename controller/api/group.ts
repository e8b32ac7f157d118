/**
 * Names of the KCLRun controller's API, defined once: group/version/kind, finalizer, field managers, labels and
 * annotations. Everything that talks to the cluster imports them from here.
 */

/** The API group of KCLRun (flux-kcl-controller compatible). */
export const GROUP = 'krm.kcl.dev.fluxcd';
/** The served version. */
export const VERSION = 'v1alpha1';
/** `apiVersion` of KCLRun objects. */
export const API_VERSION = `${GROUP}/${VERSION}`;
/** The kind. */
export const KIND = 'KCLRun';
/** The plural resource name. */
export const PLURAL = 'kclruns';
/** The short name (`kubectl get kcl`). */
export const SHORT_NAME = 'kcl';
/** The controller's name, used for events, leases and the status field manager. */
export const CONTROLLER_NAME = 'kclrun-controller';

/** Finalizer that prunes on deletion (flux-kcl-controller's name, so objects migrate). */
export const FINALIZER = 'finalizers.krm.kcl.dev.fluxcd';
/** Field manager for server-side apply of rendered objects. */
export const APPLY_FIELD_MANAGER = 'kclrun';
/** Field manager for status patches. */
export const STATUS_FIELD_MANAGER = 'gotk-kclrun-controller';

/** Owner labels put on every applied object; pruning only deletes objects that carry both. */
export const OWNER_NAME_LABEL = `${GROUP}/name`;
export const OWNER_NAMESPACE_LABEL = `${GROUP}/namespace`;

/** Per-object annotations honoured on rendered objects. */
export const RECONCILE_ANNOTATION = `${GROUP}/reconcile`;
export const PRUNE_ANNOTATION = `${GROUP}/prune`;
export const SSA_ANNOTATION = `${GROUP}/ssa`;
export const FORCE_ANNOTATION = `${GROUP}/force`;
/** Values of those annotations. */
export const DISABLED = 'disabled';
export const ENABLED = 'enabled';
export const SSA_IGNORE = 'Ignore';
export const SSA_IF_NOT_PRESENT = 'IfNotPresent';
export const SSA_MERGE = 'Merge';

/** Flux's on-demand reconcile request annotation (`flux reconcile`). */
export const REQUESTED_AT_ANNOTATION = 'reconcile.fluxcd.io/requestedAt';
/** Event annotation carrying the revision (as kustomize-controller). */
export const REVISION_ANNOTATION = `${GROUP}/revision`;

/** The Flux source API this controller consumes. */
export const SOURCE_GROUP = 'source.toolkit.fluxcd.io';
export const SOURCE_API_VERSION = `${SOURCE_GROUP}/v1`;
/** The source kinds a KCLRun may reference. */
export const SOURCE_KINDS = ['GitRepository', 'OCIRepository', 'Bucket'] as const;
/** One of {@link SOURCE_KINDS}. */
export type SourceKind = (typeof SOURCE_KINDS)[number];
/** The kinds `argumentsReferences` may name. */
export const ARGUMENTS_KINDS = ['ConfigMap', 'Secret'] as const;
/** One of {@link ARGUMENTS_KINDS}. */
export type ArgumentsKind = (typeof ARGUMENTS_KINDS)[number];
/** The versions kclrun reads each source kind at, preferred first (OCIRepository is v1beta2 only before Flux 2.6). */
export const SOURCE_VERSIONS: Readonly<Record<SourceKind, readonly [string, ...string[]]>> = {
  GitRepository: ['v1'],
  OCIRepository: ['v1', 'v1beta2'],
  Bucket: ['v1'],
};
