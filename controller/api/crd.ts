/**
 * The KCLRun CustomResourceDefinition. Its OpenAPI schema is typed against the API interfaces in `types.ts`:
 * `Props<T>` requires exactly one schema per field of T, so the CRD cannot drift from the types (tsc fails).
 */
import { API_VERSION, ARGUMENTS_KINDS, GROUP, KIND, PLURAL, SHORT_NAME, SOURCE_KINDS, VERSION } from './group.js';
import { MAX_MESSAGE_LENGTH } from './conditions.js';
import { NAME_RULES, type NameRuleName } from './names.js';
import { DELETION_POLICIES, HISTORY_MAX_SIZE } from './types.js';
import type {
  ArgumentsReference,
  CommonMetadata,
  DependencyReference,
  HealthCheckExpressions,
  HealthCheckReference,
  HistorySnapshot,
  InventoryEntry,
  KCLRunConfig,
  KCLRunSpec,
  KCLRunStatus,
  KubeConfigReference,
  LocalObjectReference,
  SourceReference,
} from './types.js';

/** A subset of JSONSchemaProps, enough for this CRD. */
export interface Schema {
  type?: 'object' | 'array' | 'string' | 'boolean' | 'integer';
  description?: string;
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  enum?: string[];
  pattern?: string;
  format?: string;
  default?: unknown;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maxItems?: number;
  additionalProperties?: Schema;
  'x-kubernetes-preserve-unknown-fields'?: boolean;
  'x-kubernetes-list-type'?: string;
  'x-kubernetes-list-map-keys'?: string[];
  'x-kubernetes-validations'?: Array<{ rule: string; message: string }>;
}

/** One schema for every field of T — no more, no fewer. */
type Props<T> = { [K in keyof Required<T>]: Schema };

function object<T>(description: string, properties: Props<T>, required: Array<keyof T & string> = []): Schema {
  const s: Schema = { type: 'object', description, properties: properties as Record<string, Schema> };
  if (required.length) s.required = required;
  return s;
}

const str = (description: string, extra: Partial<Schema> = {}): Schema => ({ type: 'string', description, ...extra });
const bool = (description: string): Schema => ({ type: 'boolean', description });
const strList = (description: string): Schema => ({ type: 'array', description, items: { type: 'string' } });
const strMap = (description: string): Schema => ({ type: 'object', description, additionalProperties: { type: 'string' } });
const DURATION = '^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$';
/** The schema fragment of a name rule (pattern and length bounds, shared with the reconciler's check). */
const rule = (name: NameRuleName): Partial<Schema> => {
  const { pattern, minLength, maxLength } = NAME_RULES[name];
  return { pattern, minLength, maxLength };
};

const sourceRef = object<SourceReference>(
  'The Flux source (GitRepository, OCIRepository or Bucket) whose artifact holds the KCL package.',
  {
    apiVersion: str('API version of the source (default source.toolkit.fluxcd.io/v1).', rule('apiVersion')),
    kind: str('Kind of the source.', { enum: [...SOURCE_KINDS] }),
    name: str('Name of the source.', rule('objectName')),
    namespace: str("Namespace of the source (default: the KCLRun's).", rule('namespace')),
  },
  ['kind', 'name'],
);

const config = object<KCLRunConfig>('kcl run options.', {
  arguments: strList('Top-level arguments as name=value (kcl -D).'),
  settings: strList('kcl.yaml settings files, relative to path (kcl -Y).'),
  overrides: strList('Overrides as path=value (kcl -O).'),
  pathSelectors: strList('Path selectors (kcl -S).'),
  vendor: bool('Use vendored dependencies only.'),
  sortKeys: bool('Sort keys in the output.'),
  showHidden: bool('Show hidden attributes.'),
  disableNone: bool('Drop None values from the output.'),
  debug: bool('Debug mode (kcl --debug).'),
  strictRangeCheck: bool('Strict range checks (kcl --strict_range_check).'),
});

/** A CEL expression: the schema bounds its size, the controller parses it (bad expression: Stalled). */
const cel = (description: string): Schema => str(description, { minLength: 1, maxLength: 4096 });

const healthCheckExprs: Schema = {
  type: 'array',
  description: 'CEL health expressions for custom resources, per apiVersion and kind (evaluated when wait or healthChecks apply).',
  maxItems: 100,
  items: object<HealthCheckExpressions>('Expressions over the object (status, metadata, spec...): inProgress, then failed, then current; none true: InProgress.', {
    apiVersion: str('API version of the custom resource.', rule('apiVersion')),
    kind: str('Kind of the custom resource.', rule('kind')),
    current: cel('True when the object is healthy.'),
    inProgress: cel('True while the object is progressing.'),
    failed: cel('True when the object has failed.'),
  }, ['apiVersion', 'kind', 'current']),
};

const spec = object<KCLRunSpec>(
  'KCLRunSpec: what to render and how to apply it. Only sourceRef is required.',
  {
    sourceRef,
    interval: str('Reconcile interval (default 10m). A new source revision triggers at once.', { pattern: DURATION, default: '10m' }),
    retryInterval: str('Interval after a failure (default: interval).', { pattern: DURATION }),
    timeout: str('Timeout for the render, apply and health checks (default: interval - 30s, within 30s..5m; the render also stops at the controller flag --render-timeout).', { pattern: DURATION }),
    path: str('Path of the KCL package inside the artifact (default: its root).'),
    prune: { type: 'boolean', description: 'Delete objects this KCLRun applied that are no longer rendered (default true).', default: true },
    healthChecks: {
      type: 'array',
      description: 'Objects whose health is checked after apply.',
      items: object<HealthCheckReference>('A reference to an object.', {
        apiVersion: str('API version (default v1).', rule('apiVersion')),
        kind: str('Kind.', rule('kind')),
        name: str('Name.', rule('objectName')),
        namespace: str("Namespace (default: the KCLRun's).", rule('namespace')),
      }, ['kind', 'name']),
    },
    wait: bool('Wait for every applied object to become ready.'),
    dependsOn: {
      type: 'array',
      description: 'KCLRuns that must be Ready before this one is applied.',
      items: object<DependencyReference>('A KCLRun reference.', {
        name: str('Name.', rule('objectName')),
        namespace: str("Namespace (default: the KCLRun's).", rule('namespace')),
      }, ['name']),
    },
    suspend: bool('Suspend reconciliation.'),
    force: bool('Re-create objects whose immutable fields changed.'),
    targetNamespace: str('Namespace of every namespaced object (replaces the rendered namespace, as in a Kustomization).', rule('namespace')),
    deletionPolicy: str('On deletion: MirrorPrune (delete objects iff prune, the default), Delete, WaitForTermination (delete and wait until gone, within timeout) or Orphan.', { enum: [...DELETION_POLICIES] }),
    healthCheckExprs,
    serviceAccountName: str('ServiceAccount (in this namespace) to impersonate when applying.', rule('objectName')),
    kubeConfig: {
      ...object<KubeConfigReference>('A remote cluster to apply to: exactly one of secretRef and configMapRef.', {
        secretRef: {
          type: 'object',
          description: 'A Secret holding a kubeconfig; key defaults to value, then value.yaml. exec, auth-provider and insecure TLS are refused unless the controller allows them; file paths are always refused.',
          properties: { name: str('Secret name.', rule('objectName')), key: str('Key in the Secret.', rule('dataKey')) },
          required: ['name'],
        },
        configMapRef: {
          type: 'object',
          description: "Flux's provider-based remote cluster: a ConfigMap with provider (generic), address, ca.crt, serviceAccountName and audiences.",
          properties: { name: str('ConfigMap name.', rule('objectName')) },
          required: ['name'],
        },
      }),
      'x-kubernetes-validations': [{ rule: 'has(self.secretRef) != has(self.configMapRef)', message: 'exactly one of secretRef and configMapRef must be set' }],
    },
    commonMetadata: object<CommonMetadata>('Labels and annotations added to every applied object.', {
      labels: strMap('Labels.'),
      annotations: strMap('Annotations.'),
    }),
    config,
    params: {
      type: 'object',
      description: 'Parameters passed to the KCL program as option("params"), as in the KRM function.',
      'x-kubernetes-preserve-unknown-fields': true,
    },
    argumentsReferences: {
      type: 'array',
      description: 'ConfigMaps and Secrets whose data become top-level arguments (kcl -D key=value).',
      items: object<ArgumentsReference>('A ConfigMap or Secret in this namespace.', {
        kind: str('Kind.', { enum: [...ARGUMENTS_KINDS] }),
        name: str('Name.', rule('objectName')),
        optional: bool('When true, a missing object is not an error.'),
      }, ['kind', 'name']),
    },
    registrySecretRef: object<LocalObjectReference>(
      "A kubernetes.io/dockerconfigjson Secret in this KCLRun's namespace: its auths are the registry credentials for the KCL package's dependencies (kcl.mod). Default: anonymous.",
      { name: str('Secret name.', rule('objectName')) },
      ['name'],
    ),
  },
  ['sourceRef'],
);

const condition: Schema = {
  type: 'object',
  description: 'A metav1.Condition.',
  required: ['type', 'status', 'lastTransitionTime', 'reason', 'message'],
  properties: {
    type: str('Type.', { pattern: '^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$', maxLength: 316 }),
    status: str('Status.', { enum: ['True', 'False', 'Unknown'] }),
    observedGeneration: { type: 'integer', minimum: 0 },
    lastTransitionTime: str('When the status last changed.', { format: 'date-time' }),
    reason: str('Reason.', { pattern: '^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$', minLength: 1, maxLength: 1024 }),
    message: str('Message.', { maxLength: MAX_MESSAGE_LENGTH }),
  },
};

const status = object<KCLRunStatus>('KCLRunStatus: what the controller last did.', {
  observedGeneration: { type: 'integer', description: 'The last generation reconciled successfully.' },
  conditions: { type: 'array', items: condition, 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['type'] },
  lastAppliedRevision: str('The source revision last applied successfully.'),
  lastAttemptedRevision: str('The source revision last attempted.'),
  lastHandledReconcileAt: str('The last reconcile.fluxcd.io/requestedAt value handled.'),
  inventory: {
    type: 'object',
    description: 'Objects applied by this KCLRun.',
    required: ['entries'],
    properties: {
      entries: {
        type: 'array',
        items: object<InventoryEntry>('One object: id <namespace>_<name>_<group>_<kind>, v its API version.', {
          id: str('Object id.'),
          v: str('API version.'),
        }, ['id', 'v']),
      },
    },
  },
  history: {
    type: 'array',
    description: `The last ${HISTORY_MAX_SIZE} reconciliations, most recent first, deduplicated by digest and status.`,
    maxItems: HISTORY_MAX_SIZE,
    items: object<HistorySnapshot>('One reconciliation outcome for one set of objects.', {
      digest: str('sha256 of the objects applied.'),
      firstReconciled: str('When this digest and status were first seen.', { format: 'date-time' }),
      lastReconciled: str('When they were last seen.', { format: 'date-time' }),
      lastReconciledDuration: str('How long that reconciliation took.'),
      lastReconciledStatus: str('The Ready reason of that reconciliation.'),
      totalReconciliations: { type: 'integer', description: 'How many reconciliations had this digest and status.' },
      metadata: strMap('revision (and originRevision) of the source.'),
    }, ['digest', 'firstReconciled', 'lastReconciled', 'lastReconciledDuration', 'lastReconciledStatus', 'totalReconciliations']),
  },
});

/** The CRD object for `kclruns.krm.kcl.dev.fluxcd` (a fresh copy on every call). */
export function kclRunCRD(): Record<string, unknown> {
  // A deep copy: the schemas above are shared module constants, and callers may edit what they get.
  return structuredClone({
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${PLURAL}.${GROUP}` },
    spec: {
      group: GROUP,
      names: { kind: KIND, listKind: `${KIND}List`, plural: PLURAL, singular: 'kclrun', shortNames: [SHORT_NAME], categories: ['all', 'kcl'] },
      scope: 'Namespaced',
      versions: [
        {
          name: VERSION,
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: [
            { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
            { name: 'Ready', type: 'string', jsonPath: '.status.conditions[?(@.type=="Ready")].status' },
            { name: 'Status', type: 'string', jsonPath: '.status.conditions[?(@.type=="Ready")].message' },
          ],
          schema: {
            openAPIV3Schema: {
              type: 'object',
              description: `${KIND} (${API_VERSION}) renders a KCL package from a Flux source and applies it.`,
              properties: {
                apiVersion: { type: 'string' },
                kind: { type: 'string' },
                metadata: { type: 'object' },
                spec,
                status,
              },
              required: ['spec'],
            },
          },
        },
      ],
    },
  });
}
