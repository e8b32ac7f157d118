/**
 * Flux inventory ids (cli-utils `ObjMetadata` strings) and change-set entries. Pure.
 */
import { splitApiVersion } from '../kube/types.js';
import type { Action, ChangeSetEntry, ObjectRef } from './types.js';

const RBAC_GROUP = 'rbac.authorization.k8s.io';
const RBAC_KINDS = new Set(['Role', 'ClusterRole', 'RoleBinding', 'ClusterRoleBinding']);

/** `<namespace>_<name>_<group>_<kind>`; `:` in RBAC names is written `__`, as cli-utils does. */
export function inventoryId(ref: ObjectRef): string {
  const { group } = splitApiVersion(ref.apiVersion);
  const name = group === RBAC_GROUP && RBAC_KINDS.has(ref.kind) ? ref.name.replaceAll(':', '__') : ref.name;
  return `${ref.namespace ?? ''}_${name}_${group}_${ref.kind}`;
}

/**
 * The reference an inventory entry `{id, v}` stands for. Throws on an id that is not four `_`-separated fields:
 * inventories are written by this controller, so a malformed one is a bug.
 */
export function parseInventoryId(id: string, version: string): ObjectRef {
  const first = id.indexOf('_');
  const last = id.lastIndexOf('_');
  const middle = id.slice(first + 1, last);
  const sep = middle.lastIndexOf('_');
  if (first < 0 || last <= first || sep < 0) throw new Error(`invalid inventory id "${id}"`);
  const namespace = id.slice(0, first);
  const kind = id.slice(last + 1);
  const group = middle.slice(sep + 1);
  let name = middle.slice(0, sep);
  if (!name || !kind) throw new Error(`invalid inventory id "${id}"`);
  if (group === RBAC_GROUP && RBAC_KINDS.has(kind)) name = name.replaceAll('__', ':');
  const ref: ObjectRef = { apiVersion: group ? `${group}/${version}` : version, kind, name };
  if (namespace) ref.namespace = namespace;
  return ref;
}

/** `Kind/namespace/name`, or `Kind/name` for cluster-scoped objects (Flux's `FmtUnstructured`). */
export function subjectOf(ref: ObjectRef): string {
  return ref.namespace ? `${ref.kind}/${ref.namespace}/${ref.name}` : `${ref.kind}/${ref.name}`;
}

/** The change-set entry for `ref`. */
export function changeSetEntry(ref: ObjectRef, action: Action): ChangeSetEntry {
  return { ref, id: inventoryId(ref), version: splitApiVersion(ref.apiVersion).version, action, subject: subjectOf(ref) };
}
