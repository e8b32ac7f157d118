/**
 * Turns the engine's error text into structured diagnostics. The engine answers in two layouts:
 *
 *   error[E2G22]: TypeError                      EvaluationError
 *    --> /pkg/main.k:1:1                         ---> File main.k:2: nope
 *     |
 *   1 | x: int = "s"
 *     | ^ expected int, got str(s)
 *
 * (the first with ANSI colours, for files on disk; the second for inline code). Each header starts a diagnostic;
 * each location in it is one place, the first being where the error is reported.
 */

/** One place in KCL source that a diagnostic points at. */
export interface SourceLocation {
  file?: string;
  line?: number;
  column?: number;
  /** What the engine says about this place. */
  message: string;
}

/** One engine error, with its primary location and any related ones (e.g. a failed schema check's condition). */
export interface Diagnostic extends SourceLocation {
  severity: 'error';
  /** The engine's error code, e.g. `E2G22`. */
  code?: string;
  /** The engine's error kind, e.g. `TypeError`, `EvaluationError`, `InvalidSyntax`. */
  kind?: string;
  related?: SourceLocation[];
  /** The engine's suggestions ("try ..."). */
  hints?: string[];
}

// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-9;]*m/g;
const HEADER_CODED = /^error\[(\w+)\]:\s*(\w+)\s*$/;
const HEADER_BARE = /^(\w*Error)\s*$/;
const ARROW = /^\s*-->\s*(.+?):(\d+)(?::(\d+))?\s*$/;
const FILE_LINE = /^\s*--->\s*File\s+(.+?):(\d+)(?::(\d+))?:\s*(.*)$/;
const SUGGESTION = /^suggestion:\s*(.*)$/;

interface Block {
  code?: string;
  kind?: string;
  places: SourceLocation[];
  loose: string[];
  hints: string[];
}

/** Parses engine error text into diagnostics; text it cannot place becomes a diagnostic without a location. */
export function parseDiagnostics(text: string): Diagnostic[] {
  const lines = text.replace(ANSI, '').split('\n');
  const blocks: Block[] = [];
  let block: Block | undefined;
  let pending: SourceLocation | undefined;
  const open = (code?: string, kind?: string): Block => {
    block = { code, kind, places: [], loose: [], hints: [] };
    blocks.push(block);
    pending = undefined;
    return block;
  };
  for (const raw of lines) {
    const line = raw.trimEnd();
    if (!line.trim()) continue;
    let m: RegExpMatchArray | null;
    if ((m = line.match(HEADER_CODED))) open(m[1], m[2]);
    else if ((m = line.match(HEADER_BARE))) open(undefined, m[1]);
    else if ((m = line.match(SUGGESTION))) (block ?? open()).hints.push(m[1]!);
    else if ((m = line.match(FILE_LINE))) {
      (block ?? open()).places.push(place(m[1]!, m[2], m[3], m[4] ?? ''));
      pending = undefined;
    } else if ((m = line.match(ARROW))) {
      pending = place(m[1]!, m[2], m[3], '');
      (block ?? open()).places.push(pending);
    } else if (pending && /^\s*\|/.test(line)) {
      const note = line.replace(/^\s*\|/, '').trim().replace(/^\^+\s*/, '');
      if (note && !pending.message) pending.message = note;
    } else if (/^\s*\d+\s*\|/.test(line)) {
      // a source snippet line: skip
    } else (block ?? open()).loose.push(line.trim());
  }
  return dedupe(blocks.filter((b) => b.places.length || b.loose.length || b.kind).map(toDiagnostic));
}

function place(file: string, line?: string, column?: string, message = ''): SourceLocation {
  return { file, line: line ? Number(line) : undefined, column: column ? Number(column) : undefined, message };
}

function toDiagnostic(b: Block): Diagnostic {
  const [first, ...rest] = b.places;
  const message = [first?.message, ...b.loose].filter(Boolean).join(' ') || b.kind || 'KCL error';
  const d: Diagnostic = { severity: 'error', message, file: first?.file, line: first?.line, column: first?.column };
  if (b.code) d.code = b.code;
  if (b.kind) d.kind = b.kind;
  if (rest.length) d.related = rest;
  if (b.hints.length) d.hints = b.hints;
  return d;
}

function dedupe(list: Diagnostic[]): Diagnostic[] {
  const seen = new Set<string>();
  return list.filter((d) => {
    const key = `${d.file}:${d.line}:${d.column}:${d.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** `file:line:col: Kind: message` (plus related places), the way compilers print errors. */
export function formatDiagnostic(d: Diagnostic): string {
  const where = (l: SourceLocation) =>
    l.file ? `${l.file}${l.line ? `:${l.line}` : ''}${l.column ? `:${l.column}` : ''}: ` : '';
  const head = `${where(d)}${d.kind ? `${d.kind}: ` : ''}${d.message}`;
  const related = (d.related ?? []).map((r) => `\n  ${where(r)}${r.message}`).join('');
  return head + related;
}
