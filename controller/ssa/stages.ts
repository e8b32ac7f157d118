/**
 * Apply stages and order (fluxcd/pkg/ssa `ApplyAllStaged` and `SortableUnstructureds`). Pure.
 */
import { splitApiVersion } from '../kube/types.js';
import type { JsonObject } from './types.js';
import { compareStrings } from '../order.js';
import { isJsonObject } from '../../krm/index.js';

/** Flux's apply order for well-known kinds; other kinds go after these, webhooks last. */
const KIND_ORDER = [
  'CustomResourceDefinition',
  'Namespace',
  'ClusterClass',
  'RuntimeClass',
  'PriorityClass',
  'StorageClass',
  'VolumeSnapshotClass',
  'IngressClass',
  'GatewayClass',
  'ResourceQuota',
  'ServiceAccount',
  'Role',
  'ClusterRole',
  'RoleBinding',
  'ClusterRoleBinding',
  'ConfigMap',
  'Secret',
  'Service',
  'LimitRange',
  'Deployment',
  'StatefulSet',
  'CronJob',
  'PodDisruptionBudget',
];
const KIND_ORDER_LAST = ['MutatingWebhookConfiguration', 'ValidatingWebhookConfiguration'];

/** The objects of each stage, each stage sorted. */
export interface Stages {
  /** CRDs, Namespaces, ClusterRoles: applied first, then waited for. */
  definitions: JsonObject[];
  /** `*Class` kinds (StorageClass, IngressClass…): applied second, then waited for. */
  classes: JsonObject[];
  /** Everything else. */
  rest: JsonObject[];
}

function kindAndGroup(obj: JsonObject): { kind: string; group: string } {
  return { kind: String(obj['kind'] ?? ''), group: splitApiVersion(String(obj['apiVersion'] ?? '')).group };
}

/** True for CustomResourceDefinitions, Namespaces and ClusterRoles. */
export function isClusterDefinition(obj: JsonObject): boolean {
  const { kind, group } = kindAndGroup(obj);
  return (
    (kind === 'CustomResourceDefinition' && group === 'apiextensions.k8s.io') ||
    (kind === 'Namespace' && group === '') ||
    (kind === 'ClusterRole' && group === 'rbac.authorization.k8s.io')
  );
}

/** True for kinds named `*Class`. */
export function isClassKind(obj: JsonObject): boolean {
  return kindAndGroup(obj).kind.endsWith('Class');
}

function rank(kind: string): number {
  const i = KIND_ORDER.indexOf(kind);
  if (i >= 0) return i;
  const j = KIND_ORDER_LAST.indexOf(kind);
  return j >= 0 ? KIND_ORDER.length + 1 + j : KIND_ORDER.length;
}

function meta(obj: JsonObject, key: 'namespace' | 'name'): string {
  const md = obj['metadata'];
  return isJsonObject(md) ? String(md[key] ?? '') : '';
}

/** Sorts by Flux's kind order, then namespace, then name (a stable copy). */
export function sortObjects(objects: readonly JsonObject[]): JsonObject[] {
  return [...objects].sort(
    (a, b) =>
      rank(String(a['kind'] ?? '')) - rank(String(b['kind'] ?? '')) ||
      compareStrings(meta(a, 'namespace'), meta(b, 'namespace')) ||
      compareStrings(meta(a, 'name'), meta(b, 'name')),
  );
}

/** Splits objects into the three apply stages. */
export function stageObjects(objects: readonly JsonObject[]): Stages {
  const stages: Stages = { definitions: [], classes: [], rest: [] };
  for (const o of sortObjects(objects)) {
    if (isClusterDefinition(o)) stages.definitions.push(o);
    else if (isClassKind(o)) stages.classes.push(o);
    else stages.rest.push(o);
  }
  return stages;
}
