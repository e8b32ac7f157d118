/**
 * KCL package resolution: a package directory renders the way `kcl run` would in it — `[profile] entries` in order,
 * path dependencies and vendored dependencies as external packages — and a dependency that would need a registry is
 * a clear error naming it and saying how to vendor it.
 */
import test from 'ava';
import { join } from 'node:path';
import { resolveProgram } from '../../fn/package/resolve.js';
import { KclModError } from '../../fn/package/kcl-mod.js';
import { render } from '../../fn/render.js';
import { tempDir, writeTree } from '../support/kclrun.js';

const LIB_MOD = '[package]\nname = "{name}"\nedition = "v0.11.0"\nversion = "{version}"\n';

function lib(name: string, version: string, label: string): Record<string, string> {
  return {
    'kcl.mod': LIB_MOD.replace('{name}', name).replace('{version}', version),
    'labels.k': `schema Labels:\n    team: str = "${label}"\n`,
  };
}

async function renderDir(dir: string) {
  return render({ source: { kind: 'local', paths: [dir] }, baseDir: dir });
}

test('[profile] entries are run in the order kcl.mod lists them, and only those', async (t) => {
  const dir = writeTree(tempDir(), {
    'kcl.mod': '[package]\nname = "entries"\nversion = "0.1.0"\n\n[profile]\nentries = ["b.k", "sub/a.k"]\n',
    'b.k': 'first = "b"\n',
    'sub/a.k': 'second = "a"\n',
    'ignored.k': 'ignored = True\n',
  });
  const p = resolveProgram(dir);
  t.deepEqual(p.files, [join(dir, 'b.k'), join(dir, 'sub/a.k')]);
  t.is(p.workDir, dir);
  const out = await renderDir(dir);
  if (!out.ok) return t.fail(JSON.stringify(out.diagnostics));
  t.is(out.yaml.trim(), 'first: b\nsecond: a');
});

test('without entries, a package runs its .k files (not *_test.k) in name order', (t) => {
  const dir = writeTree(tempDir(), {
    'kcl.mod': '[package]\nname = "plain"\n',
    'z.k': 'z = 1\n',
    'a.k': 'a = 1\n',
    'a_test.k': 'test_a = lambda { assert a == 1 }\n',
  });
  t.deepEqual(resolveProgram(dir).files, [join(dir, 'a.k'), join(dir, 'z.k')]);
});

test('a path dependency is passed to the engine as an external package', async (t) => {
  const root = tempDir();
  writeTree(join(root, 'libs', 'team-labels'), lib('team-labels', '0.2.0', 'platform'));
  const app = writeTree(join(root, 'app'), {
    'kcl.mod': '[package]\nname = "app"\n\n[dependencies]\nteam-labels = { path = "../libs/team-labels" }\n',
    'main.k': 'import team_labels\n\nlabels = team_labels.Labels {}\n',
  });
  t.deepEqual(resolveProgram(app).externalPkgs, [{ name: 'team_labels', path: join(root, 'libs', 'team-labels') }]);
  const out = await renderDir(app);
  if (!out.ok) return t.fail(JSON.stringify(out.diagnostics));
  t.is(out.yaml.trim(), 'labels:\n  team: platform');
});

test('a path dependency that does not exist is an error naming kcl.mod and the dependency', async (t) => {
  const app = writeTree(tempDir(), {
    'kcl.mod': '[package]\nname = "app"\n\n[dependencies]\nmissing = { path = "../nowhere" }\n',
    'main.k': 'a = 1\n',
  });
  const out = await renderDir(app);
  t.false(out.ok);
  if (!out.ok) {
    t.is(out.diagnostics[0]!.file, join(app, 'kcl.mod'));
    t.is(out.diagnostics[0]!.message, 'dependency "missing": path ../nowhere does not exist');
  }
});

test('a registry dependency that is not vendored is a clear error naming it and suggesting vendoring', async (t) => {
  const app = writeTree(tempDir(), {
    'kcl.mod': '[package]\nname = "app"\n\n[dependencies]\nk8s = "1.31.2"\n',
    'main.k': 'import k8s.api.core.v1 as core\n\nns = core.Namespace {metadata.name = "x"}\n',
  });
  const env = { ...process.env, KCL_PKG_PATH: tempDir() }; // an empty package cache
  t.throws(() => resolveProgram(app, { env }), { instanceOf: KclModError, message: /dependency "k8s" \(version 1\.31\.2 from the default registry\) is not available locally/ });
  const out = await render({ source: { kind: 'local', paths: [app] }, baseDir: app });
  t.false(out.ok);
  if (!out.ok) {
    const d = out.diagnostics[0]!;
    t.is(d.file, join(app, 'kcl.mod'));
    t.regex(d.message, /"k8s"/);
    t.regex(d.message, /kclrun does not download packages/);
    t.regex(d.message, /kcl mod vendor/);
    t.true(d.message.includes(join(app, 'vendor', 'k8s_1.31.2')), d.message);
  }
});

test('a vendored dependency is found in vendor/<name>_<version>', async (t) => {
  const app = writeTree(tempDir(), {
    'kcl.mod': '[package]\nname = "app"\n\n[dependencies]\nteam_labels = "0.3.0"\n',
    'main.k': 'import team_labels\n\nlabels = team_labels.Labels {}\n',
  });
  writeTree(join(app, 'vendor', 'team_labels_0.3.0'), lib('team_labels', '0.3.0', 'vendored'));
  t.deepEqual(resolveProgram(app).externalPkgs, [{ name: 'team_labels', path: join(app, 'vendor', 'team_labels_0.3.0') }]);
  const out = await renderDir(app);
  if (!out.ok) return t.fail(JSON.stringify(out.diagnostics));
  t.is(out.yaml.trim(), 'labels:\n  team: vendored');
});

test('dependencies of dependencies are resolved too', (t) => {
  const root = tempDir();
  writeTree(join(root, 'base'), lib('base', '0.1.0', 'base'));
  writeTree(join(root, 'mid'), {
    'kcl.mod': '[package]\nname = "mid"\n\n[dependencies]\nbase = { path = "../base" }\n',
    'mid.k': 'import base\nl = base.Labels {}\n',
  });
  const app = writeTree(join(root, 'app'), {
    'kcl.mod': '[package]\nname = "app"\n\n[dependencies]\nmid = { path = "../mid" }\n',
    'main.k': 'import mid\nx = mid.l\n',
  });
  t.deepEqual(resolveProgram(app).externalPkgs, [
    { name: 'mid', path: join(root, 'mid') },
    { name: 'base', path: join(root, 'base') },
  ]);
});

test('a broken kcl.mod is an error with its file and line', async (t) => {
  const app = writeTree(tempDir(), { 'kcl.mod': '[package]\nname = "app"\n[profile\n', 'main.k': 'a = 1\n' });
  const out = await renderDir(app);
  t.false(out.ok);
  if (!out.ok) t.like(out.diagnostics[0], { file: join(app, 'kcl.mod'), line: 3 });
});
