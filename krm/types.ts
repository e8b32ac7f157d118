/**
 * Shared KRM types: JSON values and function results.
 * Declared once here; every other `krm/` file imports from this module.
 */

/** Any JSON value (the plain view of a YAML node, as Go's yaml.v3 would decode it). */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [k: string]: JsonValue };

/** A JSON object (a mapping with string keys). */
export type JsonObject = { [k: string]: JsonValue };

/** Whether `v` is a JSON object (not null, not an array). */
export function isJsonObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The severities kpt and the Go SDK understand (note: `warning`, never `warn`). */
export const SEVERITIES = ['error', 'warning', 'info'] as const;

/** Severity of one {@link Result}. */
export type Severity = (typeof SEVERITIES)[number];

/** Identifies the object a result is about. */
export interface ResourceRef {
  apiVersion?: string;
  kind?: string;
  name?: string;
  namespace?: string;
}

/** The field a result is about (`path` in kyaml dotted form, e.g. `spec.replicas`). */
export interface ResultField {
  path: string;
  currentValue?: JsonValue;
  proposedValue?: JsonValue;
}

/** The file a result is about (`index` is the document index inside that file). */
export interface ResultFile {
  path: string;
  index?: number;
}

/** One entry of a ResourceList's `results` (kpt / Go SDK `fn.Result` shape). */
export interface Result {
  message: string;
  severity: Severity;
  resourceRef?: ResourceRef;
  field?: ResultField;
  file?: ResultFile;
  tags?: Record<string, string>;
}
