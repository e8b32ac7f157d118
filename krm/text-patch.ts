/**
 * Updating a ResourceList item's source text to a new value by editing only what changed — a changed scalar, a
 * key added to or removed from a block mapping, the same inside sequence elements — so every other byte (comments,
 * quoting, spacing) stays as it came in. It writes what `update.ts` + the `yaml` stringifier would write for those
 * edits (new keys appended in the new object's order, quote style of a changed string kept). Any other edit (a flow
 * collection or block scalar changed, a list reordered or resized, a value that needs quoting) answers
 * `undefined`: the caller then updates the item's document instead.
 */
import { plainValue, readBlockYaml, type MapPos, type NodePos, type SeqPos } from './block-yaml.js';
import { isJsonObject, type JsonObject, type JsonValue } from './types.js';
import { jsonEqual } from './update.js';
import { isYaml11Bool } from './yaml-schema.js';

interface Edit {
  start: number;
  end: number;
  text: string;
}


const own = (o: JsonObject, k: string): boolean => Object.prototype.hasOwnProperty.call(o, k);

/** Strings written plain as they are by the `yaml` stringifier (conservative: letters first, no indicators). */
const PLAIN_KEY = /^[A-Za-z_][A-Za-z0-9_./-]*$/;
const PLAIN_VALUE = /^[A-Za-z_/][A-Za-z0-9_./:-]*$/;

function plainString(s: string, pattern: RegExp): string | undefined {
  if (!pattern.test(s) || s.endsWith(':') || isYaml11Bool(s)) return undefined;
  try {
    return plainValue(s) === s ? s : undefined;
  } catch {
    return undefined; // a scalar the fast reader does not resolve: not written plain here either
  }
}

/** A scalar written inline, as the `yaml` stringifier writes a new node of that value; undefined when unsure. */
function inlineScalar(v: JsonValue): string | undefined {
  if (typeof v === 'string') return plainString(v, PLAIN_VALUE);
  if (typeof v === 'boolean') return String(v);
  if (typeof v === 'number') return Number.isInteger(v) && Math.abs(v) < 1e15 && !Object.is(v, -0) ? String(v) : undefined;
  return undefined;
}

/** `key: value` lines for new pairs at column `indent` (kyaml style: sequences not indented). */
function pairLines(entries: Array<[string, JsonValue]>, indent: number): string | undefined {
  let out = '';
  for (const [k, v] of entries) {
    const key = plainString(k, PLAIN_KEY);
    if (key === undefined) return undefined;
    const body = valueAfterKey(v, indent);
    if (body === undefined) return undefined;
    out += `${' '.repeat(indent)}${key}:${body}`;
  }
  return out;
}

/** What follows `key:` for value `v` of a pair at `indent`, through its last line end. */
function valueAfterKey(v: JsonValue, indent: number): string | undefined {
  if (isJsonObject(v)) {
    const entries = Object.entries(v);
    if (entries.length === 0) return ' {}\n';
    const lines = pairLines(entries, indent + 2);
    return lines === undefined ? undefined : `\n${lines}`;
  }
  if (Array.isArray(v)) {
    if (v.length === 0) return ' []\n';
    const lines = entryLines(v, indent);
    return lines === undefined ? undefined : `\n${lines}`;
  }
  const s = inlineScalar(v);
  return s === undefined ? undefined : ` ${s}\n`;
}

/** `- value` lines for a new sequence at column `indent`. */
function entryLines(values: JsonValue[], indent: number): string | undefined {
  let out = '';
  const pad = ' '.repeat(indent);
  for (const v of values) {
    if (isJsonObject(v)) {
      const entries = Object.entries(v);
      if (entries.length === 0) return undefined;
      const lines = pairLines(entries, indent + 2);
      if (lines === undefined) return undefined;
      out += `${pad}- ${lines.slice(indent + 2)}`;
    } else {
      const s = inlineScalar(v);
      if (s === undefined) return undefined;
      out += `${pad}- ${s}\n`;
    }
  }
  return out;
}

/** A changed scalar's new text: a string keeps the old one's quotes, as `update.ts` does. */
function scalarText(next: JsonValue, old: JsonValue, style: 'plain' | 'single' | 'double'): string | undefined {
  if (typeof next === 'string' && typeof old === 'string' && style !== 'plain') {
    if (!/^[\x20-\x7e]*$/.test(next)) return undefined;
    if (style === 'single') return `'${next.replaceAll("'", "''")}'`;
    return next.includes('"') || next.includes('\\') ? undefined : `"${next}"`;
  }
  return inlineScalar(next);
}

/** The `name` of a list element, for associative matching as `update.ts` does it. */
function nameOf(v: JsonValue): string | undefined {
  return isJsonObject(v) && typeof v.name === 'string' ? v.name : undefined;
}

function uniqueNames(values: JsonValue[]): Array<string | undefined> | undefined {
  const names = values.map(nameOf);
  return names.every((n) => n !== undefined) && new Set(names).size === names.length ? names : undefined;
}

class Patcher {
  readonly edits: Edit[] = [];

  node(pos: NodePos, old: JsonValue, next: JsonValue): boolean {
    if (jsonEqual(old, next)) return true;
    if (pos.kind === 'map' && isJsonObject(old) && isJsonObject(next)) return this.map(pos, old, next);
    if (pos.kind === 'seq' && Array.isArray(old) && Array.isArray(next)) return this.seq(pos, old, next);
    if (pos.kind !== 'scalar' || isJsonObject(next) || Array.isArray(next) || next === null) return false;
    const text = scalarText(next, old, pos.style);
    if (text === undefined) return false;
    this.edits.push({ start: pos.start, end: pos.end, text });
    return true;
  }

  map(pos: MapPos, old: JsonObject, next: JsonObject): boolean {
    let kept = 0;
    for (const pair of pos.pairs) {
      if (!own(next, pair.key)) {
        // A removed pair: its own lines go; leading comments or a shared dash line are left to update.ts.
        if (pair.decorated || pair.onDashLine) return false;
        this.edits.push({ start: pair.start, end: pair.end, text: '' });
        continue;
      }
      kept++;
      if (!this.node(pair.value, old[pair.key]!, next[pair.key]!)) return false;
    }
    const added = Object.entries(next).filter(([k]) => !own(old, k));
    if (added.length === 0) return kept > 0;
    const lines = pairLines(added, pos.indent);
    if (lines === undefined) return false;
    this.edits.push({ start: pos.end, end: pos.end, text: lines });
    return true;
  }

  seq(pos: SeqPos, old: JsonValue[], next: JsonValue[]): boolean {
    if (old.length !== next.length || pos.items.length !== old.length) return false;
    const oldNames = uniqueNames(old);
    const newNames = uniqueNames(next);
    // update.ts matches elements by name when both lists have unique names: only the same order is patched here.
    if (oldNames && newNames && oldNames.some((n, i) => n !== newNames[i])) return false;
    return pos.items.every((p, i) => this.node(p, old[i]!, next[i]!));
  }
}

/** `text` with `edits` applied (deletions before insertions at the same offset; inner insertions first). */
function applyEdits(text: string, edits: Edit[]): string {
  const order = edits.map((e, i) => ({ e, i }));
  order.sort((a, b) => b.e.start - a.e.start || b.e.end - b.e.start - (a.e.end - a.e.start) || b.i - a.i);
  let out = text;
  for (const { e } of order) out = out.slice(0, e.start) + e.text + out.slice(e.end);
  return out;
}

/**
 * `entry` (one `- key: …` sequence entry of a ResourceList's items, through its last line end) edited so that it
 * reads as `next` instead of `old`; undefined when the edit is not one this module makes.
 */
export function patchEntry(entry: string, old: JsonObject, next: JsonObject): string | undefined {
  const read = readBlockYaml(entry, true);
  const pos = read?.pos;
  if (pos?.kind !== 'seq' || pos.items.length !== 1 || pos.items[0]!.kind !== 'map') return undefined;
  const patcher = new Patcher();
  if (!patcher.node(pos.items[0]!, old, next)) return undefined;
  return applyEdits(entry, patcher.edits);
}
