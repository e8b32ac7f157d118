/**
 * Managed-field takeover (fluxcd/pkg/ssa `PatchReplaceFieldsManagers`): fields that kubectl (`kubectl`,
 * `kubectl-edit`, `kubectl-client-side-apply`, …) or `before-first-apply` set on an object this controller applies
 * are handed to the controller's own Apply entry, so the next apply removes what the KCL does not render — drift
 * from `kubectl edit` is undone, not merged. Objects annotated `…/ssa: Merge` keep other managers' fields.
 * `--override-manager NAME` adds managers to that list.
 */
import type { JsonObject, JsonValue } from '../kube/types.js';
import { asObject } from './meta.js';

/**
 * True for a manager whose fields the controller takes over: kubectl's, `before-first-apply`, and the managers named
 * with `--override-manager` (kustomize-controller's flag; Apply and Update entries alike).
 */
export function isForeignManager(manager: string, overrideManagers: readonly string[] = []): boolean {
  return manager === 'kubectl' || manager.startsWith('kubectl-') || manager === 'before-first-apply' || overrideManagers.includes(manager);
}

function mergeFields(a: JsonValue | undefined, b: JsonValue | undefined): JsonObject {
  const out: JsonObject = { ...(asObject(a) ?? {}) };
  for (const [k, v] of Object.entries(asObject(b) ?? {})) out[k] = mergeFields(out[k], v);
  return out;
}

/**
 * The `metadata.managedFields` list with every foreign entry (not on a subresource) merged into `fieldManager`'s
 * Apply entry; undefined when there is nothing to take over.
 */
export function takeOverManagedFields(
  live: JsonObject,
  fieldManager: string,
  now = new Date(),
  overrideManagers: readonly string[] = [],
): JsonObject[] | undefined {
  const entries = ((asObject(live['metadata'])?.['managedFields'] as JsonValue[] | undefined) ?? []).map((e) => asObject(e) ?? {});
  const foreign = (e: JsonObject) =>
    typeof e['manager'] === 'string' && e['manager'] !== fieldManager && isForeignManager(e['manager'], overrideManagers) && !e['subresource'];
  if (!entries.some(foreign)) return undefined;
  const ours = (e: JsonObject) => e['manager'] === fieldManager && e['operation'] === 'Apply' && !e['subresource'];
  let fields: JsonValue = asObject(entries.find(ours)?.['fieldsV1']) ?? {};
  for (const e of entries.filter(foreign)) fields = mergeFields(fields, e['fieldsV1']);
  const kept = entries.filter((e) => !foreign(e) && !ours(e));
  return [
    ...kept,
    {
      manager: fieldManager,
      operation: 'Apply',
      apiVersion: (live['apiVersion'] as string | undefined) ?? 'v1',
      time: now.toISOString().replace(/\.\d{3}Z$/, 'Z'),
      fieldsType: 'FieldsV1',
      fieldsV1: fields,
    },
  ];
}
