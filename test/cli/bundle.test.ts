/** The CLI bundle `npm run build` writes (scripts/bundle.mjs), as bin/kclrun loads it. */
import test from 'ava';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { REPO } from '../support/kclrun.js';

const BUNDLE = join(REPO, 'dist', 'bundle', 'kclrun.cjs');

test('the bundle is current and pure ASCII, so V8 keeps its source at one byte per character', (t) => {
  t.true(statSync(BUNDLE).mtimeMs >= statSync(join(REPO, 'dist', 'cli', 'main.js')).mtimeMs, 'bin/kclrun uses the bundle');
  const text = readFileSync(BUNDLE, 'utf8');
  const wide = [...text.matchAll(/[^\x00-\x7f]/g)].map((m) => text.slice(Math.max(0, m.index - 30), m.index + 10));
  t.deepEqual(wide, []);
  // The doc comments that carried non-ASCII text are still there, escaped (the build did run the escape step).
  t.regex(text, /\\u2192/);
});
