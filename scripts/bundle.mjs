#!/usr/bin/env node
// `npm run build`, second step: bundles the compiled CLI (dist/cli/main.js) into a few files in dist/bundle/, which
// bin/kclrun loads when they are at least as new as dist/cli/main.js. Start-up is what it buys: loading ~50 ES
// modules one by one costs a short `kclrun fn` ~30 ms, a bundle a fraction of that. Packages stay in node_modules
// (external), dynamic imports stay lazy (code splitting: the engine's chunk is only loaded by commands that run
// the engine, never by `kclrun controller`; test/controller/no-engine.test.ts checks the bundle too). The bundle
// sits two levels below the install directory, as dist/fn/ does (fn/install-dir.ts relies on it). Processes started
// from a file (engine workers, the crash reporter) run the unbundled dist/ modules.
import { build } from 'esbuild';
import { rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outdir = join(root, 'dist', 'bundle');
rmSync(outdir, { recursive: true, force: true });
await build({
  entryPoints: { main: join(root, 'dist/cli/main.js'), controller: join(root, 'dist/cli/commands/controller.js') },
  outdir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  packages: 'external',
  chunkNames: '[name]-[hash]',
  logLevel: 'warning',
});
