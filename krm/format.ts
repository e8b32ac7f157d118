/**
 * Writing function output: a ResourceList (kpt) or a YAML stream (kustomize
 * exec plugins, CI). Items are written in the order given, each from its own
 * document, so untouched items come out byte-for-byte as they came in.
 */
import type { Node } from 'yaml';
import { yaml } from './yaml-lib.js';
import type { Item } from './item.js';
import { resultToJson } from './results.js';
import type { Result } from './types.js';
import { GO_SCHEMA_OPTIONS, TO_STRING_OPTIONS } from './yaml-schema.js';

/** ResourceList apiVersion written on output. */
const API_VERSION = 'config.kubernetes.io/v1';

/** Options for {@link formatResourceList}. */
export interface FormatResourceListOptions {
  /** Written back as `functionConfig` (kpt keeps it; omitting it loses it). Default: none. */
  functionConfig?: Item;
  /** Written as `results` when non-empty. Default: none. */
  results?: readonly Result[];
}

function joinComments(...parts: Array<string | null | undefined>): string | undefined {
  const kept = parts.filter((p): p is string => typeof p === 'string' && p !== '');
  return kept.length > 0 ? kept.join('\n') : undefined;
}

/**
 * The node to place in `items:` for one item. Head comments (the document's
 * and the mapping's) move onto the first key, so they are written as
 * `- # comment` inside the item instead of before the dash: kpt would
 * otherwise duplicate them on every run. The item's own node is not changed.
 */
function sequenceNode(item: Item): Node {
  const doc = item.doc;
  const contents = doc.contents as Node;
  const head = yaml().isMap(contents) ? joinComments(doc.commentBefore, contents.commentBefore) : undefined;
  const tail = doc.comment;
  if (!yaml().isMap(contents) || (head === undefined && !tail)) return contents;
  const copy = new (yaml().YAMLMap)(doc.schema);
  copy.items = contents.items.slice();
  copy.flow = contents.flow;
  copy.comment = joinComments(contents.comment, tail);
  const first = copy.items[0];
  if (head !== undefined && first) {
    const key = first.key instanceof yaml().Scalar ? first.key.clone() : new (yaml().Scalar)(first.key);
    key.commentBefore = joinComments(head, key.commentBefore);
    copy.items[0] = new (yaml().Pair)(key, first.value);
  } else if (head !== undefined) {
    copy.commentBefore = head;
  }
  return copy;
}

/** The `functionConfig` node; a document-level head comment stays on the mapping. */
function functionConfigNode(item: Item): Node {
  const contents = item.doc.contents as Node;
  const head = item.doc.commentBefore;
  if (!head || !yaml().isCollection(contents)) return contents;
  const copy = contents.clone() as Node;
  copy.commentBefore = joinComments(head, contents.commentBefore);
  return copy;
}

/** `key: value` at the top level of a ResourceList, as the whole list's stringifier writes it. */
function topLevelText(key: string, value: Node): string {
  const doc = new (yaml().Document)(null, GO_SCHEMA_OPTIONS);
  const root = new (yaml().YAMLMap)(doc.schema);
  root.set(key, value);
  doc.contents = root;
  return doc.toString(TO_STRING_OPTIONS);
}

/** One item as an entry of `items:`, as the whole list's stringifier writes it. */
function entryText(item: Item): string {
  const doc = new (yaml().Document)(null, GO_SCHEMA_OPTIONS);
  const seq = new (yaml().YAMLSeq)(doc.schema);
  seq.items = [sequenceNode(item)];
  doc.contents = seq;
  return doc.toString(TO_STRING_OPTIONS);
}

/**
 * The ResourceList written piece by piece when some items (or the functionConfig) are still kept as source text
 * (`Item.sourceText`): those are written as they are, the others as the whole list's stringifier writes them.
 * Undefined when nothing is kept as text, or there are no items.
 */
function fromSources(items: readonly Item[], opts: FormatResourceListOptions): string | undefined {
  if (items.length === 0) return undefined;
  const fc = opts.functionConfig;
  if (!items.some((i) => i.sourceText !== undefined) && fc?.sourceText === undefined) return undefined;
  const parts = [`apiVersion: ${API_VERSION}\nkind: ResourceList\nitems:\n`];
  for (const item of items) parts.push(item.sourceText ?? entryText(item));
  if (fc) {
    const text = fc.sourceText;
    parts.push(text !== undefined ? `functionConfig:\n${text}` : topLevelText('functionConfig', functionConfigNode(fc)));
  }
  if (opts.results && opts.results.length > 0) {
    const doc = new (yaml().Document)(null, GO_SCHEMA_OPTIONS);
    parts.push(topLevelText('results', doc.createNode(opts.results.map(resultToJson)) as Node));
  }
  return parts.join('');
}

/**
 * Writes a ResourceList (`config.kubernetes.io/v1`) with `items` in the given
 * order, then `functionConfig` and `results` when given. kyaml style
 * (`indentSeq: false`, no folding). Ends with a newline.
 */
export function formatResourceList(items: readonly Item[], opts: FormatResourceListOptions = {}): string {
  const fast = fromSources(items, opts);
  if (fast !== undefined) return fast;
  const doc = new (yaml().Document)(null, GO_SCHEMA_OPTIONS);
  const root = new (yaml().YAMLMap)(doc.schema);
  root.set('apiVersion', API_VERSION);
  root.set('kind', 'ResourceList');
  const seq = new (yaml().YAMLSeq)(doc.schema);
  seq.items = items.map(sequenceNode);
  root.set('items', seq);
  if (opts.functionConfig) root.set('functionConfig', functionConfigNode(opts.functionConfig));
  if (opts.results && opts.results.length > 0) {
    root.set('results', doc.createNode(opts.results.map(resultToJson)));
  }
  doc.contents = root;
  return doc.toString(TO_STRING_OPTIONS);
}

/** Writes the items as a YAML stream: documents separated by `---`; empty for no items. */
export function formatStream(items: readonly Item[]): string {
  return items.map((item) => item.toString()).join('---\n');
}
