/**
 * Go's yaml.v3 (kpt, kustomize, kubectl) and libyaml (PyYAML) write a multi-line quoted scalar whose value ends in a
 * line break with its closing quote at column 0:
 *
 *     spec:
 *       source: 'a = 1
 *
 *         '
 *
 * YAML 1.2 wants every continuation line of a flow scalar indented past its parent block (`s-flow-line-prefix(n)`);
 * yaml.v3, libyaml and js-yaml do not check that, the `yaml` package does ("Missing closing 'quote"). The leading
 * white space of a flow scalar's continuation line is never part of its value (line folding strips it), so indenting
 * such lines to the opening quote's column makes the text valid without changing any value. Only used when the text
 * as given does not parse.
 */

/** Where a scalar may start on a line: after these characters (plus white space). */
const STARTS_AFTER = new Set([':', '-', '?', ',', '[', '{']);

interface Scan {
  /** Quote that is still open at the end of the line, and the column it opened at. */
  open?: { quote: '"' | "'"; column: number };
  /** Block scalar header found: lines indented more than this belong to it. */
  blockAbove?: number;
}

/** Column of a line's node: past its indentation and any `- ` / `? ` entry indicators (the last one's column). */
function nodeColumn(line: string): { node: number; lastIndicator: number } {
  let i = 0;
  while (line[i] === ' ') i++;
  let lastIndicator = i - 1;
  while ((line[i] === '-' || line[i] === '?') && (line[i + 1] === ' ' || line[i + 1] === '\t')) {
    lastIndicator = i;
    i += 2;
    while (line[i] === ' ' || line[i] === '\t') i++;
  }
  return { node: i, lastIndicator };
}

/** Index just past the closing `quote` from `from`, or -1 when the line ends first. */
export function closeOf(line: string, from: number, quote: '"' | "'"): number {
  for (let i = from; i < line.length; i++) {
    const c = line[i];
    if (quote === '"' && c === '\\') {
      i++;
      continue;
    }
    if (c !== quote) continue;
    if (quote === "'" && line[i + 1] === "'") {
      i++;
      continue;
    }
    return i + 1;
  }
  return -1;
}

/** Whether position `i` of `line` can start a scalar (start of content, or after an indicator / anchor / tag). */
function scalarStart(line: string, i: number, contentStart: number): boolean {
  if (i === contentStart) return true;
  let j = i - 1;
  const direct = line[j];
  if (direct === '[' || direct === '{' || direct === ',') return true;
  if (direct !== ' ' && direct !== '\t') return false;
  while (j >= contentStart && (line[j] === ' ' || line[j] === '\t')) j--;
  if (j < contentStart) return true;
  if (STARTS_AFTER.has(line[j]!)) return true;
  // `&anchor 'x'` or `!!str 'x'`: the previous token is a node property.
  let k = j;
  while (k > contentStart && line[k - 1] !== ' ' && line[k - 1] !== '\t') k--;
  return line[k] === '&' || line[k] === '!';
}

/** Scans one line outside any quoted scalar, from `from`. */
function scanLine(line: string, from: number): Scan {
  const { node, lastIndicator } = nodeColumn(line);
  const contentStart = Math.min(from, node);
  for (let i = from; i < line.length; i++) {
    const c = line[i];
    if (c === '#' && (i === 0 || line[i - 1] === ' ' || line[i - 1] === '\t')) return {};
    if ((c === "'" || c === '"') && scalarStart(line, i, contentStart)) {
      const end = closeOf(line, i + 1, c);
      if (end === -1) return { open: { quote: c, column: i } };
      i = end - 1;
      continue;
    }
    if ((c === '|' || c === '>') && scalarStart(line, i, contentStart)) {
      // The block's content is indented past its key, or past its `-` when the scalar is the entry itself.
      return { blockAbove: i === node ? lastIndicator : node };
    }
  }
  return {};
}

function indentOf(line: string): number {
  let i = 0;
  while (line[i] === ' ') i++;
  return i;
}

/**
 * `text` with the under-indented continuation lines of multi-line quoted scalars indented to their opening quote's
 * column; everything else byte for byte. Keeps CRLF line ends (a `\r` stays at its line's end).
 */
export function indentFlowScalars(text: string): string {
  const lines = text.split('\n');
  let open: Scan['open'];
  let blockAbove: number | undefined;
  for (let n = 0; n < lines.length; n++) {
    let line = lines[n]!;
    let from = 0;
    if (open) {
      const blank = line.trim() === '';
      if (!blank && indentOf(line) <= open.column) {
        line = ' '.repeat(open.column + 1 - indentOf(line)) + line;
        lines[n] = line;
      }
      const end = closeOf(line, 0, open.quote);
      if (end === -1) continue;
      open = undefined;
      from = end;
    } else if (blockAbove !== undefined) {
      if (line.trim() === '' || indentOf(line) > blockAbove) continue;
      blockAbove = undefined;
    }
    const scan = scanLine(line, from);
    open = scan.open;
    blockAbove = scan.blockAbove;
  }
  return lines.join('\n');
}
