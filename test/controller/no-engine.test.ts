/**
 * The controller and the CLI's own process never load the KCL engine: from their entry modules, no import —
 * static or dynamic — reaches koffi or the engine binding (fn/engine/native.js). Only the engine worker's entry
 * does (the positive control: the walk does find it from there).
 */
import test from 'ava';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const DIST = fileURLToPath(new URL('../../', import.meta.url));
const IMPORT = /(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)['"]([^'"]+)['"]/g;

/** Every module reachable from `entry` (relative imports followed, bare package names recorded as `pkg:<name>`). */
function reachable(entry: string): Set<string> {
  const seen = new Set<string>();
  const walk = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    for (const [, spec] of readFileSync(file, 'utf8').matchAll(IMPORT)) {
      if (spec!.startsWith('.')) walk(resolve(dirname(file), spec!));
      else seen.add(`pkg:${spec!.split('/')[0]}`);
    }
  };
  walk(join(DIST, entry));
  return seen;
}

const ENGINE = join(DIST, 'fn/engine/native.js');

for (const entry of ['controller/run.js', 'cli/commands/controller.js', 'cli/main.js', 'cli/commands/fn.js', 'cli/commands/render.js', 'cli/commands/set.js']) {
  test(`${entry} does not reach the engine`, (t) => {
    const mods = reachable(entry);
    t.true(mods.size > 3, 'the walk follows imports');
    t.false(mods.has('pkg:koffi'));
    t.false(mods.has(ENGINE));
  });
}

test('the engine worker entry does reach the engine (the walk finds it)', (t) => {
  const mods = reachable('fn/worker/entry.js');
  t.true(mods.has(ENGINE));
  t.true(mods.has('pkg:koffi'));
});
