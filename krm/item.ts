/**
 * One KRM object backed by its own YAML document, so comments, key order,
 * quoting and flow style survive a round trip.
 */
import { Document, isMap, isScalar, YAMLMap } from 'yaml';
import type { Node } from 'yaml';
import type { JsonObject, JsonValue } from './types.js';
import { updateNode } from './update.js';
import { TO_JS_OPTIONS } from './yaml-limits.js';
import { GO_SCHEMA_OPTIONS, TO_STRING_OPTIONS } from './yaml-schema.js';

/** A string-valued scalar at `path`, or undefined. */
function stringAt(doc: Document, path: readonly string[]): string | undefined {
  const v = doc.getIn(path, false);
  return typeof v === 'string' ? v : undefined;
}

/** Ensures `map[key]` is a mapping (creating or replacing an empty/null one) and returns it. */
function ensureMap(doc: Document, parent: YAMLMap, key: string): YAMLMap {
  const existing = parent.get(key, true);
  if (isMap(existing)) return existing;
  const created = doc.createNode({}) as YAMLMap;
  if (isScalar(existing) && existing.comment) created.comment = existing.comment;
  parent.set(doc.createNode(key), created);
  return created;
}

/** One KRM object backed by its own YAML document (comments and style preserved). */
export class Item {
  /** The underlying document; its contents is the object's mapping node. */
  readonly doc: Document;

  /** Wraps an existing document. Prefer {@link Item.fromObject} or `parseInput`. */
  constructor(doc: Document) {
    this.doc = doc;
  }

  /** A new item from a plain object (new strings like `yes` or `0644` are quoted so they stay strings). */
  static fromObject(obj: JsonObject): Item {
    return new Item(new Document(obj, GO_SCHEMA_OPTIONS));
  }

  /** A new item whose document holds `node` (shared, not copied). */
  static fromNode(node: Node): Item {
    const doc = new Document(null, GO_SCHEMA_OPTIONS);
    doc.contents = node;
    return new Item(doc);
  }

  /** Plain JSON view, as Go's yaml.v3 decodes it (`0644` → 420, `yes` → "yes"). Non-mapping contents give `{}`. */
  toObject(): JsonObject {
    const v = this.doc.toJS(TO_JS_OPTIONS) as JsonValue;
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? v : {};
  }

  /** `apiVersion`, if it is a string. */
  get apiVersion(): string | undefined {
    return stringAt(this.doc, ['apiVersion']);
  }

  /** `kind`, if it is a string. */
  get kind(): string | undefined {
    return stringAt(this.doc, ['kind']);
  }

  /** `metadata.name`, if it is a string. */
  get name(): string | undefined {
    return stringAt(this.doc, ['metadata', 'name']);
  }

  /** `metadata.namespace`, if it is a string. */
  get namespace(): string | undefined {
    return stringAt(this.doc, ['metadata', 'namespace']);
  }

  /**
   * Returns an item whose YAML is a copy of this item's YAML updated to equal
   * `next`: unchanged keys keep comments, order and quoting; changed scalars
   * are replaced (keeping their comments); removed keys are deleted; new keys
   * are appended. List elements with unique `name`s are matched by name.
   * This item is not modified.
   */
  withObject(next: JsonObject): Item {
    const doc = this.doc.clone();
    doc.contents = updateNode(doc.contents, next, doc) as typeof doc.contents;
    return new Item(doc);
  }

  /**
   * Like {@link withObject}, but updates this item's own YAML in place (no copy) and returns it: for callers that
   * are done with the input, such as a function merging its output back (a copy per item dominated large lists).
   * `current`, when given, must be this item's {@link toObject} as it is now: it saves reading the YAML again.
   */
  assignObject(next: JsonObject, current?: JsonObject): Item {
    this.doc.contents = updateNode(this.doc.contents, next, this.doc, current) as typeof this.doc.contents;
    return this;
  }

  /** All `metadata.annotations` whose values are scalars, as strings, in document order. */
  getAnnotations(): Record<string, string> {
    const out: Record<string, string> = {};
    const ann = this.doc.getIn(['metadata', 'annotations'], true);
    if (!isMap(ann)) return out;
    for (const pair of ann.items) {
      const k = isScalar(pair.key) ? pair.key.value : pair.key;
      const v = isScalar(pair.value) ? pair.value.value : pair.value;
      if (k === null || k === undefined || v === null || typeof v === 'object') continue;
      out[String(k)] = String(v);
    }
    return out;
  }

  /** One annotation value (a non-string scalar is returned in its string form). */
  getAnnotation(key: string): string | undefined {
    return this.getAnnotations()[key];
  }

  /** Sets an annotation, creating `metadata` / `metadata.annotations` when missing. */
  setAnnotation(key: string, value: string): void {
    const root = this.doc.contents;
    if (!isMap(root)) throw new TypeError('setAnnotation: item is not a mapping');
    const metadata = ensureMap(this.doc, root, 'metadata');
    const annotations = ensureMap(this.doc, metadata, 'annotations');
    const existing = annotations.get(key, true);
    if (isScalar(existing)) existing.value = value;
    else annotations.set(this.doc.createNode(key), this.doc.createNode(value));
  }

  /** Removes an annotation; returns whether it was present. */
  deleteAnnotation(key: string): boolean {
    const ann = this.doc.getIn(['metadata', 'annotations'], true);
    return isMap(ann) ? ann.delete(key) : false;
  }

  /** This item as a standalone YAML document (kyaml style, no `---` marker). */
  toString(): string {
    return this.doc.toString({ ...TO_STRING_OPTIONS, directives: false });
  }
}
