/**
 * Turns the engine's YAML output into resources, as krm-kcl does: one document with an `items` list → those items;
 * otherwise every non-empty document is a resource. Anything that is not a mapping is an error, not dropped.
 */
import { isJsonObject, type JsonObject, type JsonValue } from '../krm/index.js';

/** Resources, or the reason the output is not a list of resources. */
export type UnwrapOutcome = { ok: true; objects: JsonObject[] } | { ok: false; message: string };

function isEmptyObject(v: unknown): boolean {
  return isJsonObject(v) && Object.keys(v).length === 0;
}

/**
 * The engine's JSON result as documents: one JSON value, or one per line for a stream. Undefined when it is not
 * that shape (the YAML result is then used). JSON is read ~10× faster than YAML for large outputs.
 */
function jsonDocuments(jsonText: string): JsonValue[] | undefined {
  const text = jsonText.trim();
  if (!text) return [];
  try {
    return [JSON.parse(text) as JsonValue];
  } catch {
    try {
      return text.split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as JsonValue);
    } catch {
      return undefined;
    }
  }
}

/**
 * Splits the engine's output (its JSON result when given, else its YAML stream) into resource objects. The YAML
 * parser (and krm, built on it) is loaded only for that fallback, which keeps an engine worker's start-up short.
 */
export async function unwrapOutput(yamlText: string, jsonText?: string): Promise<UnwrapOutcome> {
  const fromJson = jsonText === undefined ? undefined : jsonDocuments(jsonText);
  const docs: JsonValue[] = fromJson?.filter((v) => v !== null) ?? [];
  if (!fromJson) {
    const [{ parseAllDocuments }, { aliasBudgetProblem, TO_JS_OPTIONS }] = await Promise.all([import('yaml'), import('../krm/index.js')]);
    const parsed = parseAllDocuments(yamlText);
    const all = Array.isArray(parsed) ? parsed : [];
    for (const doc of all) {
      if (doc.errors.length) return { ok: false, message: `KCL output is not valid YAML: ${doc.errors[0]!.message}` };
    }
    const aliases = aliasBudgetProblem(all, yamlText.length);
    if (aliases) return { ok: false, message: `KCL output: ${aliases.message}` };
    for (const doc of all) {
      const v = doc.toJS(TO_JS_OPTIONS) as JsonValue;
      if (v !== null && v !== undefined) docs.push(v);
    }
  }
  // A program with no top-level output (a validator that only asserts) prints `{}`: no resource, an empty stream.
  for (let i = docs.length - 1; i >= 0; i--) if (isEmptyObject(docs[i])) docs.splice(i, 1);
  if (docs.length === 1 && isJsonObject(docs[0]) && 'items' in docs[0]) {
    const items = docs[0].items;
    if (items === null) return { ok: true, objects: [] };
    if (!Array.isArray(items)) return { ok: false, message: 'KCL output `items` must be a list of resources' };
    return check(items);
  }
  // A bare top-level list (e.g. `[deployment, service]` printed as one document) is a list of resources too.
  if (docs.length === 1 && Array.isArray(docs[0])) return check(docs[0]);
  return check(docs);
}

function check(values: JsonValue[]): UnwrapOutcome {
  const objects: JsonObject[] = [];
  for (const [i, v] of values.entries()) {
    if (v === null) continue;
    if (!isJsonObject(v)) return { ok: false, message: `KCL output item ${i} is a ${Array.isArray(v) ? 'list' : typeof v}, not a resource` };
    objects.push(v);
  }
  return { ok: true, objects };
}
