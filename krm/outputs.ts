/**
 * Turning plain output objects (what KCL returns) back into items, reusing the
 * YAML of the input item each one came from, so untouched fields keep their
 * comments, quoting and `0644` spelling, and kpt keeps every file in place.
 */
import {
  ANNOTATION_INTERNAL_ID,
  ANNOTATION_KUSTOMIZE_ID,
  ANNOTATION_LEGACY_ID,
  gvknnKey,
  internalAnnotationsOf,
  isInternalAnnotation,
} from './annotations.js';
import { Item } from './item.js';
import { isJsonObject, type JsonObject, type JsonValue } from './types.js';

const ID_KEYS = [ANNOTATION_INTERNAL_ID, ANNOTATION_LEGACY_ID, ANNOTATION_KUSTOMIZE_ID] as const;


function annotationsOf(obj: JsonObject): JsonObject | undefined {
  const md = obj.metadata;
  return isJsonObject(md) && isJsonObject(md.annotations) ? md.annotations : undefined;
}

/** The first bookkeeping id an object carries, as `key=value`. */
function idOfObject(obj: JsonObject): string | undefined {
  const ann = annotationsOf(obj);
  if (!ann) return undefined;
  for (const k of ID_KEYS) if (typeof ann[k] === 'string') return `${k}=${ann[k]}`;
  return undefined;
}

/** {@link gvknnKey} of a plain object (without building a YAML document for it). */
function objectKey(obj: JsonObject): string {
  const md = isJsonObject(obj.metadata) ? obj.metadata : {};
  const str = (v: JsonValue | undefined) => (typeof v === 'string' ? v : '');
  return JSON.stringify([str(obj.apiVersion), str(obj.kind), str(md.namespace), str(md.name)]);
}

function idOfItem(item: Item): string | undefined {
  for (const k of ID_KEYS) {
    const v = item.getAnnotation(k);
    if (v !== undefined) return `${k}=${v}`;
  }
  return undefined;
}

/** `obj` with `from`'s bookkeeping annotations added, unless it already has some. */
function withBookkeeping(obj: JsonObject, from: Item): JsonObject {
  const ann = annotationsOf(obj);
  if (ann && Object.keys(ann).some(isInternalAnnotation)) return obj;
  const carried = internalAnnotationsOf(from);
  if (carried.length === 0) return obj;
  const md = isJsonObject(obj.metadata) ? obj.metadata : {};
  return { ...obj, metadata: { ...md, annotations: { ...(ann ?? {}), ...Object.fromEntries(carried) } } };
}

/**
 * Builds output items from plain objects. Each object is matched to an unused
 * input item: first by a bookkeeping id it still carries (kpt's
 * `internal.config.kubernetes.io/id`, `config.k8s.io/id`, kustomize's id),
 * else by the first unused input with the same apiVersion/kind/namespace/name
 * (so duplicates map in order). A matched object becomes
 * the input updated in place to `obj` (with its bookkeeping annotations restored), so the inputs are consumed;
 * an unmatched one becomes `Item.fromObject(obj)`. Output order is `outputs`' order. `current`, when given, holds
 * each input's {@link Item.toObject} as it is now (saves reading the YAML again).
 */
export function itemsFromOutputs(outputs: readonly JsonObject[], inputs: readonly Item[], current?: ReadonlyMap<Item, JsonObject>): Item[] {
  const unused = new Set(inputs);
  const byId = new Map<string, Item>();
  const byKey = new Map<string, Item[]>();
  for (const input of inputs) {
    const id = idOfItem(input);
    if (id !== undefined && !byId.has(id)) byId.set(id, input);
    const key = gvknnKey(input);
    byKey.set(key, [...(byKey.get(key) ?? []), input]);
  }
  // Pass 1: objects that still carry an id claim their input first.
  const matches = outputs.map((obj) => {
    const id = idOfObject(obj);
    const hit = id === undefined ? undefined : byId.get(id);
    if (hit && unused.has(hit)) {
      unused.delete(hit);
      return hit;
    }
    return undefined;
  });
  // Pass 2: the rest match by apiVersion/kind/namespace/name, in order.
  return outputs.map((obj, i) => {
    let match = matches[i];
    if (!match) {
      match = (byKey.get(objectKey(obj)) ?? []).find((c) => unused.has(c));
      if (!match) return Item.fromObject(obj);
      unused.delete(match);
    }
    return match.assignObject(withBookkeeping(obj, match), current?.get(match));
  });
}
