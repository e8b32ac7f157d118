/**
 * In-place update of a YAML node tree to equal a plain JSON value, keeping
 * the comments, key order and scalar styles of every part that did not change.
 */
import type { Document, Node, Pair, YAMLMap, YAMLSeq } from 'yaml';
import { yaml } from './yaml-lib.js';
import { isJsonObject, type JsonValue } from './types.js';
import { TO_JS_OPTIONS } from './yaml-limits.js';

type Doc = Document.Parsed | Document;

/** Deep equality of two JSON values (numbers compared with `Object.is`, except 0/-0). */
export function jsonEqual(a: JsonValue | undefined, b: JsonValue | undefined): boolean {
  if (a === b) return true;
  if (typeof a === 'number' && typeof b === 'number') return Number.isNaN(a) && Number.isNaN(b);
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((v, i) => jsonEqual(v, b[i]));
  }
  const ao = a as Record<string, JsonValue>;
  const bo = b as Record<string, JsonValue>;
  const ak = Object.keys(ao);
  if (ak.length !== Object.keys(bo).length) return false;
  return ak.every((k) => Object.prototype.hasOwnProperty.call(bo, k) && jsonEqual(ao[k], bo[k]));
}

/** The plain JSON view of a node, as `Item.toObject` produces it. */
export function nodeToJson(node: unknown, doc: Doc): JsonValue {
  if (node === null || node === undefined) return null;
  if (yaml().isNode(node)) return (node.toJS(doc, TO_JS_OPTIONS) ?? null) as JsonValue;
  return node as JsonValue;
}

/** The string form of a mapping key, as `toJS` would produce it for a JSON object. */
export function keyString(key: unknown): string {
  if (yaml().isScalar(key)) return String(key.value);
  return String(key);
}

function own(obj: { [k: string]: JsonValue }, key: string): JsonValue | undefined {
  return Object.prototype.hasOwnProperty.call(obj, key) ? obj[key] : undefined;
}

/** Moves position-bound decoration (comments, blank lines) from `from` to `to`. */
function copyDecoration(from: unknown, to: Node): void {
  if (!yaml().isNode(from)) return;
  if (from.commentBefore) to.commentBefore = from.commentBefore;
  if (from.comment) to.comment = from.comment;
  if (from.spaceBefore) to.spaceBefore = from.spaceBefore;
}

/** A fresh node for `value`, inheriting the old node's comments (and block/quote style for strings). */
function replaceNode(old: unknown, value: JsonValue, doc: Doc): Node {
  const created = doc.createNode(value) as Node;
  copyDecoration(old, created);
  if (yaml().isScalar(old) && yaml().isScalar(created) && typeof old.value === 'string' && typeof value === 'string') {
    if (old.type && old.type !== yaml().Scalar.PLAIN) created.type = old.type;
  }
  if ((yaml().isMap(old) || yaml().isSeq(old)) && (yaml().isMap(created) || yaml().isSeq(created)) && old.flow) created.flow = true;
  return created;
}

function updateMap(map: YAMLMap, next: { [k: string]: JsonValue }, doc: Doc, old: JsonValue | undefined): YAMLMap {
  const oldObject = old !== undefined && isJsonObject(old) ? old : undefined;
  const seen = new Set<string>();
  const kept: Array<Pair<unknown, unknown>> = [];
  for (const pair of map.items) {
    const key = keyString(pair.key);
    if (!Object.prototype.hasOwnProperty.call(next, key) || seen.has(key)) continue;
    seen.add(key);
    pair.value = updateNode(pair.value, next[key] as JsonValue, doc, oldObject && own(oldObject, key));
    kept.push(pair);
  }
  map.items = kept;
  for (const [key, value] of Object.entries(next)) {
    if (seen.has(key)) continue;
    map.items.push(doc.createPair(key, value) as Pair<unknown, unknown>);
  }
  return map;
}

/** Name of a list element, for kyaml-style associative matching (`name` key). */
function elementName(v: unknown): string | undefined {
  if (yaml().isMap(v)) {
    const n = v.get('name');
    return typeof n === 'string' ? n : undefined;
  }
  const j = v as JsonValue;
  return isJsonObject(j) && typeof j.name === 'string' ? j.name : undefined;
}

function uniqueNames(names: Array<string | undefined>): names is string[] {
  return names.every((n) => n !== undefined) && new Set(names).size === names.length;
}

function updateSeq(seq: YAMLSeq, next: JsonValue[], doc: Doc, old: JsonValue | undefined): YAMLSeq {
  const oldArray = Array.isArray(old) && old.length === seq.items.length ? old : undefined;
  const oldNames = seq.items.map((i) => elementName(i));
  const newNames = next.map((v) => elementName(v));
  if (seq.items.length > 0 && uniqueNames(oldNames) && uniqueNames(newNames)) {
    // Associative list (containers, env, ports…): match elements by name.
    const byName = new Map(oldNames.map((n, i) => [n, i]));
    seq.items = next.map((v, i) => {
      const at = byName.get(newNames[i] as string);
      return at === undefined ? (doc.createNode(v) as Node) : updateNode(seq.items[at], v, doc, oldArray?.[at]);
    });
    return seq;
  }
  const items = next.map((v, i) => (i < seq.items.length ? updateNode(seq.items[i], v, doc, oldArray?.[i]) : (doc.createNode(v) as Node)));
  seq.items = items;
  return seq;
}

/**
 * Returns `node` updated to equal `next`: an unchanged subtree is returned as
 * is; maps and sequences are updated in place (kept keys keep their order and
 * comments, removed keys are deleted, new keys are appended); a changed scalar
 * or a change of node kind gets a fresh node carrying the old comments. `old`, when given, is what `node` reads as
 * (`nodeToJson`), known to the caller: it spares reading each level of the tree again.
 */
export function updateNode(node: unknown, next: JsonValue, doc: Doc, old?: JsonValue): Node {
  if (yaml().isPair(node)) throw new TypeError('updateNode: unexpected pair');
  if (yaml().isNode(node) && jsonEqual(old !== undefined ? old : nodeToJson(node, doc), next)) return node;
  if (yaml().isAlias(node)) return replaceNode(node, next, doc);
  if (yaml().isMap(node) && isJsonObject(next)) return updateMap(node, next, doc, old);
  if (yaml().isSeq(node) && Array.isArray(next)) return updateSeq(node, next, doc, old);
  return replaceNode(node, next, doc);
}
