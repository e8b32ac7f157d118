#!/usr/bin/env node
// `npm run build`, second step: bundles the compiled CLI (dist/cli/main.js and all it imports, dynamically too) into
// one CommonJS file, dist/bundle/kclrun.cjs, which bin/kclrun loads when it is at least as new as
// dist/cli/main.js. Start-up is what it buys: a short `kclrun fn` loads one file through Node's CommonJS loader
// instead of ~50 ES modules through the ES module loader, ~45 ms sooner here. Packages stay in node_modules
// (external). A module reached only by a dynamic import is still evaluated only when that import runs (esbuild's lazy
// module initialisers), so `kclrun controller` never loads the engine: faults-worker.e2e checks the running
// controller's memory maps. The bundle sits two levels below the install directory, as dist/fn/ does
// (fn/install-dir.ts relies on it); `import.meta.url` is the bundle's own URL. Processes started from a file (engine
// workers, the crash reporter) run the unbundled dist/ modules.
import { build } from 'esbuild';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outfile = join(root, 'dist/bundle/kclrun.cjs');
rmSync(dirname(outfile), { recursive: true, force: true });
await build({
  entryPoints: [join(root, 'dist/cli/main.js')],
  outfile,
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  packages: 'external',
  banner: { js: 'const __kclrun_import_meta_url = require("node:url").pathToFileURL(__filename).href;' },
  define: { 'import.meta.url': '__kclrun_import_meta_url' },
  logLevel: 'warning',
});
// V8 keeps each script's source in the heap, as one byte per character only while every character is Latin-1.
// esbuild escapes non-ASCII in strings and regular expressions but keeps comments as written: one `→` in a kept doc
// comment doubled the bundle's ~0.5 MB resident source. Escape what is left (comments only) the same way.
const text = readFileSync(outfile, 'utf8');
writeFileSync(outfile, text.replace(/[^\x00-\x7f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`));
