/**
 * The controller's process never loads the KCL engine: from its entry modules, no import — static or dynamic —
 * reaches koffi or the engine binding (fn/engine/native.js). The CLI loads the engine in its own process only under
 * its crash guard, on the first engine call (a dynamic import: `kclrun controller`, which starts from the same
 * cli/main.js, never makes one), so from cli/main.js no static import reaches it. The engine worker's entry and the
 * CLI's guarded calls do reach it (the positive controls: the walk finds it from there). The CLI's bundle (what
 * bin/kclrun loads) keeps dynamically imported modules lazy; faults-worker.e2e checks the running controller's memory
 * maps for the engine. The CEL library (~10 MiB
 * of the controller's memory) is loaded only once a KCLRun has health expressions.
 */
import test from 'ava';
import { join } from 'node:path';
import { DIST, reachable } from './module-graph.js';

const ENGINE = join(DIST, 'fn/engine/native.js');

for (const entry of ['controller/run.js', 'cli/commands/controller.js']) {
  test(`${entry} does not reach the engine`, (t) => {
    const mods = reachable(entry);
    t.true(mods.size > 3, 'the walk follows imports');
    t.false(mods.has('pkg:koffi'));
    t.false(mods.has(ENGINE));
  });
}

test('cli/main.js reaches the engine only through a dynamic import', (t) => {
  const mods = reachable('cli/main.js', true);
  t.true(mods.size > 3, 'the walk follows imports');
  t.false(mods.has('pkg:koffi'));
  t.false(mods.has(ENGINE));
});

for (const entry of ['fn/worker/entry.js', 'cli/guarded-calls.js']) {
  test(`${entry} does reach the engine (the walk finds it)`, (t) => {
    const mods = reachable(entry, true);
    t.true(mods.has(ENGINE));
    t.true(mods.has('pkg:koffi'));
  });
}

test('the controller loads the CEL library only when a KCLRun has health expressions (a dynamic import)', (t) => {
  t.false(reachable('controller/run.js', true).has('pkg:@marcbachmann/cel-js'));
  t.true(reachable('controller/run.js').has('pkg:@marcbachmann/cel-js'), 'the dynamic import is there (the walk finds it)');
});

