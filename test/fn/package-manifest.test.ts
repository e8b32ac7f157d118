/**
 * kcl.mod `[dependencies]` in every form kpm accepts, kpm's directory hash (its published test vectors), and
 * kcl.mod.lock read and written byte for byte as kpm writes it (kpm's own expected lock files).
 */
import test from 'ava';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DirHashError, hashDir } from '../../fn/package/dir-hash.js';
import { KclModError, readKclMod } from '../../fn/package/kcl-mod.js';
import { formatLock, parseLock, readLock } from '../../fn/package/lock.js';
import { tempDir, writeTree } from '../support/kclrun.js';

function deps(toml: string) {
  const dir = writeTree(tempDir(), { 'kcl.mod': `[package]\nname = "app"\n\n[dependencies]\n${toml}` });
  return readKclMod(join(dir, 'kcl.mod')).dependencies;
}

test('every dependency form kpm accepts parses into its own variant', (t) => {
  t.deepEqual(
    deps(
      [
        'k8s = "1.28"',
        'myk8s = { package = "k8s", version = "1.28" }',
        'helloworld = { oci = "oci://localhost:5000/kcl-lang/helloworld", tag = "0.1.4" }',
        'latest = { oci = "oci://localhost:5000/kcl-lang/helloworld" }',
        'renamed = { oci = "oci://ghcr.io/kcl-lang/helloworld", tag = "0.1.4", package = "subhelloworld", version = "0.0.1" }',
        'konfig = { repo = "kcl-lang/konfig", tag = "v0.4.0", reg = "ghcr.io" }',
        'bytag = { git = "https://github.com/kcl-lang/konfig.git", tag = "v0.4.0" }',
        'bycommit = { git = "https://example.com/k.git", commit = "ade147b" }',
        'bybranch = { git = "https://example.com/k.git", branch = "main" }',
        'head = { git = "https://example.com/k.git" }',
        'local = { path = "../local" }',
        'both = { path = "../both", git = "https://example.com/ignored.git" }',
        '',
      ].join('\n'),
    ),
    [
      { name: 'k8s', source: { kind: 'registry', version: '1.28' } },
      { name: 'myk8s', source: { kind: 'registry', version: '1.28', package: 'k8s' } },
      { name: 'helloworld', source: { kind: 'oci', oci: 'oci://localhost:5000/kcl-lang/helloworld', tag: '0.1.4' } },
      { name: 'latest', source: { kind: 'oci', oci: 'oci://localhost:5000/kcl-lang/helloworld' } },
      { name: 'renamed', source: { kind: 'oci', oci: 'oci://ghcr.io/kcl-lang/helloworld', tag: '0.1.4', version: '0.0.1', package: 'subhelloworld' } },
      { name: 'konfig', source: { kind: 'repo', repo: 'kcl-lang/konfig', tag: 'v0.4.0', reg: 'ghcr.io' } },
      { name: 'bytag', source: { kind: 'git', git: 'https://github.com/kcl-lang/konfig.git', ref: 'v0.4.0', refKind: 'tag' } },
      { name: 'bycommit', source: { kind: 'git', git: 'https://example.com/k.git', ref: 'ade147b', refKind: 'commit' } },
      { name: 'bybranch', source: { kind: 'git', git: 'https://example.com/k.git', ref: 'main', refKind: 'branch' } },
      { name: 'head', source: { kind: 'git', git: 'https://example.com/k.git' } },
      { name: 'local', source: { kind: 'path', path: '../local' } },
      { name: 'both', source: { kind: 'path', path: '../both' } },
    ],
  );
});

test('a git dependency with two refs, a table without a source and a non-string field are errors naming the dependency', (t) => {
  t.throws(() => deps('x = { git = "https://example.com/k.git", tag = "v1", branch = "main" }\n'), {
    instanceOf: KclModError,
    message: /dependency "x": give at most one of tag, commit and branch \(got tag, branch\)/,
  });
  t.throws(() => deps('x = { tag = "v1" }\n'), { instanceOf: KclModError, message: /dependency "x": expected a version string or a table/ });
  t.throws(() => deps('x = { oci = "oci://h/r", tag = 1 }\n'), { instanceOf: KclModError, message: /dependency "x": tag must be a non-empty string/ });
  t.throws(() => deps('x = ""\n'), { instanceOf: KclModError, message: /dependency "x": the version must not be empty/ });
});

test('directory hash: kpm test vectors', (t) => {
  // kpm pkg/utils/utils_test.go: test_data/test_hash holds one file, test_hash.txt, containing `test`.
  const one = writeTree(tempDir(), { 'test_hash/test_hash.txt': 'test' });
  t.is(hashDir(join(one, 'test_hash')), 'n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg=');
  // kpm pkg/visitor/test_data/test_visited_space/helloworld_0.1.2: the sum locked for ghcr.io/kcl-lang/helloworld:0.1.2.
  const hello = writeTree(tempDir(), {
    'kcl.mod': '[package]\nname = "helloworld"\nedition = "*"\nversion = "0.1.2"\n\n',
    'kcl.mod.lock': '',
    'main.k': "The_first_kcl_program = 'Hello World!'",
  });
  t.is(hashDir(hello), 'PN0OMEV9M8VGFn1CtA/T3bcgZmMJmOo+RkBrLKIWYeQ=');
});

test('directory hash: .git and .tar paths, names and empty directories do not count; content order does', (t) => {
  const base = { 'kcl.mod': 'a', 'main.k': 'b' };
  const h = hashDir(writeTree(tempDir(), base));
  const noise = writeTree(tempDir(), { ...base, '.github/workflows/ci.yaml': 'x', '.gitignore': 'y', 'pkg.tar.gz': 'z' });
  mkdirSync(join(noise, 'empty'));
  t.is(hashDir(noise), h);
  t.is(hashDir(writeTree(tempDir(), { 'a.mod': 'a', 'b.k': 'b' })), h, 'names do not count, only bytes in order');
  t.not(hashDir(writeTree(tempDir(), { 'kcl.mod': 'b', 'main.k': 'a' })), h);
  // The root's own name is not tested for .tar: the same package unpacked under x.tar.d hashes the same.
  const parent = tempDir();
  t.is(hashDir(writeTree(join(parent, 'x.tar.d'), base)), h);
});

test('directory hash: a symbolic link to a directory or out of the package is refused', (t) => {
  const dir = writeTree(tempDir(), { 'main.k': 'a', 'sub/x.k': 'b' });
  symlinkSync(join(dir, 'sub'), join(dir, 'zlink'));
  t.throws(() => hashDir(dir), { instanceOf: DirHashError, message: /zlink: is a symbolic link to a directory/ });
  const out = writeTree(tempDir(), { 'secret': 's' });
  const dir2 = writeTree(tempDir(), { 'main.k': 'a' });
  symlinkSync(join(out, 'secret'), join(dir2, 'leak'));
  t.throws(() => hashDir(dir2), { instanceOf: DirHashError, message: /leak: is a symbolic link to a file outside the package/ });
});

// kpm pkg/client/test_data/expected/kcl.mod.lock and add_with_mod_spec/rename/kcl.mod.lock.expect.
const KPM_LOCK =
  '[dependencies]\n' +
  '  [dependencies.oci_test]\n    name = "oci_name"\n    full_name = "test_version"\n    version = "test_version"\n    sum = "test_sum"\n' +
  '    reg = "test_reg"\n    repo = "test_repo"\n    oci_tag = "test_tag"\n' +
  '  [dependencies.test]\n    name = "name"\n    full_name = "test_version"\n    version = "test_version"\n    sum = "test_sum"\n' +
  '    url = "test_url"\n    git_tag = "test_tag"\n';
const RENAME_LOCK =
  '[dependencies]\n  [dependencies.newpkg]\n    name = "newpkg"\n    full_name = "subhelloworld_0.0.1"\n    version = "0.0.1"\n' +
  '    reg = "ghcr.io"\n    repo = "kcl-lang/helloworld"\n    oci_tag = "0.1.4"\n';

test('kcl.mod.lock: kpm lock files read and re-written byte for byte', (t) => {
  for (const text of [KPM_LOCK, RENAME_LOCK]) t.is(formatLock(parseLock(text, 'kcl.mod.lock')), text);
  t.deepEqual(parseLock(KPM_LOCK, 'kcl.mod.lock').get('oci_test'), {
    name: 'oci_name', full_name: 'test_version', version: 'test_version', sum: 'test_sum', reg: 'test_reg', repo: 'test_repo', oci_tag: 'test_tag',
  });
});

test('kcl.mod.lock: keys in byte order, fields in kpm order, empty fields left out, no dependencies → empty file', (t) => {
  const lock = new Map([
    ['b', { name: 'b', oci_tag: '1', repo: 'r', reg: 'h', full_name: 'b_1', version: '1', sum: '' }],
    ['B', { name: 'B', commit: 'abc1234', url: 'https://x/y.git', full_name: 'B_0.1.0', version: '0.1.0' }],
    ['a.b', { name: 'q"\\\n' }],
  ]);
  t.is(
    formatLock(lock),
    '[dependencies]\n' +
      '  [dependencies.B]\n    name = "B"\n    full_name = "B_0.1.0"\n    version = "0.1.0"\n    url = "https://x/y.git"\n    commit = "abc1234"\n' +
      '  [dependencies."a.b"]\n    name = "q\\"\\\\\\n"\n' +
      '  [dependencies.b]\n    name = "b"\n    full_name = "b_1"\n    version = "1"\n    reg = "h"\n    repo = "r"\n    oci_tag = "1"\n',
  );
  t.is(formatLock(new Map()), '');
  t.deepEqual(parseLock(formatLock(lock), 'x').get('a.b'), { name: 'q"\\\n' });
  t.is(readLock(join(tempDir(), 'kcl.mod.lock')).size, 0, 'a missing lock is empty');
  const bad = join(tempDir(), 'kcl.mod.lock');
  writeFileSync(bad, '[dependencies]\n  [dependencies.x]\n    sum = 3\n');
  t.throws(() => readLock(bad), { instanceOf: KclModError, message: /dependency "x": sum must be a string/ });
});
