/**
 * KCL package resolution: a package directory renders the way `kcl run` would in it — `[profile] entries` in order,
 * path dependencies and vendored dependencies as external packages — and a git dependency that is not vendored is
 * a clear error naming it and saying how to vendor it. Resolution stays inside the package root: anything that
 * leads outside it (a path, an entry, a vendored copy, a settings file, through a symlink or not) is an
 * OutsideRootError naming the path.
 */
import test from 'ava';
import { mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { findKclMod, resolveProgram } from '../../fn/package/resolve.js';
import { KclModError } from '../../fn/package/kcl-mod.js';
import { defaultPackageRoot, OutsideRootError, PackageRoot } from '../../fn/package/root.js';
import { tempDir, writeTree, renderHere } from '../support/kclrun.js';

const LIB_MOD = '[package]\nname = "{name}"\nedition = "v0.11.0"\nversion = "{version}"\n';

function lib(name: string, version: string, label: string): Record<string, string> {
  return {
    'kcl.mod': LIB_MOD.replace('{name}', name).replace('{version}', version),
    'labels.k': `schema Labels:\n    team: str = "${label}"\n`,
  };
}

async function renderDir(dir: string) {
  return renderHere({ source: { kind: 'local', paths: [dir] }, baseDir: dir });
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

test('a path dependency is passed to the engine as an external package (a sibling in the same git work tree)', async (t) => {
  const root = tempDir();
  mkdirSync(join(root, '.git')); // a monorepo: the package root is the work tree
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

test('a git dependency that is neither vendored nor cached is a clear error naming it (resolution), and one whose host cannot be reached names it and the URL (render)', async (t) => {
  const app = writeTree(tempDir(), {
    'kcl.mod': '[package]\nname = "app"\n\n[dependencies]\nk8s = { git = "https://example.invalid/k8s.git", tag = "1.31.2" }\n',
    'main.k': 'import k8s.api.core.v1 as core\n\nns = core.Namespace {metadata.name = "x"}\n',
  });
  const env = { ...process.env, KCL_PKG_PATH: tempDir() }; // an empty package cache
  t.throws(() => resolveProgram(app, { env }), { instanceOf: KclModError, message: /dependency "k8s" \(https:\/\/example\.invalid\/k8s\.git\) is not available locally/ });
  const out = await renderHere({ source: { kind: 'local', paths: [app] }, baseDir: app });
  t.false(out.ok);
  if (!out.ok) {
    const d = out.diagnostics[0]!;
    t.is(d.file, join(app, 'kcl.mod'));
    t.regex(d.message, /^dependency "k8s": https:\/\/example\.invalid\/k8s\.git tag 1\.31\.2: ./);
  }
  const missing = t.throws(() => resolveProgram(app, { env }));
  t.regex(missing.message, /kcl mod vendor/);
  t.true(missing.message.includes(join(app, 'vendor', 'k8s_1.31.2')), missing.message);
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
  mkdirSync(join(root, '.git'));
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

/** Resolution of `dir` confined to `root`: the error it throws. */
function outside(paths: string | string[], root: string, opts: { name?: string } = {}): OutsideRootError {
  const err = (() => {
    try {
      resolveProgram(paths, { root: new PackageRoot(root, opts.name) });
    } catch (e) {
      return e;
    }
    return undefined;
  })();
  if (!(err instanceof OutsideRootError)) throw new Error(`expected OutsideRootError, got ${String(err)}`);
  return err;
}

test('the default package root: the git work tree, else the nearest kcl.mod directory, else the directory itself', (t) => {
  const top = tempDir();
  writeTree(top, { 'repo/kcl.mod': '[package]\nname = "top"\n', 'repo/apps/web/main.k': 'a = 1\n', 'loose/main.k': 'a = 1\n' });
  t.is(defaultPackageRoot(join(top, 'repo/apps/web')), join(top, 'repo'));
  t.is(defaultPackageRoot(join(top, 'loose')), join(top, 'loose'));
  mkdirSync(join(top, 'repo/apps/.git'));
  t.is(defaultPackageRoot(join(top, 'repo/apps/web')), join(top, 'repo/apps'));
});

test('a kcl.mod above the root is ignored', async (t) => {
  const outer = writeTree(tempDir(), {
    // Read, it would break the build: its dependency is nowhere to be found.
    'kcl.mod': '[package]\nname = "outer"\n\n[dependencies]\nnot_vendored_anywhere = "0.0.1"\n',
    'pkg/main.k': 'a = 1\n',
  });
  const pkg = join(outer, 'pkg');
  const p = resolveProgram(pkg, { root: new PackageRoot(pkg) });
  t.is(p.kclMod, undefined);
  t.deepEqual(p.files, [join(pkg, 'main.k')]);
  t.is(findKclMod(pkg), join(outer, 'kcl.mod'), 'positive control: without the root it is found');
  const out = await renderHere({ source: { kind: 'local', paths: [pkg] }, baseDir: pkg, root: new PackageRoot(pkg) });
  if (!out.ok) return t.fail(JSON.stringify(out.diagnostics));
  t.is(out.yaml.trim(), 'a: 1');
});

test('a path dependency outside the root is an error naming the path and the kcl.mod', async (t) => {
  const top = tempDir();
  writeTree(join(top, 'x'), lib('x', '0.1.0', 'outside'));
  const app = writeTree(join(top, 'repo', 'app'), {
    'kcl.mod': '[package]\nname = "app"\n\n[dependencies]\nx = { path = "../../x" }\n',
    'main.k': 'import x\nl = x.Labels {}\n',
  });
  const err = outside(app, app);
  t.is(err.file, join(app, 'kcl.mod'));
  t.is(err.path, join(top, 'x'));
  t.is(err.message, `${join(app, 'kcl.mod')}: dependency "x": path ../../x leads outside the package root (${app})`);
  const out = await renderHere({ source: { kind: 'local', paths: [app] }, baseDir: app, root: new PackageRoot(join(top, 'repo'), 'the artifact') });
  t.false(out.ok);
  if (!out.ok) t.like(out.diagnostics[0], { file: join(app, 'kcl.mod'), message: 'dependency "x": path ../../x leads outside the artifact' });
  // Positive control: the same package with the root one level up resolves.
  t.deepEqual(resolveProgram(app, { root: new PackageRoot(top) }).externalPkgs, [{ name: 'x', path: join(top, 'x') }]);
});

test('a symlink out of the root is an error, whether a path dependency, a vendored copy or a .k file', (t) => {
  const top = tempDir();
  writeTree(join(top, 'secret'), { ...lib('dep', '0.1.0', 'secret'), 'main.k': 's = 1\n' });
  const app = writeTree(join(top, 'app'), {
    'kcl.mod': '[package]\nname = "app"\n\n[dependencies]\ndep = { path = "./libs/dep" }\n',
    'main.k': 'a = 1\n',
  });
  mkdirSync(join(app, 'libs'));
  symlinkSync(join(top, 'secret'), join(app, 'libs', 'dep'));
  const e1 = outside(app, app);
  t.regex(e1.message, /dependency "dep": path \.\/libs\/dep leads outside the package root \(.*\) \(through a symbolic link, to .*secret\)$/);

  const vendored = writeTree(join(top, 'vendored'), { 'kcl.mod': '[package]\nname = "v"\n\n[dependencies]\ndep = "0.1.0"\n', 'main.k': 'a = 1\n' });
  mkdirSync(join(vendored, 'vendor'));
  symlinkSync(join(top, 'secret'), join(vendored, 'vendor', 'dep_0.1.0'));
  t.regex(outside(vendored, vendored).message, /dependency "dep": vendored copy vendor\/dep_0\.1\.0 leads outside .* \(through a symbolic link/);

  const linked = writeTree(join(top, 'linked'), { 'kcl.mod': '[package]\nname = "l"\n', 'a.k': 'a = 1\n' });
  symlinkSync(join(top, 'secret', 'main.k'), join(linked, 'b.k'));
  t.regex(outside(linked, linked).message, /file b\.k leads outside .* \(through a symbolic link/);
});

test('[profile] entries and dependency names that lead outside the root are errors', (t) => {
  const top = tempDir();
  writeTree(top, { 'outside.k': 'o = 1\n' });
  const mk = (name: string, mod: string) => writeTree(join(top, name), { 'kcl.mod': `[package]\nname = "${name}"\n${mod}`, 'main.k': 'a = 1\n' });
  const plain = mk('plain', '\n[profile]\nentries = ["main.k", "../outside.k"]\n');
  t.regex(outside(plain, plain).message, /\[profile\] entries "\.\.\/outside\.k" leads outside/);
  const variable = mk('variable', '\n[profile]\nentries = ["${KCL_MOD}/../outside.k"]\n');
  t.regex(outside(variable, variable).message, /entries "\$\{KCL_MOD\}\/\.\.\/outside\.k" leads outside/);
  const sibling = mk('variable2', '\n[profile]\nentries = ["${KCL_MOD}2/main.k"]\n');
  t.regex(outside(sibling, sibling).message, /leads outside/, '${KCL_MOD}2 is a sibling directory, as the engine expands it');
  const named = mk('named', '\n[dependencies]\n"../../../etc" = "1"\n');
  t.throws(() => resolveProgram(named, { root: new PackageRoot(named) }), { instanceOf: KclModError, message: /must not contain path separators/ });
});

test('-Y settings files outside the root, and files they list outside it, are errors naming them', async (t) => {
  const top = tempDir();
  writeTree(top, { 'settings.yaml': 'kcl_options:\n- key: a\n  value: 1\n', 'outside.k': 'o = 1\n' });
  const app = writeTree(join(top, 'repo', 'app'), {
    'kcl.mod': '[package]\nname = "app"\n',
    'main.k': 'a = option("a")\n',
    'inside.yaml': 'kcl_options:\n- key: a\n  value: 2\n',
    'lists.yaml': 'kcl_cli_configs:\n  files:\n  - ../../outside.k\n',
  });
  const root = new PackageRoot(join(top, 'repo'));
  const run = (settings: string[]) => renderHere({ source: { kind: 'local', paths: [app] }, baseDir: app, config: { settings }, root });
  const out = await run(['../../settings.yaml']);
  t.false(out.ok);
  if (!out.ok) t.like(out.diagnostics[0], { file: join(top, 'settings.yaml'), message: `settings file ../../settings.yaml leads outside the package root (${join(top, 'repo')})` });
  const listed = await run(['lists.yaml']);
  t.false(listed.ok);
  if (!listed.ok) t.true(listed.diagnostics[0]!.message.startsWith(`file ${join(top, 'outside.k')} listed in the settings leads outside`));
  const inside = await run(['inside.yaml']);
  if (!inside.ok) return t.fail(JSON.stringify(inside.diagnostics));
  t.is(inside.yaml.trim(), 'a: 2', 'positive control: a settings file inside the root is read');
});
