/**
 * Prepares rendered objects for apply: a check that their apiVersion, name and namespace can address them (a KCL
 * program is hostile: `metadata.name: ../../x` must fail the build, not reach a request), the namespace of
 * namespaced objects (`targetNamespace` replaces whatever was rendered, as kustomize's `namespace` does in a
 * Kustomization; without it, objects that set none get the KCLRun's namespace), `commonMetadata`, and the owner
 * labels that make pruning safe. Pure apart
 * from the `isNamespaced` lookup the caller provides (discovery).
 */
import { isJsonObject, type JsonObject } from '../../krm/index.js';
import { OWNER_NAME_LABEL, OWNER_NAMESPACE_LABEL } from '../api/group.js';
import type { KCLRun } from '../api/types.js';
import { nameRuleProblem } from '../api/names.js';
import { pathSegmentProblem } from '../kube/paths.js';

/** Answers whether apiVersion/kind is namespaced; undefined when the cluster does not know the kind. */
export type NamespacedLookup = (apiVersion: string, kind: string) => Promise<boolean | undefined>;

/** The owner labels of a KCLRun. */
export function ownerLabels(k: KCLRun): Record<string, string> {
  return { [OWNER_NAME_LABEL]: k.metadata.name, [OWNER_NAMESPACE_LABEL]: k.metadata.namespace };
}

function record(v: unknown): Record<string, unknown> {
  return isJsonObject(v) ? v : {};
}

/** The namespace a namespaced object is applied in, given the one it was rendered with. */
export function targetNamespaceOf(k: KCLRun, rendered: unknown): string {
  if (k.spec.targetNamespace) return k.spec.targetNamespace;
  return typeof rendered === 'string' && rendered ? rendered : k.metadata.namespace;
}

/** Returns prepared copies of `objects`, or the first object that cannot be applied and why. */
export async function prepareObjects(
  k: KCLRun,
  objects: readonly JsonObject[],
  isNamespaced: NamespacedLookup,
): Promise<{ ok: true; objects: JsonObject[] } | { ok: false; message: string }> {
  const out: JsonObject[] = [];
  const common = k.spec.commonMetadata ?? {};
  for (const [i, original] of objects.entries()) {
    const obj = structuredClone(original) as Record<string, unknown>;
    const meta = record(obj.metadata);
    const apiVersion = obj.apiVersion;
    const kind = obj.kind;
    if (typeof apiVersion !== 'string' || typeof kind !== 'string' || typeof meta.name !== 'string' || !meta.name) {
      return { ok: false, message: `rendered object ${i} has no apiVersion, kind or metadata.name` };
    }
    const invalid = addressProblem(apiVersion, meta.name, meta.namespace);
    if (invalid) return { ok: false, message: `rendered object ${i} (${kind} ${JSON.stringify(meta.name.slice(0, 80))}): ${invalid}` };
    const namespaced = await isNamespaced(apiVersion, kind);
    if (namespaced === true) meta.namespace = targetNamespaceOf(k, meta.namespace);
    if (namespaced === false) delete meta.namespace;
    meta.labels = { ...record(meta.labels), ...(common.labels ?? {}), ...ownerLabels(k) };
    if (common.annotations) meta.annotations = { ...record(meta.annotations), ...common.annotations };
    obj.metadata = meta;
    out.push(obj as JsonObject);
  }
  return { ok: true, objects: out };
}

/** Why a rendered object's apiVersion, name or namespace cannot address it, if so. */
function addressProblem(apiVersion: string, name: string, namespace: unknown): string | undefined {
  const version = nameRuleProblem('apiVersion', apiVersion);
  if (version) return `invalid apiVersion: ${version}`;
  const segment = pathSegmentProblem(name);
  if (segment) return `invalid metadata.name: ${segment}`;
  if (namespace === undefined || namespace === null || namespace === '') return undefined;
  const ns = nameRuleProblem('namespace', namespace);
  return ns ? `invalid metadata.namespace: ${ns}` : undefined;
}
