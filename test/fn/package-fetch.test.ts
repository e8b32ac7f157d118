/**
 * Registry dependencies end to end against a real distribution registry: `kclrun render` fetches them (every
 * registry form, transitively, tag omitted → highest version) into kpm's cache layout; `kclrun mod update` writes
 * kcl.mod.lock as kpm would; the lock's pins and sums are honoured (a tampered package is an error naming it,
 * expected and found); offline mode uses only the cache; concurrent fetches of one package share the download.
 */
import test from 'ava';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { hashDir } from '../../fn/package/dir-hash.js';
import { fetchForPaths, PackageSumError, DependencyFetchError } from '../../fn/package/fetch.js';
import { RegistryClient } from '../../fn/package/oci/client.js';
import { pushPackage } from '../../fn/package/oci/package.js';
import { startRegistry, type Registry } from '../harness/registry.js';
import { kclrun, kclrunAsync, tempDir, writeTree, renderHere } from '../support/kclrun.js';

let registry: Registry;
const sources = new Map<string, string>();

function pkgFiles(name: string, version: string, body: string, deps = ''): Record<string, string> {
  return { 'kcl.mod': `[package]\nname = "${name}"\nedition = "v0.11.0"\nversion = "${version}"\n${deps ? `\n[dependencies]\n${deps}` : ''}`, 'main.k': body };
}

async function push(repo: string, tag: string, files: Record<string, string>) {
  const dir = writeTree(tempDir(), files);
  sources.set(`${repo}:${tag}`, dir);
  await pushPackage(new RegistryClient(registry.host), repo, tag, dir);
}

test.before(async () => {
  registry = await startRegistry();
  await push('kcl-lang/k8s', '1.28', pkgFiles('k8s', '1.28', 'schema Labels:\n    team: str = "k8s-1.28"\n'));
  await push('kcl-lang/base', '0.1.0', pkgFiles('base', '0.1.0', 'name = "base-0.1.0"\n'));
  await push('kcl-lang/base', '0.2.0', pkgFiles('base', '0.2.0', 'name = "base-0.2.0"\n'));
  await push('kcl-lang/base', '0.10.0', pkgFiles('base', '0.10.0', 'name = "base-0.10.0"\n'));
  // mid depends on base by the short form: the flat set holds both.
  await push('kcl-lang/mid', '1.0.0', pkgFiles('mid', '1.0.0', 'import base\nname = "mid+" + base.name\n', 'base = "0.2.0"\n'));
  await push('team/konfig', 'v1', pkgFiles('konfig', '0.4.0', 'value = "konfig"\n'));
  await push('kcl-lang/shared', '1.0.0', pkgFiles('shared', '1.0.0', 'name = "shared"\n'));
  // A KRM function package that depends on a registry package itself.
  const fnBody = 'import k8s\nitems = [item | {metadata.labels.team = k8s.Labels {}.team} for item in option("items") or []]\n';
  await push('kcl-lang/set-team', '0.1.0', pkgFiles('set_team', '0.1.0', fnBody, 'k8s = "1.28"\n'));
  await push('kcl-lang/set-team', '0.2.0', pkgFiles('set_team', '0.2.0', fnBody.replace('import k8s\n', '').replace('k8s.Labels {}.team', '"v0.2.0"'), ''));
});
test.after.always(async () => {
  await registry?.close();
});

function envFor(cache: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return { ...process.env, KCL_PKG_PATH: cache, KPM_REG: registry.host, KPM_REPO: 'kcl-lang', ...extra };
}

const APP_DEPS = [
  'k8s = "1.28"',
  'newest = { oci = "oci://HOST/kcl-lang/base", package = "base" }',
  'middle = { package = "mid", version = "1.0.0" }',
  'konfig = { repo = "team/konfig", tag = "v1" }',
].join('\n');

function app(): string {
  return writeTree(tempDir(), {
    'kcl.mod': `[package]\nname = "app"\nversion = "0.1.0"\n\n[dependencies]\n${APP_DEPS.replace('HOST', registry.host)}\n`,
    'main.k': 'import k8s\nimport newest\nimport middle\nimport konfig\n\nlabels = k8s.Labels {}\nnewest_name = newest.name\nmid = middle.name\nk = konfig.value\n',
  });
}

test('kclrun render fetches registry, oci (no tag: highest version), renamed and repo dependencies, transitively, into kpm\'s cache layout', (t) => {
  const cache = tempDir();
  const dir = app();
  const r = kclrun(['render', dir], { env: envFor(cache) });
  t.is(r.stderr, '');
  t.is(r.code, 0);
  t.is(r.stdout.trim(), 'labels:\n  team: k8s-1.28\nnewest_name: base-0.10.0\nmid: mid+base-0.2.0\nk: konfig');
  for (const d of ['k8s_1.28', 'base_0.10.0', 'mid_1.0.0', 'base_0.2.0', 'konfig_v1']) t.true(existsSync(join(cache, d, 'kcl.mod')), d);
  t.false(existsSync(join(dir, 'kcl.mod.lock')), 'rendering never writes the lock');
});

test('kclrun mod update writes kcl.mod.lock byte for byte as kpm; render then honours its pins', async (t) => {
  const cache = tempDir();
  const dir = app();
  const r = kclrun(['mod', 'update', dir], { env: envFor(cache) });
  t.is(r.stderr, '');
  t.is(r.code, 0);
  const sum = (k: string) => hashDir(sources.get(k)!);
  const h = registry.host;
  t.is(
    readFileSync(join(dir, 'kcl.mod.lock'), 'utf8'),
    '[dependencies]\n' +
      `  [dependencies.base]\n    name = "base"\n    full_name = "base_0.2.0"\n    version = "0.2.0"\n    sum = "${sum('kcl-lang/base:0.2.0')}"\n    reg = "${h}"\n    repo = "kcl-lang/base"\n    oci_tag = "0.2.0"\n` +
      `  [dependencies.k8s]\n    name = "k8s"\n    full_name = "k8s_1.28"\n    version = "1.28"\n    sum = "${sum('kcl-lang/k8s:1.28')}"\n    reg = "${h}"\n    repo = "kcl-lang/k8s"\n    oci_tag = "1.28"\n` +
      `  [dependencies.konfig]\n    name = "konfig"\n    full_name = "konfig_0.4.0"\n    version = "0.4.0"\n    sum = "${sum('team/konfig:v1')}"\n    repo = "team/konfig"\n    oci_tag = "v1"\n` +
      `  [dependencies.middle]\n    name = "middle"\n    full_name = "mid_1.0.0"\n    version = "1.0.0"\n    sum = "${sum('kcl-lang/mid:1.0.0')}"\n    reg = "${h}"\n    repo = "kcl-lang/mid"\n    oci_tag = "1.0.0"\n` +
      `  [dependencies.newest]\n    name = "newest"\n    full_name = "base_0.10.0"\n    version = "0.10.0"\n    sum = "${sum('kcl-lang/base:0.10.0')}"\n    reg = "${h}"\n    repo = "kcl-lang/base"\n    oci_tag = "0.10.0"\n`,
  );
  // Pin the tag-less dependency to 0.1.0 in the lock: a fresh cache fetches 0.1.0, not the highest version.
  const lock = readFileSync(join(dir, 'kcl.mod.lock'), 'utf8')
    .replace(/full_name = "base_0\.10\.0"\n    version = "0\.10\.0"\n    sum = "[^"]+"/, `full_name = "base_0.1.0"\n    version = "0.1.0"\n    sum = "${sum('kcl-lang/base:0.1.0')}"`)
    .replace('oci_tag = "0.10.0"', 'oci_tag = "0.1.0"');
  writeFileSync(join(dir, 'kcl.mod.lock'), lock);
  const pinned = kclrun(['render', dir], { env: envFor(tempDir()) });
  t.is(pinned.code, 0, pinned.stderr);
  t.regex(pinned.stdout, /newest_name: base-0\.1\.0/);
  t.is(readFileSync(join(dir, 'kcl.mod.lock'), 'utf8'), lock, 'rendering left the lock as it was');
});

test('a tampered package is an error naming the dependency, the expected and the found sum; nothing renders', async (t) => {
  const dir = writeTree(tempDir(), {
    'kcl.mod': '[package]\nname = "app"\nversion = "0.1.0"\n\n[dependencies]\nk8s = "1.28"\n',
    'main.k': 'import k8s\nlabels = k8s.Labels {}\n',
  });
  const good = hashDir(sources.get('kcl-lang/k8s:1.28')!);
  const lockText = `[dependencies]\n  [dependencies.k8s]\n    name = "k8s"\n    full_name = "k8s_1.28"\n    version = "1.28"\n    sum = "${good}"\n    reg = "${registry.host}"\n    repo = "kcl-lang/k8s"\n    oci_tag = "1.28"\n`;
  writeFileSync(join(dir, 'kcl.mod.lock'), lockText);
  const cache = tempDir();
  const env = envFor(cache);
  t.truthy(await fetchForPaths([dir], { env }), 'positive control: the untampered package passes the check');
  // Someone edits the cached copy: the lock's sum no longer matches its content.
  writeFileSync(join(cache, 'k8s_1.28', 'main.k'), 'schema Labels:\n    team: str = "evil"\n');
  const err = await t.throwsAsync(fetchForPaths([dir], { env }), { instanceOf: PackageSumError });
  t.is(err!.dependency, 'k8s');
  t.is(err!.expected, good);
  t.is(err!.found, hashDir(join(cache, 'k8s_1.28')));
  t.regex(err!.message, new RegExp(`dependency "k8s": checksum mismatch \\(kcl.mod.lock vs the content of .*k8s_1.28\\): expected ${good.replace(/[+/]/g, '\\$&')}, found `));
  const r = kclrun(['render', dir], { env });
  t.is(r.code, 1);
  t.regex(r.stderr, /dependency "k8s": checksum mismatch/);
  t.is(r.stdout, '');
  // A lock whose sum disagrees with the registry's annotation fails on a fresh download too.
  writeFileSync(join(dir, 'kcl.mod.lock'), lockText.replace(good, 'AAAA'));
  await t.throwsAsync(fetchForPaths([dir], { env: envFor(tempDir()) }), { instanceOf: PackageSumError, message: /expected AAAA, found / });
});

test('offline: only the cache is used; a missing package is an error naming it', async (t) => {
  const dir = writeTree(tempDir(), {
    'kcl.mod': '[package]\nname = "app"\n\n[dependencies]\nk8s = "1.28"\n',
    'main.k': 'import k8s\nlabels = k8s.Labels {}\n',
  });
  const cache = tempDir();
  const err = await t.throwsAsync(fetchForPaths([dir], { env: envFor(cache, { KCLRUN_OFFLINE: '1' }) }), { instanceOf: DependencyFetchError });
  t.regex(err!.message, /dependency "k8s": oci:\/\/127\.0\.0\.1:\d+\/kcl-lang\/k8s:1\.28 is not in the package cache .* and kclrun is offline/);
  await fetchForPaths([dir], { env: envFor(cache) });
  const r = kclrun(['render', dir], { env: envFor(cache, { KCLRUN_OFFLINE: '1', KPM_REG: '127.0.0.1:9' }) });
  t.is(r.code, 0, r.stderr);
  t.is(r.stdout.trim(), 'labels:\n  team: k8s-1.28');
});

test('an unreachable or unknown package is an error naming the dependency and the registry\'s answer', async (t) => {
  const dir = writeTree(tempDir(), { 'kcl.mod': '[package]\nname = "app"\n\n[dependencies]\nnope = "9.9.9"\n', 'main.k': 'a = 1\n' });
  const out = await (async () => {
    const saved = { ...process.env };
    Object.assign(process.env, envFor(tempDir()));
    try {
      return await renderHere({ source: { kind: 'local', paths: [dir] }, baseDir: dir });
    } finally {
      for (const k of ['KCL_PKG_PATH', 'KPM_REG', 'KPM_REPO']) if (saved[k] === undefined) delete process.env[k]; else process.env[k] = saved[k];
    }
  })();
  t.false(out.ok);
  if (out.ok) return;
  t.regex(out.diagnostics[0]!.message, /^dependency "nope": oci:\/\/127\.0\.0\.1:\d+\/kcl-lang\/nope:9\.9\.9: .*manifest 9\.9\.9: 404 /);
  t.is(out.diagnostics[0]!.file, join(dir, 'kcl.mod'));
});

test('two concurrent fetches of one package download it once and both see it', async (t) => {
  const cache = tempDir();
  const mk = () => writeTree(tempDir(), { 'kcl.mod': '[package]\nname = "app"\n\n[dependencies]\nshared = "1.0.0"\n', 'main.k': 'a = 1\n' });
  const counted: string[] = [];
  const realFetch = globalThis.fetch;
  globalThis.fetch = ((input: string | URL | Request, init?: RequestInit) => {
    const url = String(input instanceof Request ? input.url : input);
    if (url.includes('/blobs/') && (init?.method ?? 'GET') === 'GET' && url.includes('kcl-lang/shared')) counted.push(url);
    return realFetch(input, init);
  }) as typeof fetch;
  try {
    const [a, b] = await Promise.all([fetchForPaths([mk()], { env: envFor(cache) }), fetchForPaths([mk()], { env: envFor(cache) })]);
    t.is(a!.dirs.get('shared'), join(cache, 'shared_1.0.0'));
    t.is(b!.dirs.get('shared'), join(cache, 'shared_1.0.0'));
    t.is(counted.length, 1, 'one layer download');
  } finally {
    globalThis.fetch = realFetch;
  }
});

test('two kclrun render processes at once fetch a dependency once (the cache lock) and both render', async (t) => {
  await push('kcl-lang/concurrent', '1.0.0', pkgFiles('concurrent', '1.0.0', 'name = "concurrent"\n'));
  const cache = tempDir();
  const mk = () => writeTree(tempDir(), { 'kcl.mod': '[package]\nname = "app"\n\n[dependencies]\nconcurrent = "1.0.0"\n', 'main.k': 'import concurrent\nfrom_registry = concurrent.name\n' });
  const blobGets = () => registry.requests().filter((r) => r.method === 'GET' && r.path.startsWith('/v2/kcl-lang/concurrent/blobs/') && r.status === 200);
  t.is(blobGets().length, 0);
  const [a, b] = await Promise.all([kclrunAsync(['render', mk()], { env: envFor(cache) }), kclrunAsync(['render', mk()], { env: envFor(cache) })]);
  t.deepEqual([a.code, a.stdout, a.stderr], [0, 'from_registry: concurrent\n', '']);
  t.deepEqual([b.code, b.stdout, b.stderr], [0, 'from_registry: concurrent\n', '']);
  t.is(blobGets().length, 1, 'the layer was downloaded once');
  t.deepEqual(readdirSync(join(cache, '.lock')), [], 'the lock is released');
  t.true(existsSync(join(cache, 'concurrent_1.0.0', 'kcl.mod')));
});

const RESOURCE_LIST = (source: string) =>
  'apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: data\n' +
  `functionConfig:\n  apiVersion: krm.kcl.dev/v1alpha1\n  kind: KCLRun\n  metadata:\n    name: remote\n  spec:\n    source: ${source}\n`;

test('the KRM function runs an oci:// source whose registry has a port (tag given, and omitted → highest version)', (t) => {
  const env = envFor(tempDir());
  const pinned = kclrun(['fn'], { env, input: RESOURCE_LIST(`oci://${registry.host}/kcl-lang/set-team:0.1.0`) });
  t.is(pinned.code, 0, pinned.stderr + pinned.stdout);
  t.regex(pinned.stdout, /labels:\n\s+team: k8s-1\.28/, 'the source package\'s own registry dependency resolved');
  const newest = kclrun(['fn'], { env, input: RESOURCE_LIST(`oci://${registry.host}/kcl-lang/set-team`) });
  t.is(newest.code, 0, newest.stderr + newest.stdout);
  t.regex(newest.stdout, /team: v0\.2\.0/);
  const missing = kclrun(['fn'], { env, input: RESOURCE_LIST(`oci://${registry.host}/kcl-lang/set-team:9.9.9`) });
  t.is(missing.code, 1);
  t.regex(missing.stdout, new RegExp(`oci://${registry.host.replace(/\./g, '\\.')}/kcl-lang/set-team:9\\.9\\.9: .*manifest 9\\.9\\.9: 404`));
});

test('hostile names and tags (kcl.mod or kcl.mod.lock) never leave the package cache or reach the registry', async (t) => {
  const cache = tempDir();
  const env = envFor(cache);
  const cases: Array<[string, string, RegExp]> = [
    ['k8s = "1.28/../../../escape"\n', '', /dependency "k8s": invalid OCI reference .*"1\.28\/\.\.\/\.\.\/\.\.\/escape" is not a tag/],
    ['evil = { package = "../../x", version = "1" }\n', '', /dependency "evil": invalid OCI reference .* is not a repository/],
    ['base = { oci = "oci://HOST/kcl-lang/base" }\n', '[dependencies]\n  [dependencies.base]\n    name = "base"\n    repo = "kcl-lang/base"\n    reg = "HOST"\n    oci_tag = "../../../escape"\n', /dependency "base": .* "\.\.\/\.\.\/\.\.\/escape" is not a tag/],
  ];
  for (const [deps, lock, message] of cases) {
    const dir = writeTree(tempDir(), {
      'kcl.mod': `[package]\nname = "app"\n\n[dependencies]\n${deps.replace('HOST', registry.host)}`,
      'kcl.mod.lock': lock.replace('HOST', registry.host),
      'main.k': 'a = 1\n',
    });
    await t.throwsAsync(fetchForPaths([dir], { env }), { instanceOf: DependencyFetchError, message }, deps);
  }
  t.deepEqual(readdirSync(cache), [], 'nothing was written to the cache');
  // Positive control: the same lock with a real tag fetches.
  const ok = writeTree(tempDir(), { 'kcl.mod': `[package]\nname = "app"\n\n[dependencies]\nbase = { oci = "oci://${registry.host}/kcl-lang/base" }\n`, 'main.k': 'a = 1\n' });
  t.is((await fetchForPaths([ok], { env }))!.dirs.get('base'), join(cache, 'base_0.10.0'));
});
