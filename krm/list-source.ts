/**
 * The fast way in for a ResourceList as kpt and kyaml write it: one read of the whole text with the fast reader
 * (`block-yaml.ts`), then each item's lines cut out of the text as they are (`items:` entries at column 0, the
 * `functionConfig:` block), so an item that the function leaves unchanged is written back byte for byte and never
 * becomes a YAML document. Undefined whenever the layout is anything else (the full reader takes over).
 */
import { readBlockYaml } from './block-yaml.js';
import type { ItemSource } from './item.js';
import { isJsonObject, type JsonObject } from './types.js';

/** A ResourceList-shaped document, its items and functionConfig as source. */
export interface ListSource {
  /** The top-level mapping (its `items` and `functionConfig` are the same objects as in the sources). */
  root: JsonObject;
  items: ItemSource[];
  functionConfig?: ItemSource;
}


/** Lines of a top-level key's block: from the line after `key:` up to the next line at column 0 that is not blank. */
function blockAfter(lines: string[], keyLine: number): { from: number; to: number } {
  let to = keyLine + 1;
  while (to < lines.length && (lines[to] === '' || lines[to]![0] === ' ' || lines[to]![0] === '-')) to++;
  return { from: keyLine + 1, to };
}

/** The text of lines [from, to), each with its line end. */
function slice(text: string, starts: number[], from: number, to: number): string {
  const end = to < starts.length ? starts[to]! : text.length;
  const s = text.slice(starts[from], end);
  return s.endsWith('\n') ? s : `${s}\n`;
}

/**
 * Splits the `items:` block [from, to) into entries; undefined when a line is not part of an entry at column 2.
 * Blank (or whitespace-only) lines after an entry are written as the document path writes them: one empty line
 * between entries, none after the last (block scalars here are `|`/`|-`, so such lines are never content).
 */
function entries(text: string, lines: string[], starts: number[], from: number, to: number): string[] | undefined {
  const opens: number[] = [];
  for (let n = from; n < to; n++) {
    const line = lines[n]!;
    if (line.trim() === '' || line.startsWith('  ')) {
      if (opens.length === 0) return undefined; // something before the first entry (a comment, a blank line)
      continue;
    }
    if (line !== '-' && !line.startsWith('- ')) return undefined;
    opens.push(n);
  }
  return opens.map((open, i) => {
    const next = opens[i + 1] ?? to;
    let end = next;
    while (end > open + 1 && lines[end - 1]!.trim() === '') end--;
    return slice(text, starts, open, end) + (end < next && i + 1 < opens.length ? '\n' : '');
  });
}

/**
 * Reads `text` as a top-level block mapping whose `items` (if any) are block entries at column 0 and whose
 * `functionConfig` (if any) is a block mapping, each kept as source. Undefined when it is not that.
 */
export function readListSource(text: string): ListSource | undefined {
  const read = readBlockYaml(text);
  if (!read || !isJsonObject(read.value)) return undefined;
  const root = read.value;
  const { lines, starts } = read;
  const out: ListSource = { root, items: [] };
  for (let n = 0; n < lines.length; n++) {
    const line = lines[n]!;
    if (line[0] === '#') return undefined; // a top-level comment: where it belongs is the full reader's call
    if (line === 'items:' && Array.isArray(root.items)) {
      const { from, to } = blockAfter(lines, n);
      const texts = entries(text, lines, starts, from, to);
      const values = root.items;
      if (!texts || texts.length !== values.length) return undefined;
      for (const [i, v] of values.entries()) {
        if (!isJsonObject(v)) return undefined;
        out.items.push({ text: texts[i]!, value: v });
      }
    } else if (line === 'functionConfig:' && isJsonObject(root.functionConfig)) {
      const { from, to } = blockAfter(lines, n);
      for (let k = from; k < to; k++) if (lines[k] !== '' && !lines[k]!.startsWith('  ')) return undefined;
      // Trailing blank (or whitespace-only) lines are not the mapping's.
      let end = to;
      while (end > from && lines[end - 1]!.trim() === '') end--;
      out.functionConfig = { text: slice(text, starts, from, end), value: root.functionConfig };
    }
  }
  // Items or a functionConfig written any other way (`items: []` is fine: no entries).
  if (root.items !== undefined && root.items !== null && !Array.isArray(root.items)) return undefined;
  const itemCount = Array.isArray(root.items) ? root.items.length : 0;
  if (out.items.length !== itemCount) return undefined;
  if (root.functionConfig !== undefined && !out.functionConfig) return undefined;
  return out;
}
