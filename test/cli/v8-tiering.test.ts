/**
 * The controller turns V8's optimizing compiler back on in a process started without it (bin/kclrun's `--no-opt`):
 * a hot function gets TurboFan code after enableOptimizingCompiler(), and does not without it (the control).
 */
import test from 'ava';
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { REPO } from '../support/kclrun.js';

const TIERING = pathToFileURL(join(REPO, 'dist', 'cli', 'v8-tiering.js')).href;

/**
 * Runs a hot function in `node --no-opt` until V8 has compiled it with TurboFan or `limitMs` passed (TurboFan takes a
 * few ms here; the limit is for a loaded machine); whether it did.
 */
async function turbofanned(enable: boolean, limitMs: number): Promise<boolean> {
  const script = join(mkdtempSync(join(tmpdir(), 'kclrun-tiering-')), 'hot.mjs');
  writeFileSync(script, [
    enable ? `(await import(${JSON.stringify(TIERING)})).enableOptimizingCompiler();` : '',
    'function hot(x) { return x * 2 + 1; }',
    'let sum = 0;',
    'const t0 = Date.now();',
    // 1 << 6: TurboFan code (V8's OptimizationStatus::kTurboFanned); compiled on a background thread, so yield.
    `while (Date.now() - t0 < ${limitMs} && !(%GetOptimizationStatus(hot) & 64)) {`,
    '  for (let i = 0; i < 10000; i++) sum += hot(i);',
    '  await new Promise((resolve) => setImmediate(resolve));',
    '}',
    'console.log(%GetOptimizationStatus(hot) & 64 ? "turbofan" : "not optimized", sum > 0);',
  ].join('\n'));
  const { stdout } = await promisify(execFile)(process.execPath, ['--no-opt', '--allow-natives-syntax', script], { encoding: 'utf8' });
  return stdout.startsWith('turbofan ');
}

test('enableOptimizingCompiler lets V8 optimize hot code in a process started with --no-opt', async (t) => {
  const [enabled, control] = await Promise.all([turbofanned(true, 20_000), turbofanned(false, 1500)]);
  t.true(enabled);
  t.false(control, 'without it, --no-opt holds');
});
