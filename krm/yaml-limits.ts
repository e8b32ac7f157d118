/**
 * The alias budget for every YAML text kclrun parses (function input, engine output): a YAML alias bomb ("billion
 * laughs") is a few hundred bytes whose aliases expand to billions of nodes. The `yaml` package resolves an alias to
 * the same JS object, so parsing is cheap — the expansion happens later, in whatever walks the value (JSON.stringify,
 * deep comparison), where it runs for minutes and ends in "Invalid string length" or an OOM kill.
 *
 * The rule is Go's yaml.v3 (kpt, kustomize; yaml.v2 has it too): count decode operations — one per node of the fully
 * expanded document, those reached through an alias separately — and refuse the document as soon as more than 100
 * alias-driven decodes make more than 99 % of over 1,000 decodes (the share allowed falls to 10 % between 400,000
 * and 4,000,000 decodes). Two additions, both stricter than yaml.v3:
 * - the counts run over the whole text, not per document, so a stream of many small bombs adds up;
 * - aliases may add at most `max(16 MiB, the text's own length)` of scalar text, so an alias to one long string
 *   cannot multiply it into gigabytes either.
 * An alias that refers to itself (`&a [*a]`) or to no earlier anchor is refused too (the `yaml` package would build a
 * circular value, or throw later).
 *
 * Counting is one pass over the node tree: each anchored node's expanded size is remembered, so an alias costs one
 * lookup however large its expansion. A refused document costs at most that one pass.
 */
import type { Alias, Document, Node, ToJSOptions } from 'yaml';
import { yaml } from './yaml-lib.js';

/** yaml.v3's numbers (decode.go `alias_ratio_range_low/high`, and the minimums before the ratio applies). */
export const ALIAS_BUDGET = {
  /** Up to this many decodes, 99 % may come from aliases. */
  ratioRangeLow: 400_000,
  /** From this many decodes on, 10 % may. */
  ratioRangeHigh: 4_000_000,
  /** Below this many alias-driven decodes the ratio is not checked. */
  minAliasDecodes: 100,
  /** Below this many decodes the ratio is not checked. */
  minDecodes: 1_000,
  /** Scalar text aliases may add, at least (the text's own length, when larger, is the limit instead). */
  minAliasBytes: 16 * 1024 * 1024,
} as const;

/**
 * Options for every `toJS` call. The budget is enforced where text becomes nodes ({@link aliasBudgetProblem}, called
 * by every parse); the `yaml` package's own alias check is off, on purpose: its count (each anchor's uses times the
 * uses of the anchors nested in it, cumulative over the document) is not an expansion size — it refuses documents
 * far within yaml.v3's rule (150 uses of one anchor, past its default of 100; 1,000 uses of a scalar plus 500 of a
 * list holding it, past any fixed limit that still stops a bomb), and it would throw from deep inside a render.
 */
export const TO_JS_OPTIONS: ToJSOptions = { maxAliasCount: -1 };

/** The share of `decodes` that may come from aliases (yaml.v3 `allowedAliasRatio`). */
export function allowedAliasRatio(decodes: number): number {
  const { ratioRangeLow: low, ratioRangeHigh: high } = ALIAS_BUDGET;
  if (decodes <= low) return 0.99;
  if (decodes >= high) return 0.1;
  return 0.99 - 0.89 * ((decodes - low) / (high - low));
}

/** Why a text breaks the budget, and the source offset of the alias (or anchor) that did it. */
export interface AliasProblem {
  message: string;
  offset?: number;
}

/** The expanded size of a node: decodes, and characters of scalar text. */
interface Weight {
  nodes: number;
  bytes: number;
}

/** Running totals over one text. */
interface Counts {
  decodes: number;
  aliasDecodes: number;
  aliasBytes: number;
}

function scalarBytes(value: unknown): number {
  return value === null || value === undefined ? 0 : String(value).length;
}

/** The problem with the totals so far, if they are past the budget. */
function overBudget(c: Counts, byteLimit: number): string | undefined {
  const { minAliasDecodes, minDecodes } = ALIAS_BUDGET;
  if (c.aliasDecodes > minAliasDecodes && c.decodes > minDecodes && c.aliasDecodes / c.decodes > allowedAliasRatio(c.decodes)) {
    return (
      `document contains excessive aliasing: its aliases expand to ${c.aliasDecodes} of ${c.decodes} nodes so far, ` +
      `more than the ${Math.round(allowedAliasRatio(c.decodes) * 100)}% that YAML readers such as Go's yaml.v3 accept (a YAML alias bomb?)`
    );
  }
  if (c.aliasBytes > byteLimit) {
    return `document contains excessive aliasing: its aliases repeat more than ${byteLimit} characters of text (a YAML alias bomb?)`;
  }
  return undefined;
}

/** One collection being walked: its children still to visit and the weight gathered so far. */
interface Frame {
  node: Node;
  children: unknown[];
  next: number;
  weight: Weight;
}

function childrenOf(node: Node): unknown[] {
  if (yaml().isSeq(node)) return node.items;
  if (!yaml().isMap(node)) return [];
  const out: unknown[] = [];
  for (const p of node.items) out.push(p.key, p.value);
  return out;
}

function isProblem(v: Weight | AliasProblem | undefined): v is AliasProblem {
  return v !== undefined && 'message' in v;
}

/**
 * One text's walk, document by document in document order, iteratively (a deeply nested document cannot overflow
 * the stack). Each node adds its decode to the totals, each alias the remembered expansion of its anchor; the walk
 * stops at the first step past the budget.
 */
class AliasWalk {
  readonly #counts: Counts = { decodes: 0, aliasDecodes: 0, aliasBytes: 0 };
  readonly #byteLimit: number;
  /** Per document: the last node seen with each anchor. */
  #anchors = new Map<string, Node>();
  /** Per document: the expanded weight of each anchored node walked to its end. */
  #expanded = new Map<Node, Weight>();
  /** Per document: anchored collections still being walked (an alias to one of them is a cycle). */
  #open = new Set<Node>();
  #stack: Frame[] = [];

  constructor(textLength: number) {
    this.#byteLimit = Math.max(ALIAS_BUDGET.minAliasBytes, textLength);
  }

  /** Walks one document; the first problem, if any. */
  document(doc: Document): AliasProblem | undefined {
    this.#anchors = new Map();
    this.#expanded = new Map();
    this.#open = new Set();
    const root = this.#enter(doc.contents);
    if (isProblem(root)) return root;
    while (this.#stack.length > 0) {
      const top = this.#stack[this.#stack.length - 1]!;
      if (top.next >= top.children.length) {
        this.#close(top);
        continue;
      }
      const child = this.#enter(top.children[top.next++]);
      if (isProblem(child)) return child;
      if (child) this.#add(child);
    }
    return undefined;
  }

  /** Counts `node`: its weight, a problem, or undefined when it opened a frame (its weight comes at #close). */
  #enter(node: unknown): Weight | AliasProblem | undefined {
    if (yaml().isAlias(node)) return this.#alias(node);
    if (!yaml().isScalar(node) && !yaml().isMap(node) && !yaml().isSeq(node)) return { nodes: 0, bytes: 0 };
    this.#counts.decodes += 1;
    if (node.anchor) this.#anchors.set(node.anchor, node);
    const problem = overBudget(this.#counts, this.#byteLimit);
    if (problem) return { message: problem, offset: node.range?.[0] };
    if (yaml().isScalar(node)) {
      const weight = { nodes: 1, bytes: scalarBytes(node.value) };
      if (node.anchor) this.#expanded.set(node, weight);
      return weight;
    }
    if (node.anchor) this.#open.add(node);
    this.#stack.push({ node, children: childrenOf(node), next: 0, weight: { nodes: 1, bytes: 0 } });
    return undefined;
  }

  /** An alias decodes itself, then its anchor's whole expansion (yaml.v3 counts that as alias-driven). */
  #alias(alias: Alias): Weight | AliasProblem {
    const offset = alias.range?.[0];
    const target = this.#anchors.get(alias.source);
    if (!target) return { message: `alias *${alias.source} has no anchor &${alias.source} before it`, offset };
    if (this.#open.has(target)) return { message: `alias *${alias.source} is inside the node anchored &${alias.source} (a cycle)`, offset };
    const w = this.#expanded.get(target)!;
    this.#counts.decodes += 1 + w.nodes;
    this.#counts.aliasDecodes += w.nodes;
    this.#counts.aliasBytes += w.bytes;
    const problem = overBudget(this.#counts, this.#byteLimit);
    return problem ? { message: problem, offset } : { nodes: 1 + w.nodes, bytes: w.bytes };
  }

  /** A collection is done: remember its weight if anchored, and add it to its parent's. */
  #close(frame: Frame): void {
    this.#stack.pop();
    if (frame.node.anchor) {
      this.#expanded.set(frame.node, frame.weight);
      this.#open.delete(frame.node);
    }
    this.#add(frame.weight);
  }

  #add(w: Weight): void {
    const parent = this.#stack[this.#stack.length - 1];
    if (!parent) return;
    parent.weight.nodes += w.nodes;
    parent.weight.bytes += w.bytes;
  }
}

/**
 * The first problem with the aliases of `docs` (parsed from a text of `textLength` characters): past the budget,
 * a cycle, or an alias without an anchor. Undefined when there is none.
 */
export function aliasBudgetProblem(docs: ReadonlyArray<Document>, textLength: number): AliasProblem | undefined {
  const walk = new AliasWalk(textLength);
  for (const doc of docs) {
    const problem = walk.document(doc);
    if (problem) return problem;
  }
  return undefined;
}

/**
 * The first alias in `node` whose anchor is not set earlier inside `node`: it would not resolve once `node` stands
 * alone (a ResourceList item or functionConfig becomes a document of its own). kpt and kustomize never write such
 * lists: each of their items comes from a document of its own.
 */
export function aliasOutside(node: Node): Alias | undefined {
  const anchors = new Set<string>();
  let found: Alias | undefined;
  yaml().visit(node, {
    Node(_key, n) {
      if (yaml().isAlias(n)) {
        if (anchors.has(n.source)) return undefined;
        found = n;
        return yaml().visit.BREAK;
      }
      if (n.anchor) anchors.add(n.anchor);
      return undefined;
    },
  });
  return found;
}
