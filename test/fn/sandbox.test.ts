/**
 * The engine workers' file-system sandbox (Landlock), with real engine workers — the native host
 * (kclrun-engine-host) and the Node fallback, the same tests for both: a program can read the files of its artifact
 * and nothing else — even a file its module root holds, which the engine's own check (`file.read` refuses paths
 * outside the module root) lets pass — and can write nowhere. The same programs without the sandbox are the
 * positive control. Crashes and deadlines are still caught when the engine runs on the worker's main thread.
 */
import test, { type ExecutionContext } from 'ava';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { EnginePool } from '../../fn/worker/pool.js';
import { workerSandboxPolicy } from '../../fn/worker/sandbox-policy.js';
import { engineLibraryPath } from '../../fn/engine/library.js';
import type { RenderOutcome } from '../../fn/render.js';
import { formatDiagnostic } from '../../fn/engine/diagnostics.js';
import { tempDir, writeTree } from '../support/kclrun.js';

// <top>/token.txt is outside the artifact <top>/artifact; an inline program run with <top> as its work dir has <top>
// as its module root, so the engine's own check lets it read the token.
const top = writeTree(tempDir('kclrun-sandbox-'), { 'token.txt': 'controller-token-value' });
const artifact = join(top, 'artifact');
mkdirSync(artifact);
writeTree(artifact, {
  'own.k': 'import file\nown = file.read("write.k")[:11]\n',
  'write.k': 'import file\nfile.write("written.txt", "x")\na = 1\n',
  'crash.k': 'f = lambda x: int -> int { f(x + 1) }\na = f(1)\n',
  'slow.k': 'fib = lambda n: int -> int { 1 if n < 2 else fib(n - 1) + fib(n - 2) }\na = fib(40)\n',
});
const READ = 'import file\ntoken = file.read("token.txt")\nown = file.read("artifact/write.k")[:11]\n';
const readOutside = (p: EnginePool) =>
  p.render({ source: { kind: 'inline', code: READ }, baseDir: top, inlineName: join(top, 'main.k') }, top);

const render = (p: EnginePool, file: string) =>
  p.render({ source: { kind: 'local', paths: [join(artifact, file)] }, baseDir: artifact }, artifact);
const message = (out: RenderOutcome) => (out.ok ? JSON.stringify(out.objects) : out.diagnostics.map(formatDiagnostic).join('; '));

const KINDS = { native: undefined, node: null } as const;
type Kind = keyof typeof KINDS;

function pool(t: ExecutionContext, kind: Kind, sandboxed: boolean, timeoutMs?: number): EnginePool {
  const libraryPath = engineLibraryPath();
  const p = new EnginePool({
    workers: 1,
    timeoutMs,
    libraryPath,
    hostPath: KINDS[kind],
    sandbox: sandboxed ? workerSandboxPolicy(libraryPath, { readOnly: [artifact], readWrite: [] }) : undefined,
  });
  t.teardown(() => p.close());
  if (p.native !== (kind === 'native')) t.fail(`expected ${kind} workers: run \`npm run engine:fetch\` with a C compiler to build kclrun-engine-host`);
  return p;
}

for (const kind of Object.keys(KINDS) as Kind[]) {
  test.serial(`${kind} worker: without the sandbox (control), a program whose module root holds a file outside the artifact reads it, and writes land`, async (t) => {
    const p = pool(t, kind, false);
    rmSync(join(artifact, 'written.txt'), { force: true });
    t.is(await p.probe(), undefined);
    t.is(message(await readOutside(p)), JSON.stringify([{ token: 'controller-token-value', own: 'import file' }]));
    t.is(message(await render(p, 'write.k')), JSON.stringify([{ a: 1 }]));
    t.true(existsSync(join(artifact, 'written.txt')));
  });

  test.serial(`${kind} worker: in the sandbox, the artifact is readable, a file outside it is not, and nothing is writable`, async (t) => {
    const p = pool(t, kind, true);
    t.like(await p.probe(), { applied: true }, 'this machine has Landlock (Linux >= 5.13): the sandbox must apply');
    const read = message(await readOutside(p));
    t.regex(read, /main\.k:2: EvaluationError: failed to access the file '.*token\.txt': Permission denied/);
    t.notRegex(read, /controller-token-value/);
    t.is(message(await render(p, 'own.k')), JSON.stringify([{ own: 'import file' }]));
    t.is(message(await render(p, 'write.k')).match(/Permission denied/)?.[0], 'Permission denied');
    const written = join(artifact, 'written-in-sandbox.txt');
    const out = await p.render(
      { source: { kind: 'inline', code: `import file\nfile.write("${written}", "x")\n` }, baseDir: artifact, inlineName: join(artifact, 'main.k') },
      artifact,
    );
    t.regex(message(out), /Permission denied/);
    t.false(existsSync(written));
  });

  test.serial(`${kind} worker: in the sandbox, a crash and a deadline are still caught and named, and the next render works`, async (t) => {
    const p = pool(t, kind, true, 1000);
    t.is(message(await render(p, 'crash.k')), `${join(artifact, 'crash.k')}: the KCL engine crashed (SIGSEGV) while running this program; the usual cause is unbounded recursion`);
    t.is(message(await render(p, 'slow.k')), `${join(artifact, 'slow.k')}: the program ran longer than the 1s limit and was stopped (set by --render-timeout)`);
    t.is(message(await render(p, 'own.k')), JSON.stringify([{ own: 'import file' }]));
  });
}
