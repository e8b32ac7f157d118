/**
 * One KRM object backed by its own YAML document, so comments, key order,
 * quoting and flow style survive a round trip. An item read by the fast reader (`block-yaml.ts`) holds its source
 * text and value instead, and becomes a document only when something needs one: an unchanged item is written back
 * as it came in, a changed one is edited in its text where `text-patch.ts` can.
 */
import type { Document, Node, YAMLMap } from 'yaml';
import { yaml } from './yaml-lib.js';
import { patchEntry } from './text-patch.js';
import { isJsonObject, type JsonObject, type JsonValue } from './types.js';
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
  if (yaml().isMap(existing)) return existing;
  const created = doc.createNode({}) as YAMLMap;
  if (yaml().isScalar(existing) && existing.comment) created.comment = existing.comment;
  parent.set(doc.createNode(key), created);
  return created;
}

/** The source of an item the fast reader kept as text. */
export interface ItemSource {
  /**
   * The item's lines as they appear in the ResourceList, through the last line end: a sequence entry (`- kind: …`,
   * for items) or a mapping's block (`  kind: …`, for functionConfig), in both cases with the object at column 2.
   */
  text: string;
  /** Its value (owned by the item from now on). */
  value: JsonObject;
}

/** The object's mapping as a document of its own: the text at column 0. */
function dedent(text: string): string {
  return text
    .split('\n')
    .map((line) => line.slice(2))
    .join('\n');
}

/** One KRM object backed by its own YAML document (comments and style preserved). */
export class Item {
  #doc: Document | undefined;
  #source: ItemSource | undefined;

  /** Wraps an existing document. Prefer {@link Item.fromObject} or `parseInput`. */
  constructor(doc: Document) {
    this.#doc = doc;
  }

  /** An item kept as its source text (see {@link ItemSource}); it becomes a document on first use of {@link doc}. */
  static fromSource(source: ItemSource): Item {
    // No document yet: the getter reads one from the source on first use.
    const item = new Item(undefined as unknown as Document);
    item.#source = source;
    return item;
  }

  /**
   * The underlying document; its contents is the object's mapping node. An item kept as source text is read into
   * one now (and from then on is written from it).
   */
  get doc(): Document {
    if (!this.#doc) {
      this.#doc = yaml().parseDocument(dedent(this.#source!.text), GO_SCHEMA_OPTIONS);
      this.#source = undefined;
    }
    return this.#doc;
  }

  /** The source text of an item still kept as text (see {@link ItemSource}); undefined once it is a document. */
  get sourceText(): string | undefined {
    return this.#source?.text;
  }

  /**
   * The plain value as it is now, shared with the item: read it, never modify it (use {@link toObject} for a copy).
   * For an item kept as text it costs nothing.
   */
  view(): JsonObject {
    return this.#source ? this.#source.value : this.toObject();
  }

  /** A new item from a plain object (new strings like `yes` or `0644` are quoted so they stay strings). */
  static fromObject(obj: JsonObject): Item {
    return new Item(new (yaml().Document)(obj, GO_SCHEMA_OPTIONS));
  }

  /** A new item whose document holds `node` (shared, not copied). */
  static fromNode(node: Node): Item {
    const doc = new (yaml().Document)(null, GO_SCHEMA_OPTIONS);
    doc.contents = node;
    return new Item(doc);
  }

  /** Plain JSON view, as Go's yaml.v3 decodes it (`0644` → 420, `yes` → "yes"). Non-mapping contents give `{}`. */
  toObject(): JsonObject {
    if (this.#source) return JSON.parse(JSON.stringify(this.#source.value)) as JsonObject;
    const v = this.doc.toJS(TO_JS_OPTIONS) as JsonValue;
    return isJsonObject(v) ? v : {};
  }

  /** A string at `path`, from the value of an item kept as text, else from the document. */
  #stringAt(path: readonly string[]): string | undefined {
    if (!this.#source) return stringAt(this.doc, path);
    let v: JsonValue | undefined = this.#source.value;
    for (const key of path) v = isJsonObject(v) && Object.prototype.hasOwnProperty.call(v, key) ? v[key] : undefined;
    return typeof v === 'string' ? v : undefined;
  }

  /** `apiVersion`, if it is a string. */
  get apiVersion(): string | undefined {
    return this.#stringAt(['apiVersion']);
  }

  /** `kind`, if it is a string. */
  get kind(): string | undefined {
    return this.#stringAt(['kind']);
  }

  /** `metadata.name`, if it is a string. */
  get name(): string | undefined {
    return this.#stringAt(['metadata', 'name']);
  }

  /** `metadata.namespace`, if it is a string. */
  get namespace(): string | undefined {
    return this.#stringAt(['metadata', 'namespace']);
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
    if (this.#source) {
      const patched = patchEntry(this.#source.text, this.#source.value, next);
      if (patched !== undefined) {
        this.#source = { text: patched, value: next };
        return this;
      }
    }
    this.doc.contents = updateNode(this.doc.contents, next, this.doc, current) as typeof this.doc.contents;
    return this;
  }

  /** All `metadata.annotations` whose values are scalars, as strings, in document order. */
  getAnnotations(): Record<string, string> {
    const out: Record<string, string> = {};
    if (this.#source) {
      const md = this.#source.value.metadata;
      const values = isJsonObject(md) ? md.annotations : undefined;
      if (!isJsonObject(values)) return out;
      for (const [k, v] of Object.entries(values)) if (v !== null && typeof v !== 'object') out[k] = String(v);
      return out;
    }
    const ann = this.doc.getIn(['metadata', 'annotations'], true);
    if (!yaml().isMap(ann)) return out;
    for (const pair of ann.items) {
      const k = yaml().isScalar(pair.key) ? pair.key.value : pair.key;
      const v = yaml().isScalar(pair.value) ? pair.value.value : pair.value;
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
    if (!yaml().isMap(root)) throw new TypeError('setAnnotation: item is not a mapping');
    const metadata = ensureMap(this.doc, root, 'metadata');
    const annotations = ensureMap(this.doc, metadata, 'annotations');
    const existing = annotations.get(key, true);
    if (yaml().isScalar(existing)) existing.value = value;
    else annotations.set(this.doc.createNode(key), this.doc.createNode(value));
  }

  /** Removes an annotation; returns whether it was present. */
  deleteAnnotation(key: string): boolean {
    const ann = this.doc.getIn(['metadata', 'annotations'], true);
    return yaml().isMap(ann) ? ann.delete(key) : false;
  }

  /** This item as a standalone YAML document (kyaml style, no `---` marker). */
  toString(): string {
    return this.doc.toString({ ...TO_STRING_OPTIONS, directives: false });
  }
}
