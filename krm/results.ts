/**
 * Function results: validation, exit code, and conversion to the plain
 * objects written under a ResourceList's `results`.
 */
import type { Item } from './item.js';
import { isJsonObject, SEVERITIES } from './types.js';
import type { JsonObject, JsonValue, ResourceRef, Result, Severity } from './types.js';

/** True when any result has severity `error`. */
export function hasErrors(results: readonly Result[]): boolean {
  return results.some((r) => r.severity === 'error');
}

/** The process exit code kpt expects: 1 if any result is an error, else 0. */
export function exitCodeFor(results: readonly Result[]): 0 | 1 {
  return hasErrors(results) ? 1 : 0;
}

/** The resourceRef for an item (only the fields the item has). */
export function resourceRefOf(item: Item): ResourceRef {
  const ref: ResourceRef = {};
  if (item.apiVersion !== undefined) ref.apiVersion = item.apiVersion;
  if (item.kind !== undefined) ref.kind = item.kind;
  if (item.name !== undefined) ref.name = item.name;
  if (item.namespace !== undefined) ref.namespace = item.namespace;
  return ref;
}

function isSeverity(v: unknown): v is Severity {
  return typeof v === 'string' && (SEVERITIES as readonly string[]).includes(v);
}

/** Type guard for a well-formed {@link Result} (used when reading `results` from input). */
export function isResult(v: unknown): v is Result {
  return isJsonObject(v) && typeof v.message === 'string' && isSeverity(v.severity);
}

/** Copies the defined string fields of `src` listed in `keys`. */
function pickStrings(src: object, keys: readonly string[]): JsonObject {
  const out: JsonObject = {};
  const rec = src as Record<string, unknown>;
  for (const k of keys) {
    const v = rec[k];
    if (typeof v === 'string' && v !== '') out[k] = v;
  }
  return out;
}

/**
 * The plain object written for one result, in the Go SDK's field order, with
 * empty parts left out (never `file: {}`, and `index: 0` is kept).
 */
export function resultToJson(r: Result): JsonObject {
  const out: JsonObject = { message: r.message, severity: r.severity };
  if (r.resourceRef) {
    const ref = pickStrings(r.resourceRef, ['apiVersion', 'kind', 'name', 'namespace']);
    if (Object.keys(ref).length > 0) out.resourceRef = ref;
  }
  if (r.field && r.field.path) {
    const field: JsonObject = { path: r.field.path };
    if (r.field.currentValue !== undefined) field.currentValue = r.field.currentValue;
    if (r.field.proposedValue !== undefined) field.proposedValue = r.field.proposedValue;
    out.field = field;
  }
  if (r.file && r.file.path) {
    const file: JsonObject = { path: r.file.path };
    if (r.file.index !== undefined) file.index = r.file.index;
    out.file = file;
  }
  if (r.tags && Object.keys(r.tags).length > 0) out.tags = { ...r.tags } as Record<string, JsonValue>;
  return out;
}

/** Reads `results` from an input ResourceList, keeping only well-formed entries. */
export function resultsFromJson(v: JsonValue | undefined): Result[] {
  if (!Array.isArray(v)) return [];
  const out: Result[] = [];
  for (const x of v as unknown[]) if (isResult(x)) out.push(x);
  return out;
}
