/**
 * A KCL program that crashes the engine (unbounded recursion: SIGSEGV in the engine) never ends `kclrun render` or
 * `kclrun fn` with a bare exit 139: they exit 1 with a message naming the file and the crash, and `kclrun fn` still
 * writes its items back unchanged with an error result. Both ways the CLI runs the engine are covered: in its own
 * process under the crash guard (libkclguard.so beside the engine, as `npm run engine:fetch` builds it), and in a
 * worker process when the guard is not there (an engine directory holding only the engine and its stub).
 */
import test from 'ava';
import { execFileSync, spawn } from 'node:child_process';
import { closeSync, constants, existsSync, openSync, symlinkSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { dirname, join } from 'node:path';
import { parse } from 'yaml';
import { crashGuardPath, engineLibraryPath } from '../../fn/engine/library.js';
import { KCLRUN, kclrun, tempDir, writeTree } from '../support/kclrun.js';

const RECURSION = 'f = lambda x: int -> int { f(x + 1) }\na = f(1)\n';
const CRASH = /main\.k: the KCL engine crashed \(SIGSEGV\) while running this program; the usual cause is unbounded recursion/;

const dir = writeTree(tempDir('kclrun-crash-'), { 'recurse/main.k': RECURSION, 'fine/main.k': 'a = 1\n' });

/** The two ways the CLI runs the engine, as the environment that selects each. */
const library = engineLibraryPath();
const noGuard = tempDir('kclrun-noguard-');
for (const f of ['libkcl.so', 'libpystub.so']) symlinkSync(join(dirname(library), f), join(noGuard, f));
const ENGINES = {
  'in-process, crash guard': { ...process.env, KCL_LIB_PATH: library },
  'engine worker, no crash guard': { ...process.env, KCL_LIB_PATH: join(noGuard, 'libkcl.so') },
};

test('the crash guard is built beside the engine (npm run engine:fetch), and absent from the worker set-up', (t) => {
  t.true(existsSync(crashGuardPath(library)), `no ${crashGuardPath(library)}: run \`npm run engine:fetch\``);
  t.false(existsSync(crashGuardPath(join(noGuard, 'libkcl.so'))));
});

/** A ResourceList of `n` ConfigMaps (one with a comment and an octal-looking string) for the program at `source`. */
function resourceList(source: string, n = 1): string {
  const items = Array.from({ length: n }, (_, i) => `- apiVersion: v1
  kind: ConfigMap
  metadata:
    name: cfg-${i} # keep me
  data:
    mode: '0644'
`).join('');
  return `apiVersion: config.kubernetes.io/v1
kind: ResourceList
items:
${items}functionConfig:
  apiVersion: krm.kcl.dev/v1alpha1
  kind: KCLRun
  metadata:
    name: fn
  spec:
    source: ${source}
`;
}

for (const [name, env] of Object.entries(ENGINES)) {
  test(`kclrun render (${name}): a program that crashes the engine exits 1 naming main.k and the crash, nothing on stdout`, (t) => {
    const r = kclrun(['render', 'recurse'], { cwd: dir, env });
    t.is(r.code, 1, r.stderr);
    t.regex(r.stderr, CRASH);
    t.is(r.stdout, '');
    // positive control: the same command on a program that does not crash
    const ok = kclrun(['render', 'fine'], { cwd: dir, env });
    t.is(ok.code, 0, ok.stderr);
    t.is(ok.stdout, 'a: 1\n');
  });

  test(`kclrun fn (${name}): a crashing program gives an error result and the items back unchanged, exit 1`, (t) => {
    const input = resourceList('./recurse/main.k');
    const r = kclrun(['fn'], { cwd: dir, input, env });
    t.is(r.code, 1, r.stderr);
    t.regex(r.stderr, CRASH);
    t.true(r.stdout.startsWith(input.slice(0, input.indexOf('functionConfig:'))), r.stdout);
    const out = parse(r.stdout) as { items: unknown[]; results: Array<{ severity: string; message: string }> };
    t.is(out.items.length, 1);
    t.is(out.results.length, 1);
    t.is(out.results[0]!.severity, 'error');
    t.regex(out.results[0]!.message, CRASH);
  });
}

test('kclrun fn (in-process, crash guard): an input larger than a pipe holds comes back whole after a crash', (t) => {
  const input = resourceList('./recurse/main.k', 2000);
  t.true(input.length > 200_000);
  const r = kclrun(['fn'], { cwd: dir, input, env: ENGINES['in-process, crash guard'] });
  t.is(r.code, 1, r.stderr);
  t.true(r.stdout.startsWith(input.slice(0, input.indexOf('functionConfig:'))));
  const out = parse(r.stdout) as { items: unknown[]; results: Array<{ message: string }> };
  t.is(out.items.length, 2000);
  t.regex(out.results[0]!.message, CRASH);
});

test('kclrun render (in-process, crash guard): the engine aborting (SIGABRT) during a call is reported too, exit 1', async (t) => {
  // The program blocks in the engine reading a FIFO: once the test's open for writing succeeds, the engine call is
  // under way, and the test sends the process SIGABRT (what an engine abort() raises).
  const pkg = writeTree(tempDir('kclrun-abort-'), { 'main.k': 'import file\na = file.read("fifo")\n' });
  execFileSync('mkfifo', [join(pkg, 'fifo')]);
  const child = spawn(process.execPath, [KCLRUN, 'render', pkg], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  let fd: number | undefined;
  for (const started = Date.now(); fd === undefined; await sleep(50)) {
    try {
      fd = openSync(join(pkg, 'fifo'), constants.O_WRONLY | constants.O_NONBLOCK);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENXIO') throw err;
      if (Date.now() - started > 60_000) {
        child.kill('SIGKILL');
        t.fail(`the program never opened its FIFO: ${stderr}`);
        return;
      }
    }
  }
  child.kill('SIGABRT');
  const code = await exited;
  closeSync(fd);
  t.is(code, 1, stderr);
  t.regex(stderr, /main\.k: the KCL engine crashed \(SIGABRT\) while running this program/);
  t.is(stdout, '');
});
