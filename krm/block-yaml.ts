/**
 * A fast reader for the block-style YAML subset that kpt, kustomize, kyaml and kclrun itself write: block mappings
 * and sequences, single-line plain and quoted scalars, one-line flow collections, literal block scalars (`|`, `|-`),
 * comments. It reads a value the way the full reader (the `yaml` package with the Go-compatible schema,
 * `yaml-schema.ts`) does, and, on request, where each node sits in the text (for `text-patch.ts`).
 *
 * Anything outside the subset — anchors, aliases, tags, multi-line flow or plain scalars, folded and kept block
 * scalars, scalars the Go schema reads specially (`0644`, `0x1F`, `1e3`, `.inf`), tabs, CRLF, a BOM, directives,
 * several documents, duplicate keys, invalid YAML — makes it answer `undefined`: the caller then uses the full
 * reader, which also reports errors with their position. It never guesses.
 */
import { closeOf } from './flow-indent.js';
import type { JsonObject, JsonValue } from './types.js';

/** Where a node sits in the text (offsets into the text that was read). */
export type NodePos = MapPos | SeqPos | ScalarPos | OtherPos;

/** A block mapping. */
export interface MapPos {
  kind: 'map';
  /** Column of its keys. */
  indent: number;
  pairs: PairPos[];
  /** Offset just past the line end of its last content line (comment lines after it are not included). */
  end: number;
}

/** One `key: value` of a block mapping. */
export interface PairPos {
  key: string;
  /** Offset of the start of the key's line (for a mapping's first pair in a `- key:` entry: of the key itself). */
  start: number;
  value: NodePos;
  /** Offset just past the line end of the pair's last content line. */
  end: number;
  /** Whether comment or blank lines come right before the pair (they belong to it). */
  decorated: boolean;
  /** Whether the pair is the first of a `- key: value` sequence entry (it shares the dash's line). */
  onDashLine: boolean;
}

/** A block sequence. */
export interface SeqPos {
  kind: 'seq';
  indent: number;
  items: NodePos[];
}

/** A single-line scalar: its text spans [start, end) on one line. */
export interface ScalarPos {
  kind: 'scalar';
  style: 'plain' | 'single' | 'double';
  start: number;
  end: number;
}

/** A node the patcher does not edit inside: flow collections, block scalars, empty values. */
export interface OtherPos {
  kind: 'flow' | 'block' | 'empty';
}

/** Raised inside the reader when the text leaves the subset; `readBlockYaml` turns it into `undefined`. */
class OutsideSubset extends Error {}

const outside = (): never => {
  throw new OutsideSubset();
};

/** Plain strings the core schema reads as null or booleans. */
const NULL_OR_BOOL = /^(?:~|null|Null|NULL|true|True|TRUE|false|False|FALSE)$/;
const DECIMAL_INT = /^-?(?:0|[1-9][0-9]{0,14})$/;
/** `0644`: YAML 1.1 octal, as yaml.v3 reads it (`yaml-schema.ts`). */
const GO_OCTAL = /^-?0[0-7]{1,15}$/;
const DECIMAL_FLOAT = /^-?(?:0|[1-9][0-9]{0,14})\.[0-9]{1,15}$/;
const FLOAT_EXP = /^-?(?:0|[1-9][0-9]{0,14})(?:\.[0-9]{1,15})?[eE][-+]?[0-9]{1,3}$/;
/** What the Go schema may read as a number (ints, octal, hex, binary, floats, `.inf`, `.nan`): left to the full reader. */
const NUMBER_LIKE = /^[-+]?(?:[0-9][0-9_]*|0[xob][0-9a-f_]+|(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:e[-+]?[0-9]+)?|\.(?:inf|nan))$/i;
/** Characters a plain scalar may not start with (YAML indicators), besides `-`, `?`, `:` handled apart. */
const INDICATOR = new Set(['[', ']', '{', '}', ',', '#', '&', '*', '!', '|', '>', "'", '"', '%', '@', '`']);
/** Plain keys the reader accepts: no spaces, no indicators. */
const SIMPLE_KEY = /^[A-Za-z0-9_./-][A-Za-z0-9_./:@+-]*$/;

/** The value the Go-compatible core schema gives a plain scalar, or outside the subset. */
export function plainValue(s: string): JsonValue {
  // Most scalars start with a letter that no null, boolean or number starts with: a string, no pattern to try.
  const c = s.charCodeAt(0) | 0x20;
  if (c >= 0x61 && c <= 0x7a && c !== 0x6e && c !== 0x74 && c !== 0x66) return s;
  if (NULL_OR_BOOL.test(s)) {
    if (s === '~' || s[0] === 'n' || s[0] === 'N') return null;
    return s[0] === 't' || s[0] === 'T';
  }
  if (DECIMAL_INT.test(s)) return s === '-0' ? outside() : Number(s);
  if (GO_OCTAL.test(s)) {
    const v = parseInt(s, 8);
    return v === 0 && s[0] === '-' ? outside() : v;
  }
  if (DECIMAL_FLOAT.test(s)) return Number(s);
  if (FLOAT_EXP.test(s)) {
    const v = parseFloat(s);
    return Number.isFinite(v) && v !== 0 ? v : outside();
  }
  if (NUMBER_LIKE.test(s)) return outside();
  return s;
}

const SIMPLE_ESCAPES: Record<string, string> = {
  '0': '\0', a: '\x07', b: '\b', t: '\t', '\t': '\t', n: '\n', v: '\v', f: '\f', r: '\r', e: '\x1b', ' ': ' ',
  '"': '"', '/': '/', '\\': '\\', N: '\u0085', _: '\u00a0', L: '\u2028', P: '\u2029',
};
const HEX_LENGTH: Record<string, number> = { x: 2, u: 4, U: 8 };

/** The value of a double-quoted scalar's body (between the quotes). */
function unescapeDouble(body: string): string {
  if (!body.includes('\\')) return body;
  let out = '';
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (c !== '\\') {
      out += c;
      continue;
    }
    const e = body[++i] ?? outside();
    const simple = SIMPLE_ESCAPES[e];
    if (simple !== undefined) {
      out += simple;
      continue;
    }
    const n = HEX_LENGTH[e] ?? outside();
    const hex = body.slice(i + 1, i + 1 + n);
    if (!/^[0-9a-fA-F]+$/.test(hex) || hex.length !== n) outside();
    out += String.fromCodePoint(parseInt(hex, 16));
    i += n;
  }
  return out;
}

/** End (exclusive) of the quoted scalar opening at `from` on `line`, or -1 when the line ends first. */
function quoteEnd(line: string, from: number): number {
  return closeOf(line, from + 1, line[from] as '"' | "'");
}

function quotedValue(text: string): string {
  const body = text.slice(1, -1);
  return text[0] === "'" ? body.replaceAll("''", "'") : unescapeDouble(body);
}

/** Whether `line` from `i` on is only spaces, or spaces then a comment. */
function restIsComment(line: string, i: number): boolean {
  let j = i;
  while (line[j] === ' ') j++;
  return j === line.length || (line[j] === '#' && j > i);
}

/** Keys already checked (a list repeats the same few keys): raw text → key. */
const knownKeys = new Map<string, string>();

/** A mapping key: plain (simple, read as a string) or quoted. */
function keyValue(raw: string): string {
  const known = knownKeys.get(raw);
  if (known !== undefined) return known;
  const key = checkedKey(raw);
  if (knownKeys.size < 4096) knownKeys.set(raw, key);
  return key;
}

function checkedKey(raw: string): string {
  let key: string;
  if (raw[0] === "'" || raw[0] === '"') key = quotedValue(raw);
  else if (SIMPLE_KEY.test(raw) && typeof plainValue(raw) === 'string') key = raw;
  else return outside();
  return key === '__proto__' ? outside() : key;
}

/** A `key:` at `from` of `line`: the key's raw text and the index just past its colon, or undefined. */
function keyAt(line: string, from: number): { raw: string; after: number } | undefined {
  const c = line[from];
  if (c === "'" || c === '"') {
    const end = quoteEnd(line, from);
    if (end === -1) return undefined;
    if (line[end] !== ':' || (end + 1 < line.length && line[end + 1] !== ' ')) return undefined;
    return { raw: line.slice(from, end), after: end + 1 };
  }
  for (let i = from; i < line.length; i++) {
    const ch = line[i];
    if (ch === '#' && line[i - 1] === ' ') return undefined;
    if (ch === ':' && (i + 1 === line.length || line[i + 1] === ' ')) return { raw: line.slice(from, i), after: i + 1 };
  }
  return undefined;
}

/** One-line flow collections: `{a: b, c: [1, 2]}`. */
class FlowReader {
  i: number;
  constructor(
    readonly s: string,
    from: number,
  ) {
    this.i = from;
  }

  #spaces(): void {
    while (this.s[this.i] === ' ') this.i++;
  }

  value(): JsonValue {
    this.#spaces();
    const c = this.s[this.i];
    if (c === '{') return this.#map();
    if (c === '[') return this.#seq();
    if (c === "'" || c === '"') {
      const end = quoteEnd(this.s, this.i);
      if (end === -1) outside();
      const v = quotedValue(this.s.slice(this.i, end));
      this.i = end;
      return v;
    }
    return plainValue(this.#plain());
  }

  #plain(): string {
    const start = this.i;
    const c = this.s[start];
    if (c === undefined || INDICATOR.has(c) || c === '?' || c === ':' || (c === '-' && this.s[start + 1] === ' ')) outside();
    while (this.i < this.s.length) {
      const ch = this.s[this.i]!;
      if (ch === ',' || ch === ']' || ch === '}' || ch === '[' || ch === '{' || ch === '#') break;
      if (ch === ':' && (this.s[this.i + 1] === ' ' || this.s[this.i + 1] === ',' || this.s[this.i + 1] === '}' || this.s[this.i + 1] === ']')) break;
      this.i++;
    }
    const text = this.s.slice(start, this.i).trimEnd();
    if (text === '' || this.s[this.i] === '[' || this.s[this.i] === '{' || this.s[this.i] === '#') outside();
    return text;
  }

  #map(): JsonObject {
    this.i++;
    const out: JsonObject = {};
    for (;;) {
      this.#spaces();
      if (this.s[this.i] === '}') {
        this.i++;
        return out;
      }
      const c = this.s[this.i];
      let key: string;
      if (c === "'" || c === '"') {
        const end = quoteEnd(this.s, this.i);
        if (end === -1) outside();
        key = keyValue(this.s.slice(this.i, end));
        this.i = end;
      } else {
        key = keyValue(this.#plain());
      }
      this.#spaces();
      if (this.s[this.i] !== ':' || this.s[this.i + 1] !== ' ') outside();
      this.i++;
      if (Object.prototype.hasOwnProperty.call(out, key)) outside();
      out[key] = this.value();
      this.#spaces();
      if (this.s[this.i] === ',') this.i++;
      else if (this.s[this.i] !== '}') outside();
    }
  }

  #seq(): JsonValue[] {
    this.i++;
    const out: JsonValue[] = [];
    for (;;) {
      this.#spaces();
      if (this.s[this.i] === ']') {
        this.i++;
        return out;
      }
      out.push(this.value());
      this.#spaces();
      if (this.s[this.i] === ':') outside(); // `[a: b]`: a single-pair mapping
      if (this.s[this.i] === ',') this.i++;
      else if (this.s[this.i] !== ']') outside();
    }
  }
}

/** The block reader over one text. */
class BlockReader {
  readonly lines: string[];
  readonly starts: number[];
  /** Next line to read. */
  n = 0;
  /** Set by every node read when positions are tracked. */
  pos: NodePos | undefined;
  /** Last content line of the latest node read (for pair ends). */
  lastContent = 0;

  constructor(
    readonly text: string,
    readonly track: boolean,
  ) {
    this.lines = text.split('\n');
    this.starts = new Array<number>(this.lines.length);
    let at = 0;
    for (let i = 0; i < this.lines.length; i++) {
      this.starts[i] = at;
      at += this.lines[i]!.length + 1;
    }
  }

  /** Offset just past line `i`'s line end. */
  lineEnd(i: number): number {
    return Math.min(this.starts[i]! + this.lines[i]!.length + 1, this.text.length);
  }

  /** Skips blank and comment-only lines from `n`; returns whether any were skipped. */
  skip(): boolean {
    const from = this.n;
    while (this.n < this.lines.length) {
      const line = this.lines[this.n]!;
      let i = 0;
      while (line[i] === ' ') i++;
      if (i < line.length && line[i] !== '#') break;
      this.n++;
    }
    return this.n > from;
  }

  /** Whether line `i` is blank or only a comment. */
  blankOrComment(i: number): boolean {
    const line = this.lines[i]!;
    let j = 0;
    while (line[j] === ' ') j++;
    return j === line.length || line[j] === '#';
  }

  /** Indentation of line `n` (call after skip). */
  indent(): number {
    const line = this.lines[this.n]!;
    let i = 0;
    while (line[i] === ' ') i++;
    return i;
  }

  atEnd(): boolean {
    return this.n >= this.lines.length;
  }

  /** Whether line `n` at `col` is a sequence entry (`- x` or a bare `-`). */
  isEntry(col: number): boolean {
    return this.isEntryAt(this.lines[this.n]!, col);
  }

  /** Whether `line` at `at` is a sequence entry. */
  isEntryAt(line: string, at: number): boolean {
    return line[at] === '-' && (at + 1 === line.length || line[at + 1] === ' ');
  }

  /** A block node whose first line is `n` (after skip), indented at `col`. */
  node(col: number): JsonValue {
    if (this.isEntry(col)) return this.seq(col);
    const line = this.lines[this.n]!;
    if (!keyAt(line, col)) outside();
    return this.map(col, col);
  }

  /**
   * A block mapping at column `col`; its first key is at `firstCol` of line `n` (beyond `col` when it follows a
   * sequence entry's dash).
   */
  map(col: number, firstCol: number): JsonObject {
    const out: JsonObject = {};
    const pairs: PairPos[] = [];
    let at = firstCol;
    let end = 0;
    for (;;) {
      const line = this.lines[this.n]!;
      const k = keyAt(line, at) ?? outside();
      const key = keyValue(k.raw);
      if (Object.prototype.hasOwnProperty.call(out, key)) outside();
      const startLine = this.n;
      out[key] = this.valueAfter(line, k.after, col, false);
      if (this.track) {
        const start = at === col ? this.starts[startLine]! : this.starts[startLine]! + at;
        end = this.lineEnd(this.lastContent);
        const decorated = startLine > 0 && this.blankOrComment(startLine - 1);
        pairs.push({ key, start, value: this.pos!, end, decorated, onDashLine: at !== col });
      }
      this.skip();
      if (this.atEnd()) break;
      const ind = this.indent();
      if (ind > col) outside();
      if (ind < col || this.isEntry(col)) break;
      at = col;
    }
    if (this.track) this.pos = { kind: 'map', indent: col, pairs, end };
    return out;
  }

  /** A block sequence at column `col`, first entry on line `n`. */
  seq(col: number): JsonValue[] {
    const out: JsonValue[] = [];
    const items: NodePos[] = [];
    for (;;) {
      const line = this.lines[this.n]!;
      let at = col + 1;
      while (line[at] === ' ') at++;
      if (at === line.length || line[at] === '#') {
        this.lastContent = this.n;
        this.n++;
        out.push(this.nestedOrNull(col, true));
      } else if (this.isEntryAt(line, at)) {
        outside(); // `- - x`
      } else if (keyAt(line, at)) {
        out.push(this.map(at, at));
      } else {
        out.push(this.valueAfter(line, at - 1, col, true));
      }
      if (this.track) items.push(this.pos!);
      this.skip();
      if (this.atEnd()) break;
      const ind = this.indent();
      if (ind > col) outside();
      if (ind < col || !this.isEntry(col)) break;
    }
    if (this.track) this.pos = { kind: 'seq', indent: col, items };
    return out;
  }

  /**
   * The value after a key's colon (or a sequence dash) at `from` on `line` (line `n`); `col` is the column of the
   * key (or dash) that owns it. Leaves `n` on the line after the value.
   */
  valueAfter(line: string, from: number, col: number, inSeq: boolean): JsonValue {
    let i = from;
    while (line[i] === ' ') i++;
    this.lastContent = this.n;
    if (i === line.length || (line[i] === '#' && i > from)) {
      this.n++;
      return this.nestedOrNull(col, inSeq);
    }
    if (i === from) outside(); // `key:value` is one plain scalar, not a pair: never here
    const c = line[i]!;
    const lineStart = this.starts[this.n]!;
    if (c === '{' || c === '[') {
      const flow = new FlowReader(line, i);
      const v = flow.value();
      if (!restIsComment(line, flow.i)) outside();
      this.pos = this.track ? { kind: 'flow' } : undefined;
      this.n++;
      return v;
    }
    if (c === "'" || c === '"') {
      const end = quoteEnd(line, i);
      if (end === -1 || !restIsComment(line, end)) outside();
      this.pos = this.track ? { kind: 'scalar', style: c === "'" ? 'single' : 'double', start: lineStart + i, end: lineStart + end } : undefined;
      this.n++;
      return quotedValue(line.slice(i, end));
    }
    if (c === '|') return this.literal(line, i, col);
    if (INDICATOR.has(c) || c === '?' || c === ':' || (c === '-' && (line[i + 1] === ' ' || i + 1 === line.length))) outside();
    let end = line.length;
    const hash = line.indexOf(' #', i);
    if (hash !== -1) end = hash;
    const text = line.slice(i, end).trimEnd();
    if (text.includes(': ') || text.endsWith(':')) outside();
    this.pos = this.track ? { kind: 'scalar', style: 'plain', start: lineStart + i, end: lineStart + i + text.length } : undefined;
    this.n++;
    return plainValue(text);
  }

  /** The node on the lines after a bare `key:` or `-`: nested deeper, a sequence at the key's column, or null. */
  nestedOrNull(col: number, inSeq: boolean): JsonValue {
    this.skip();
    if (!this.atEnd()) {
      const ind = this.indent();
      if (ind > col) return this.node(ind);
      if (ind === col && !inSeq && this.isEntry(col)) return this.seq(col);
    }
    this.pos = this.track ? { kind: 'empty' } : undefined;
    return null;
  }

  /** A literal block scalar (`|` or `|-`) whose header is at `i` of `line`; `col` is its owner's column. */
  literal(line: string, i: number, col: number): string {
    let h = i + 1;
    const strip = line[h] === '-';
    if (strip) h++;
    if (!restIsComment(line, h) || (h < line.length && line[h] !== ' ')) outside();
    this.n++;
    const body: string[] = [];
    let indent = -1;
    let last = this.n - 1;
    while (this.n < this.lines.length) {
      const l = this.lines[this.n]!;
      let j = 0;
      while (l[j] === ' ') j++;
      if (j === l.length) {
        if (indent !== -1 && j > indent) outside(); // a blank line with spaces beyond the indentation
        if (indent === -1 && j > 0) outside(); // leading blank lines with spaces: left to the full reader
        body.push('');
        this.n++;
        continue;
      }
      if (indent === -1) {
        if (j <= col) break;
        indent = j;
      } else if (j < indent) break;
      body.push(l.slice(indent));
      last = this.n;
      this.n++;
    }
    // Trailing blank lines are not content: give them back to the lines after the scalar.
    const kept = indent === -1 ? 0 : last - (this.n - body.length) + 1;
    this.n -= body.length - kept;
    body.length = kept;
    this.lastContent = last;
    this.pos = this.track ? { kind: 'block' } : undefined;
    if (body.length === 0) return '';
    const text = body.join('\n');
    return strip ? text : `${text}\n`;
  }
}

/** What {@link readBlockYaml} found: the document's value and, when tracked, where its nodes are. */
export interface BlockRead {
  value: JsonValue;
  pos?: NodePos;
  /** The text's lines (without line ends) and the offset each starts at. */
  lines: string[];
  starts: number[];
}

/**
 * Reads one YAML document of the subset (a block mapping or sequence at column 0); `undefined` when the text is
 * outside the subset (see the file comment). `track` records node positions (`NodePos`).
 */
export function readBlockYaml(text: string, track = false): BlockRead | undefined {
  if (text.includes('\t') || text.includes('\r') || text.charCodeAt(0) === 0xfeff || /^(?:---|\.\.\.|%)/m.test(text)) return undefined;
  const r = new BlockReader(text, track);
  try {
    r.skip();
    if (r.atEnd() || r.indent() !== 0) return undefined;
    const value = r.node(0);
    r.skip();
    if (!r.atEnd()) return undefined;
    return { value, pos: r.pos, lines: r.lines, starts: r.starts };
  } catch (err) {
    if (err instanceof OutsideSubset) return undefined;
    throw err;
  }
}
