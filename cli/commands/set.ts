/** `kclrun set`: edits a `.k` file in place with the engine's override (how CI bumps an image tag). */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { formatDiagnostic } from '../../fn/engine/diagnostics.js';
import type { CliEngine } from '../engine.js';
import { UsageError, write } from '../io.js';

/** Help text for `kclrun set`. */
export const SET_HELP = `Usage: kclrun set FILE PATH=VALUE...

Edits FILE in place with the KCL engine's override (kcl -O): sets each PATH to VALUE,
keeping the rest of the file and its comments. A VALUE that is not a KCL literal
(number, True/False/None, "quoted string", [list] or {dict}) is taken as a string, so
  kclrun set main.k config.containers.flaskdemo.image=kcllang/flask_demo:1f2e3d
sets the image. Use PATH- to delete an attribute.
`;

const LITERAL = /^(-?\d+(\.\d+)?([eE][-+]?\d+)?|True|False|None|Undefined|"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|\[.*\]|\{.*\})$/s;

/** Quotes VALUE as a KCL string unless it is already a KCL literal. */
export function toOverrideSpec(assignment: string): string {
  if (assignment.endsWith('-') && !assignment.includes('=')) return assignment;
  const eq = assignment.indexOf('=');
  if (eq <= 0) throw new UsageError(`"${assignment}": expected PATH=VALUE (or PATH- to delete)`);
  const path = assignment.slice(0, eq);
  const value = assignment.slice(eq + 1);
  return `${path}=${LITERAL.test(value.trim()) ? value : JSON.stringify(value)}`;
}

/** Runs `kclrun set`; returns the exit code. */
export async function setCommand(argv: string[], engine: CliEngine): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    await write(process.stdout, SET_HELP);
    return 0;
  }
  const [file, ...assignments] = argv;
  if (!file || assignments.length === 0) throw new UsageError('usage: kclrun set FILE PATH=VALUE...');
  const path = resolve(file);
  if (!existsSync(path)) throw new UsageError(`${file}: no such file`);
  const specs = assignments.map(toOverrideSpec);
  const out = await engine.override(path, specs);
  if (!out.ok) {
    for (const d of out.diagnostics) await write(process.stderr, `error: ${formatDiagnostic(d)}\n`);
    return 1;
  }
  if (!out.value) {
    await write(process.stderr, `error: ${file}: nothing was changed by ${specs.join(' ')}\n`);
    return 1;
  }
  for (const s of specs) await write(process.stdout, `${file}: ${s}\n`);
  return 0;
}
