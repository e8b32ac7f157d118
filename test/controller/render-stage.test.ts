/**
 * The build stage (controller/stages/render.ts) reads nothing outside the artifact: a kcl.mod above the artifact
 * root is ignored, and a path dependency or settings file leading out of it is a build failure naming the path.
 * It never writes kcl.mod.lock; with --no-remote-dependencies it fetches nothing; a git dependency is cloned by `git`
 * run under the engine workers' file-system sandbox (the native engine host's `--exec`), into the namespace cache.
 * No cluster needed: buildObjects is called on an artifact directory directly, with the controller's engine pool
 * (the render in this process, the program in a sandboxed engine worker), as the controller does.
 */
import test from 'ava';
import { existsSync, readFileSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { buildObjects } from '../../controller/stages/render.js';
import { controllerEngine } from '../../controller/run.js';
import { startGitServer } from '../harness/git-server.js';
import { EnginePool } from '../../fn/worker/pool.js';
import { tempDir, writeTree } from '../support/kclrun.js';

const engine = new EnginePool({ workers: 1 });
test.after.always(() => engine.close());

const CONFIG_MAP = 'apiVersion = "v1"\nkind = "ConfigMap"\nmetadata = {name = "app"}\n';

/** A directory holding `outside/` (not part of the artifact) and the artifact root `artifact/`. */
function layout(artifact: Record<string, string>): string {
  const top = writeTree(tempDir('kclrun-build-'), {
    'outside/kcl.mod': '[package]\nname = "outside"\n',
    'outside/labels.k': 'team = "outside"\n',
    'outside/settings.yaml': 'kcl_options:\n- key: team\n  value: outside\n',
  });
  writeTree(join(top, 'artifact'), artifact);
  return join(top, 'artifact');
}

test('a path dependency leading out of the artifact is a build failure naming it', async (t) => {
  const artifact = layout({
    'app/kcl.mod': '[package]\nname = "app"\n\n[dependencies]\noutside = { path = "../../outside" }\n',
    'app/main.k': `import outside\n${CONFIG_MAP}`,
  });
  const out = await buildObjects(artifact, './app', undefined, [], { engine });
  t.deepEqual(out, { ok: false, message: 'KCL build failed: app/kcl.mod: dependency "outside": path ../../outside leads outside the artifact' });
});

test('a settings file leading out of the artifact is a build failure naming it', async (t) => {
  const artifact = layout({ 'app/main.k': CONFIG_MAP });
  const out = await buildObjects(artifact, 'app', { settings: ['../../outside/settings.yaml'] }, [], { engine });
  t.deepEqual(out, { ok: false, message: 'KCL build failed: ../outside/settings.yaml: settings file ../../outside/settings.yaml leads outside the artifact' });
});

test('a kcl.mod above the artifact root is ignored; the package inside renders', async (t) => {
  const top = writeTree(tempDir('kclrun-build-'), {
    // Read, it would fail the build: its dependency is nowhere to be found.
    'kcl.mod': '[package]\nname = "above"\n\n[dependencies]\nnot_vendored_anywhere = "0.0.1"\n',
    'artifact/main.k': CONFIG_MAP,
  });
  const out = await buildObjects(join(top, 'artifact'), undefined, undefined, [], { engine });
  t.deepEqual(out, { ok: true, objects: [{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'app' } }] });
});

test('the build reads kcl.mod.lock and never writes one: not beside a kcl.mod without one, nor over an existing one', async (t) => {
  const lib = { 'lib/kcl.mod': '[package]\nname = "lib"\nversion = "0.1.0"\n', 'lib/main.k': 'team = "lib"\n' };
  const mod = '[package]\nname = "app"\nversion = "0.0.1"\n\n[dependencies]\nlib = { path = "../lib" }\n';
  const without = layout({ ...lib, 'app/kcl.mod': mod, 'app/main.k': `import lib\n${CONFIG_MAP}data = {team = lib.team}\n` });
  const built = await buildObjects(without, 'app', undefined, [], { engine });
  t.true(built.ok, built.ok ? '' : built.message);
  t.false(existsSync(join(without, 'app', 'kcl.mod.lock')), 'kpm would have written a lock for the path dependency');
  const stale = '[dependencies]\n  [dependencies.old]\n    name = "old"\n    full_name = "old_0.0.1"\n    version = "0.0.1"\n';
  const withLock = layout({ ...lib, 'app/kcl.mod': mod, 'app/kcl.mod.lock': stale, 'app/main.k': `import lib\n${CONFIG_MAP}` });
  t.true((await buildObjects(withLock, 'app', undefined, [], { engine })).ok);
  t.is(readFileSync(join(withLock, 'app', 'kcl.mod.lock'), 'utf8'), stale);
});

test('--no-remote-dependencies: a dependency not vendored or cached fails naming it, and nothing is fetched', async (t) => {
  // Nothing listens on this registry; a render that tries to fetch fails on the connection instead.
  const artifact = layout({
    'app/kcl.mod': '[package]\nname = "app"\n\n[dependencies]\nlabels = { oci = "oci://127.0.0.1:9/lib/labels", tag = "0.1.0" }\n',
    'app/main.k': `import labels\n${CONFIG_MAP}`,
  });
  const cache = tempDir('kclrun-pkg-cache-');
  const build = async (noRemoteDependencies: boolean) => {
    const pool = controllerEngine({ renderWorkers: 1, noRemoteDependencies }, artifact, cache);
    t.teardown(() => pool.close());
    return buildObjects(artifact, './app', undefined, [], { engine: pool, packages: { cache: join(cache, 'tenant') } });
  };
  const offline = await build(true);
  t.false(offline.ok);
  t.regex(offline.ok ? '' : offline.message, /^KCL build failed: app\/kcl\.mod: dependency "labels": .*labels:0\.1\.0 is not in the package cache \(.*\) and kclrun is offline$/);
  // Positive control: without the flag the same render reaches for the registry.
  const online = await build(false);
  t.false(online.ok);
  t.notRegex(online.ok ? '' : online.message, /offline/);
  t.regex(online.ok ? '' : online.message, /dependency "labels": oci:\/\/127\.0\.0\.1:9\/lib\/labels/);
});

test('a git dependency is cloned by git inside the engine workers\' sandbox, into the namespace cache; git cannot write outside it', async (t) => {
  const git = await startGitServer();
  t.teardown(() => git.close());
  await git.createRepo('labels', { 'kcl.mod': '[package]\nname = "labels"\nversion = "0.1.0"\n', 'main.k': 'team = "platform"\n' });
  await git.tag('labels', 'v0.1.0');
  const artifact = layout({
    'app/kcl.mod': `[package]\nname = "app"\n\n[dependencies]\nlabels = { git = "${git.repoUrl('labels')}", tag = "v0.1.0" }\n`,
    'app/main.k': 'import labels\napiVersion = "v1"\nkind = "ConfigMap"\nmetadata = {name = "app"}\ndata = {team = labels.team}\n',
  });
  const cache = tempDir('kclrun-pkg-cache-');
  const pool = controllerEngine({ renderWorkers: 1 }, artifact, cache);
  t.teardown(() => pool.close());
  t.like(await pool.probe(), { applied: true });
  t.true(pool.native, 'the engine host is built (npm run engine:fetch with a C compiler): git runs under its sandbox');
  const out = await buildObjects(artifact, './app', undefined, [], { engine: pool, packages: { cache: join(cache, 'tenant') } });
  t.true(out.ok, out.ok ? '' : out.message);
  t.deepEqual(out.ok && out.objects.map((o) => o.data), [{ team: 'platform' }]);
  t.true(existsSync(join(cache, 'tenant', 'labels_v0.1.0', 'main.k')));

  // A namespace cache that leads out of the sandbox (a symlink to a directory outside it): the controller's own
  // code follows it, git (sandboxed) cannot write there.
  const outside = tempDir('kclrun-outside-');
  symlinkSync(outside, join(cache, 'escape'));
  const escaped = await buildObjects(artifact, './app', undefined, [], { engine: pool, packages: { cache: join(cache, 'escape') } });
  t.false(escaped.ok);
  t.regex(escaped.ok ? '' : escaped.message, /dependency "labels": .*v0\.1\.0.*Permission denied/);
  t.false(existsSync(join(outside, 'labels_v0.1.0')));
});
