/**
 * The controller never loads `@kubernetes/client-node` (it cost the controller ~70 MiB of RSS): no import — static or
 * dynamic — reaches it from the controller's entry modules or from any module of controller/, fn/, krm/ or cli/;
 * and a Node process that imports the controller with a resolve hook refusing the package starts. The positive
 * controls: the walk finds it from the test harness (which uses it), and the hook does refuse it there.
 */
import test from 'ava';
import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { DIST, reachable } from './module-graph.js';

const CLIENT_NODE = 'pkg:@kubernetes/client-node';

/** Every .js module under dist/<dir>. */
function modulesUnder(dir: string): string[] {
  return readdirSync(join(DIST, dir), { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.js'))
    .map((f) => relative(DIST, join(DIST, dir, f)));
}

test('no module of controller/, fn/, krm/ or cli/ reaches @kubernetes/client-node', (t) => {
  const entries = ['controller', 'fn', 'krm', 'cli'].flatMap(modulesUnder);
  t.true(entries.length > 50, 'the modules were found');
  const offenders = entries.filter((e) => reachable(e).has(CLIENT_NODE));
  t.deepEqual(offenders, []);
});

test('the walk finds @kubernetes/client-node from the test harness (positive control)', (t) => {
  t.true(reachable('test/harness/control-plane.js').has(CLIENT_NODE));
});

/** Imports `module` (under dist/) in a fresh node whose resolve hook throws for any @kubernetes/ package. */
function importRefusingClientNode(module: string): Promise<{ code: number; stderr: string }> {
  const hooks = `export async function resolve(s, c, next) { if (s.startsWith('@kubernetes/')) throw new Error('refused: ' + s); return next(s, c); }`;
  const register = `import { register } from 'node:module'; register(${JSON.stringify(`data:text/javascript,${encodeURIComponent(hooks)}`)});`;
  const script = `await import(${JSON.stringify(join(DIST, module))});`;
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', `data:text/javascript,${encodeURIComponent(register)}`, '--input-type=module', '-e', script], { timeout: 60_000 }, (err, _stdout, stderr) =>
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stderr }),
    );
  });
}

test('the controller imports in a process that refuses @kubernetes/client-node; the harness does not (positive control)', async (t) => {
  const controller = await importRefusingClientNode('controller/run.js');
  t.is(controller.code, 0, controller.stderr);
  const harness = await importRefusingClientNode('test/harness/control-plane.js');
  t.not(harness.code, 0);
  t.regex(harness.stderr, /refused: @kubernetes\/client-node/);
});
