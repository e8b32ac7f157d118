/**
 * Reading function input: a ResourceList (`config.kubernetes.io/v1`) or a
 * plain YAML stream of objects (kustomize exec plugins, CI pipes).
 */
import type { Document, LineCounter, Node, parseAllDocuments, YAMLMap } from 'yaml';
import { yaml } from './yaml-lib.js';
import { KrmInputError, YamlAliasError } from './errors.js';
import { indentFlowScalars } from './flow-indent.js';
import { Item } from './item.js';
import { readListSource } from './list-source.js';
import { resultsFromJson } from './results.js';
import type { JsonValue, Result } from './types.js';
import { aliasBudgetProblem, aliasOutside, TO_JS_OPTIONS } from './yaml-limits.js';
import { GO_SCHEMA_OPTIONS } from './yaml-schema.js';

export { KrmInputError, YamlAliasError } from './errors.js';
export { formatResourceList, formatStream } from './format.js';

/** apiVersion of a ResourceList. */
export const RESOURCE_LIST_API_VERSION = 'config.kubernetes.io/v1';
/** Older ResourceList apiVersion, still accepted on input. */
export const RESOURCE_LIST_API_VERSION_ALPHA = 'config.kubernetes.io/v1alpha1';
/** kind of a ResourceList. */
export const RESOURCE_LIST_KIND = 'ResourceList';

/** How the input arrived: a ResourceList, or a plain YAML stream. */
export type InputFormat = 'ResourceList' | 'stream';

/** Parsed function input. */
export interface ResourceListInput {
  /** Which shape the input had (answer in the same shape). */
  format: InputFormat;
  /** The items, in input order. */
  items: Item[];
  /** `functionConfig` of a ResourceList (never set for a stream). */
  functionConfig?: Item;
  /** `results` already present on an input ResourceList. */
  results?: Result[];
}

function scalarString(map: YAMLMap, key: string): string | undefined {
  const v = map.get(key);
  return typeof v === 'string' ? v : undefined;
}

function isResourceList(node: unknown): node is YAMLMap {
  if (!yaml().isMap(node)) return false;
  const apiVersion = scalarString(node, 'apiVersion');
  return (
    scalarString(node, 'kind') === RESOURCE_LIST_KIND &&
    (apiVersion === RESOURCE_LIST_API_VERSION || apiVersion === RESOURCE_LIST_API_VERSION_ALPHA)
  );
}

function offsetOf(node: unknown): number | undefined {
  return (node as Node | undefined)?.range?.[0];
}

function isEmptyNode(node: unknown): boolean {
  return node === null || node === undefined || (yaml().isScalar(node) && node.value === null);
}

function parseDocs(text: string): { docs: ReturnType<typeof parseAllDocuments>; lines: LineCounter } {
  const lines = new (yaml().LineCounter)();
  return { docs: yaml().parseAllDocuments(text, { ...GO_SCHEMA_OPTIONS, lineCounter: lines }), lines };
}

function hasErrors(docs: ReturnType<typeof parseAllDocuments>): boolean {
  return Array.isArray(docs) && docs.some((d) => d.errors.length > 0);
}

/**
 * Parses `text`; when it has syntax errors, parses it again with the continuation lines of its quoted scalars
 * indented (`flow-indent.ts`: how yaml.v3 writes them, values unchanged) and keeps that if it is clean. Throws the
 * first error of the text as given otherwise.
 */
function parseYaml(text: string): { docs: ReturnType<typeof parseAllDocuments>; lines: LineCounter } {
  const first = parseDocs(text);
  if (!hasErrors(first.docs)) return first;
  const indented = indentFlowScalars(text);
  if (indented !== text) {
    const second = parseDocs(indented);
    if (!hasErrors(second.docs)) return second;
  }
  for (const doc of first.docs as Document.Parsed[]) checkSyntax(doc, first.lines);
  return first;
}

/** Throws the first syntax error of `doc` with its position. */
function checkSyntax(doc: Document.Parsed, lines: LineCounter): void {
  const err = doc.errors[0];
  if (!err) return;
  const detail = err.message.split('\n')[0]?.replace(/ at line \d+, column \d+:?$/, '') ?? err.code;
  throw KrmInputError.at(detail, err.pos[0], lines);
}

/** `node` as an item of its own; refused when one of its aliases refers to an anchor elsewhere in the list. */
function standalone(node: Node, what: string, lines: LineCounter, aliases: boolean): Item {
  const alias = aliases ? aliasOutside(node) : undefined;
  if (alias) {
    throw YamlAliasError.at(`${what} uses the alias *${alias.source} of an anchor outside it: each item must stand on its own`, offsetOf(alias), lines);
  }
  return Item.fromNode(node);
}

function readResourceList(doc: Document.Parsed, root: YAMLMap, lines: LineCounter, aliases: boolean): ResourceListInput {
  const itemsNode = root.get('items', true);
  const items: Item[] = [];
  if (yaml().isSeq(itemsNode)) {
    // `items:\n# comment\n- apiVersion: …` parses as the sequence's comment: it belongs to the first item.
    const head = itemsNode.items[0];
    if (itemsNode.commentBefore && yaml().isMap(head)) {
      head.commentBefore = head.commentBefore ? `${itemsNode.commentBefore}\n${head.commentBefore}` : itemsNode.commentBefore;
      itemsNode.commentBefore = undefined;
    }
    itemsNode.items.forEach((node, i) => {
      if (!yaml().isMap(node)) throw KrmInputError.at(`ResourceList items[${i}] is not a mapping`, offsetOf(node) ?? offsetOf(itemsNode), lines);
      items.push(standalone(node, `ResourceList items[${i}]`, lines, aliases));
    });
  } else if (!isEmptyNode(itemsNode)) {
    throw KrmInputError.at('ResourceList items is not a sequence', offsetOf(itemsNode), lines);
  }
  const input: ResourceListInput = { format: 'ResourceList', items };
  const fc = root.get('functionConfig', true);
  if (yaml().isMap(fc)) input.functionConfig = standalone(fc, 'ResourceList functionConfig', lines, aliases);
  else if (!isEmptyNode(fc)) throw KrmInputError.at('ResourceList functionConfig is not a mapping', offsetOf(fc), lines);
  const resultsNode = root.get('results', true);
  if (resultsNode !== undefined) {
    const results = resultsFromJson((resultsNode as Node).toJS(doc, TO_JS_OPTIONS) as JsonValue);
    if (results.length > 0) input.results = results;
  }
  return input;
}

/**
 * A ResourceList as kpt writes it, read the fast way (`list-source.ts`): items kept as their source text. Undefined
 * for anything else, including input the full reader would refuse (it then says why).
 */
function readFast(text: string): ResourceListInput | undefined {
  const list = readListSource(text);
  if (!list) return undefined;
  const { root } = list;
  const apiVersion = root.apiVersion;
  if (root.kind !== RESOURCE_LIST_KIND || (apiVersion !== RESOURCE_LIST_API_VERSION && apiVersion !== RESOURCE_LIST_API_VERSION_ALPHA)) return undefined;
  // `results` on input are rare: the full reader handles them.
  if (root.results !== undefined && root.results !== null) return undefined;
  const input: ResourceListInput = { format: 'ResourceList', items: list.items.map((s) => Item.fromSource(s)) };
  if (list.functionConfig) input.functionConfig = Item.fromSource(list.functionConfig);
  return input;
}

/**
 * Reads a ResourceList or a YAML stream. In a stream every document is one
 * item (a `kind: List` document is an item too); empty documents are skipped.
 * Throws {@link KrmInputError} (with line and column) for invalid YAML, or
 * for a document / ResourceList item that is not a mapping; {@link YamlAliasError} (a KrmInputError) for aliases
 * past the alias budget (`yaml-limits.ts`), before anything expands them.
 */
export function parseInput(text: string): ResourceListInput {
  const fast = readFast(text);
  if (fast) return fast;
  const parsed = parseYaml(text);
  if (!Array.isArray(parsed.docs)) return { format: 'stream', items: [] };
  const { docs, lines } = parsed as { docs: Document.Parsed[]; lines: LineCounter };
  // Without a `*` the text has no alias: nothing to count (the walks cost ~10% of reading a large list).
  const aliases = text.includes('*');
  const problem = aliases ? aliasBudgetProblem(docs, text.length) : undefined;
  if (problem) throw YamlAliasError.at(problem.message, problem.offset, lines);
  const nonEmpty = docs.filter((d) => !isEmptyNode(d.contents));
  const first = nonEmpty[0];
  if (nonEmpty.length === 1 && first && isResourceList(first.contents)) {
    return readResourceList(first, first.contents, lines, aliases);
  }
  const items = nonEmpty.map((doc, i) => {
    if (!yaml().isMap(doc.contents)) {
      throw KrmInputError.at(`YAML document ${i + 1} is not a mapping (a KRM object)`, offsetOf(doc.contents), lines);
    }
    return new Item(doc);
  });
  return { format: 'stream', items };
}
