/**
 * Git dependencies and git/http sources end to end against a real `git http-backend` server: kcl.mod
 * `{ git, tag | commit | branch }` dependencies are cloned (by the real git) into kpm's cache layout, transitively;
 * `kclrun mod update` locks them as kpm does and the lock's commit and sum are honoured; the KRM function runs
 * `git::…//subdir?ref=` and `https://…git` sources, `spec.dependencies` and `spec.credentials` (a server requiring
 * Basic auth); plain HTTP needs the allow-insecure-source annotation; hostile URLs, refs and subdirs are refused.
 */
import test from 'ava';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { createServer as createTcpServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { create as createTar } from 'tar';
import { hashDir } from '../../fn/package/dir-hash.js';
import { DependencyFetchError, fetchForPaths, PackageSumError } from '../../fn/package/fetch.js';
import { cloneRepo, GitError } from '../../fn/package/git.js';
import { gitRepoName } from '../../fn/package/git-dependency.js';
import { parseGitSource } from '../../fn/package/source-url.js';
import { credentialsMatch } from '../../fn/package/source-credentials.js';
import { RegistryClient } from '../../fn/package/oci/client.js';
import { pushPackage } from '../../fn/package/oci/package.js';
import { startGitServer, type GitServer } from '../harness/git-server.js';
import { startRegistry } from '../harness/registry.js';
import { kclrunAsync, tempDir, writeTree } from '../support/kclrun.js';

let git: GitServer;
let priv: GitServer;
const SHA: Record<string, string> = {};
const USER = 'tenant';
const PASSWORD = 'S3cret-pw-0xKCL';

function pkgFiles(name: string, version: string, body: string, deps = '', dir = ''): Record<string, string> {
  return {
    [`${dir}kcl.mod`]: `[package]\nname = "${name}"\nedition = "v0.11.0"\nversion = "${version}"\n${deps ? `\n[dependencies]\n${deps}` : ''}`,
    [`${dir}main.k`]: body,
  };
}

/** A KRM-function program: one ConfigMap whose data says which revision ran and what its dependency says. */
const fnProgram = (ref: string) =>
  `import base\n\nitems = [{apiVersion = "v1", kind = "ConfigMap", metadata.name = "from-git", data = {ref = "${ref}", base = base.name}}]\n`;

test.before(async () => {
  git = await startGitServer();
  SHA.baseV1 = await git.createRepo('base', pkgFiles('base', '0.1.0', 'name = "base-v1"\n'));
  await git.tag('base', 'v0.1.0');
  SHA.baseMain = await git.commit('base', pkgFiles('base', '0.2.0', 'name = "base-main"\n'));
  await git.createRepo('mid', pkgFiles('mid', '1.0.0', 'import base\n\nname = "mid+" + base.name\n', `base = { git = "${git.repoUrl('base')}", tag = "v0.1.0" }\n`));
  await git.tag('mid', 'v1.0.0');
  const baseDep = `base = { git = "${git.repoUrl('base')}", tag = "v0.1.0" }\n`;
  await git.createRepo('fnsrc', { ...pkgFiles('fnsrc', '0.1.0', fnProgram('v1'), baseDep, 'pkg/'), 'README.md': 'a KCL package in pkg/\n' });
  await git.tag('fnsrc', 'v1');
  await git.commit('fnsrc', pkgFiles('fnsrc', '0.1.0', fnProgram('main'), baseDep, 'pkg/'));
  priv = await startGitServer({ auth: { username: USER, password: PASSWORD } });
  await priv.createRepo('private', {
    'kcl.mod': '[package]\nname = "private"\nversion = "0.1.0"\n',
    'main.k': 'name = "private"\nitems = [{apiVersion = "v1", kind = "ConfigMap", metadata.name = "private"}]\n',
  });
});

test.after.always(async () => {
  await git?.close();
  await priv?.close();
});

const envFor = (cache: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => ({ ...process.env, KCL_PKG_PATH: cache, ...extra });

test('kclrun render clones git dependencies by tag, commit and branch, transitively, into kpm\'s cache layout', async (t) => {
  const cache = tempDir();
  const base = git.repoUrl('base');
  const dir = writeTree(tempDir(), {
    'kcl.mod':
      '[package]\nname = "app"\nversion = "0.1.0"\n\n[dependencies]\n' +
      `tagged = { git = "${base}", tag = "v0.1.0" }\npinned = { git = "${base}", commit = "${SHA.baseV1}" }\n` +
      `tip = { git = "${base}", branch = "main" }\nmid = { git = "${git.repoUrl('mid')}", tag = "v1.0.0" }\n`,
    'main.k': 'import tagged\nimport pinned\nimport tip\nimport mid\n\na = tagged.name\nb = pinned.name\nc = tip.name\nd = mid.name\n',
  });
  const r = await kclrunAsync(['render', dir], { env: envFor(cache) });
  t.is(r.stderr, '');
  t.is(r.code, 0);
  t.is(r.stdout.trim(), 'a: base-v1\nb: base-v1\nc: base-main\nd: mid+base-v1');
  t.deepEqual(readdirSync(cache).sort(), ['base_main', `base_${SHA.baseV1}`, 'base_v0.1.0', 'mid_v1.0.0'].sort());
  for (const d of readdirSync(cache)) t.false(existsSync(join(cache, d, '.git')), `${d} holds no .git directory`);
  t.false(existsSync(join(dir, 'kcl.mod.lock')), 'rendering never writes the lock');
});

test('kclrun mod update locks git dependencies as kpm; a ref-less one is pinned to HEAD\'s commit and the pin is honoured', async (t) => {
  const repo = `moving-${Date.now()}`;
  const v1 = await git.createRepo(repo, pkgFiles('moving', '1.0.0', 'name = "moving-1"\n'));
  const url = git.repoUrl(repo);
  const base = git.repoUrl('base');
  const dir = writeTree(tempDir(), {
    'kcl.mod':
      '[package]\nname = "app"\nversion = "0.1.0"\n\n[dependencies]\n' +
      `head = { git = "${url}" }\ntip = { git = "${url}", branch = "main" }\npinned = { git = "${base}", commit = "${SHA.baseV1.slice(0, 7)}" }\n` +
      `mid = { git = "${git.repoUrl('mid')}", tag = "v1.0.0" }\n`,
    'main.k': 'import head\nimport tip\nimport pinned\nimport mid\n\na = head.name\nb = tip.name\nc = pinned.name\nd = mid.name\n',
  });
  const update = await kclrunAsync(['mod', 'update', dir], { env: envFor(tempDir()) });
  t.is(update.stderr, '');
  t.is(update.code, 0);
  t.is(
    readFileSync(join(dir, 'kcl.mod.lock'), 'utf8'),
    '[dependencies]\n' +
      `  [dependencies.base]\n    name = "base"\n    full_name = "base_0.1.0"\n    version = "0.1.0"\n    url = "${base}"\n    git_tag = "v0.1.0"\n` +
      `  [dependencies.head]\n    name = "head"\n    full_name = "moving_1.0.0"\n    version = "1.0.0"\n    url = "${url}"\n    commit = "${v1.slice(0, 7)}"\n` +
      `  [dependencies.mid]\n    name = "mid"\n    full_name = "mid_1.0.0"\n    version = "1.0.0"\n    url = "${git.repoUrl('mid')}"\n    git_tag = "v1.0.0"\n` +
      `  [dependencies.pinned]\n    name = "pinned"\n    full_name = "base_0.1.0"\n    version = "0.1.0"\n    url = "${base}"\n    commit = "${SHA.baseV1.slice(0, 7)}"\n` +
      `  [dependencies.tip]\n    name = "tip"\n    full_name = "moving_1.0.0"\n    version = "1.0.0"\n    url = "${url}"\n    branch = "main"\n`,
  );
  // The repository moves on: the branch follows it, the ref-less dependency stays at the locked commit.
  await git.commit(repo, pkgFiles('moving', '2.0.0', 'name = "moving-2"\n'));
  const lock = readFileSync(join(dir, 'kcl.mod.lock'), 'utf8');
  const r = await kclrunAsync(['render', dir], { env: envFor(tempDir()) });
  t.is(r.code, 0, r.stderr);
  t.is(r.stdout.trim(), 'a: moving-1\nb: moving-2\nc: base-v1\nd: mid+base-v1');
  t.is(readFileSync(join(dir, 'kcl.mod.lock'), 'utf8'), lock, 'rendering left the lock as it was');
  // mod update re-resolves the ref-less dependency to the new HEAD.
  const again = await kclrunAsync(['mod', 'update', dir], { env: envFor(tempDir()) });
  t.is(again.code, 0, again.stderr);
  t.regex(readFileSync(join(dir, 'kcl.mod.lock'), 'utf8'), /\[dependencies\.head\]\n {4}name = "head"\n {4}full_name = "moving_2\.0\.0"\n {4}version = "2\.0\.0"\n/);
});

test('a git dependency\'s locked sum (older kpm wrote one) is checked: a tampered copy is an error naming it, expected and found', async (t) => {
  const cache = tempDir();
  const env = envFor(cache);
  const base = git.repoUrl('base');
  const dir = writeTree(tempDir(), {
    'kcl.mod': `[package]\nname = "app"\n\n[dependencies]\nbase = { git = "${base}", tag = "v0.1.0" }\n`,
    'main.k': 'import base\na = base.name\n',
  });
  const fetched = await fetchForPaths([dir], { env });
  const good = hashDir(fetched!.dirs.get('base')!);
  const lock = `[dependencies]\n  [dependencies.base]\n    name = "base"\n    full_name = "base_0.1.0"\n    version = "0.1.0"\n    sum = "${good}"\n    url = "${base}"\n    git_tag = "v0.1.0"\n`;
  writeFileSync(join(dir, 'kcl.mod.lock'), lock);
  t.is((await fetchForPaths([dir], { env }))!.lock.get('base')!.sum, good, 'positive control: the untouched copy passes, and the sum stays locked');
  writeFileSync(join(cache, 'base_v0.1.0', 'main.k'), 'name = "evil"\n');
  const err = await t.throwsAsync(fetchForPaths([dir], { env }), { instanceOf: PackageSumError });
  t.is(err!.dependency, 'base');
  t.is(err!.expected, good);
  t.is(err!.found, hashDir(join(cache, 'base_v0.1.0')));
  // A fresh clone is checked before it is moved into the cache.
  writeFileSync(join(dir, 'kcl.mod.lock'), lock.replace(good, 'AAAA'));
  const fresh = tempDir();
  await t.throwsAsync(fetchForPaths([dir], { env: envFor(fresh) }), { instanceOf: PackageSumError, message: /dependency "base": checksum mismatch .*expected AAAA, found / });
  t.deepEqual(readdirSync(fresh), [], 'the refused clone was not kept');
});

test('offline: git dependencies come only from the cache; a missing one, or one without a ref or locked commit, is an error naming it', async (t) => {
  const cache = tempDir();
  const base = git.repoUrl('base');
  const dir = writeTree(tempDir(), { 'kcl.mod': `[package]\nname = "app"\n\n[dependencies]\nbase = { git = "${base}", tag = "v0.1.0" }\n`, 'main.k': 'a = 1\n' });
  const offline = envFor(cache, { KCLRUN_OFFLINE: '1' });
  await t.throwsAsync(fetchForPaths([dir], { env: offline }), { instanceOf: DependencyFetchError, message: new RegExp(`dependency "base": ${base} is not in the package cache \\(${join(cache, 'base_v0.1.0')}\\) and kclrun is offline`) });
  await fetchForPaths([dir], { env: envFor(cache) });
  t.is((await fetchForPaths([dir], { env: offline }))!.dirs.get('base'), join(cache, 'base_v0.1.0'), 'once cached, offline works');
  const refless = writeTree(tempDir(), { 'kcl.mod': `[package]\nname = "app"\n\n[dependencies]\nbase = { git = "${base}" }\n`, 'main.k': 'a = 1\n' });
  await t.throwsAsync(fetchForPaths([refless], { env: offline }), { instanceOf: DependencyFetchError, message: /has no tag, branch or commit and no locked commit, and kclrun is offline/ });
});

test('hostile git URLs and refs are refused before git runs, naming them; nothing lands in the cache', async (t) => {
  const cache = tempDir();
  const env = envFor(cache);
  const marker = join(tempDir(), 'pwned');
  const cases: Array<[string, RegExp]> = [
    ['evil = { git = "-uhttps://example.invalid/x.git", tag = "v1" }', /dependency "evil": -uhttps:\/\/example\.invalid\/x\.git tag v1: .*must not start with "-"/],
    ['evil = { git = "--upload-pack=touch /tmp/x", tag = "v1" }', /must not start with "-"/],
    [`evil = { git = "ext::sh -c touch% ${marker}", tag = "v1" }`, /remote helpers .* are not allowed/],
    ['evil = { git = "file:///etc/x.git", tag = "v1" }', /file:\/\/ git URLs are not allowed/],
    ['evil = { git = "/srv/git/x.git", tag = "v1" }', /local git repositories are not allowed/],
    [`evil = { git = "${git.repoUrl('base')}", tag = "--upload-pack=touch" }`, /the tag "--upload-pack=touch" is not a valid git ref/],
    [`evil = { git = "${git.repoUrl('base')}", branch = "../../escape" }`, /the branch "\.\.\/\.\.\/escape" is not a valid git ref|not a plain directory name/],
    [`evil = { git = "${git.repoUrl('base')}", commit = "HEAD~1" }`, /not a valid git ref|not a hexadecimal SHA/],
  ];
  for (const [dep, message] of cases) {
    const dir = writeTree(tempDir(), { 'kcl.mod': `[package]\nname = "app"\n\n[dependencies]\n${dep}\n`, 'main.k': 'a = 1\n' });
    await t.throwsAsync(fetchForPaths([dir], { env }), { instanceOf: DependencyFetchError, message }, dep);
  }
  t.false(existsSync(marker), 'ext:: never ran');
  t.deepEqual(readdirSync(cache), [], 'nothing was written to the cache');
  // Positive control: a plain URL and tag fetch.
  const ok = writeTree(tempDir(), { 'kcl.mod': `[package]\nname = "app"\n\n[dependencies]\nok = { git = "${git.repoUrl('base')}", tag = "v0.1.0" }\n`, 'main.k': 'a = 1\n' });
  t.is((await fetchForPaths([ok], { env }))!.dirs.get('ok'), join(cache, 'base_v0.1.0'));
});

/** A ResourceList whose KCLRun has `spec` (YAML lines under spec:) and, when `insecure`, the allow-insecure annotation. */
function resourceList(spec: string, insecure = true): string {
  const annotations = insecure ? '    annotations:\n      krm.kcl.dev/allow-insecure-source: "true"\n' : '';
  return (
    'apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems: []\n' +
    `functionConfig:\n  apiVersion: krm.kcl.dev/v1alpha1\n  kind: KCLRun\n  metadata:\n    name: remote\n${annotations}  spec:\n` +
    spec
      .split('\n')
      .map((l) => `    ${l}`)
      .join('\n') +
    '\n'
  );
}

test('the KRM function runs git:: sources with a subdir and ?ref=, and https://…git sources (default branch)', async (t) => {
  const env = envFor(tempDir());
  const tagged = await kclrunAsync(['fn'], { env, input: resourceList(`source: git::${git.repoUrl('fnsrc')}//pkg?ref=v1`) });
  t.is(tagged.code, 0, tagged.stderr + tagged.stdout);
  t.regex(tagged.stdout, /name: from-git\n\s+data:\n\s+base: base-v1\n\s+ref: v1\n|data:\n\s+ref: v1\n\s+base: base-v1/);
  const head = await kclrunAsync(['fn'], { env, input: resourceList(`source: ${git.repoUrl('fnsrc')}//pkg`) });
  t.is(head.code, 0, head.stderr + head.stdout);
  t.regex(head.stdout, /ref: main/);
  // Plain HTTP without the annotation: refused, saying how to allow it.
  const refused = await kclrunAsync(['fn'], { env, input: resourceList(`source: git::${git.repoUrl('fnsrc')}//pkg?ref=v1`, false) });
  t.is(refused.code, 1);
  t.regex(refused.stdout, /plain http:\/\/ sources are refused.*krm\.kcl\.dev\/allow-insecure-source/);
  t.notRegex(refused.stdout, /from-git/);
});

test('a git source\'s subdir may not leave the clone, nor may hostile URLs run: errors name the path or URL', async (t) => {
  const env = envFor(tempDir());
  const escape = await kclrunAsync(['fn'], { env, input: resourceList(`source: git::${git.repoUrl('fnsrc')}//pkg/../../..?ref=v1`) });
  t.is(escape.code, 1);
  t.regex(escape.stdout, /subdir "pkg\/\.\.\/\.\.\/\.\." leads outside the git source http:\/\/127\.0\.0\.1:\d+\/fnsrc\.git/);
  const option = await kclrunAsync(['fn'], { env, input: resourceList('source: git::-uhttps://example.invalid/x.git') });
  t.is(option.code, 1);
  t.regex(option.stdout, /must not start with "-"/);
  const ext = await kclrunAsync(['fn'], { env, input: resourceList('source: "git::ext::sh -c id"') });
  t.is(ext.code, 1);
  t.regex(ext.stdout, /remote helpers .* are not allowed/);
  // Positive control: the same source with a subdir inside the clone runs.
  const ok = await kclrunAsync(['fn'], { env, input: resourceList(`source: git::${git.repoUrl('fnsrc')}//pkg?ref=v1`) });
  t.is(ok.code, 0, ok.stdout);
});

test('spec.dependencies adds git and path dependencies to the program; a path outside the package is refused, naming it', async (t) => {
  const cwd = writeTree(tempDir(), pkgFiles('local', '0.0.1', 'name = "local-lib"\n', '', 'lib/'));
  const env = envFor(tempDir());
  const program = 'import extra\nimport local\n\nitems = [{apiVersion = "v1", kind = "ConfigMap", metadata.name = "deps", data = {extra = extra.name, local = local.name}}]';
  const spec = (deps: string) => `source: |\n  ${program.split('\n').join('\n  ')}\ndependencies: |\n  ${deps.split('\n').join('\n  ')}`;
  const good = await kclrunAsync(['fn'], { cwd, env, input: resourceList(spec(`extra = { git = "${git.repoUrl('base')}", tag = "v0.1.0" }\nlocal = { path = "./lib" }`)) });
  t.is(good.code, 0, good.stderr + good.stdout);
  t.regex(good.stdout, /extra: base-v1/);
  t.regex(good.stdout, /local: local-lib/);
  const outside = await kclrunAsync(['fn'], { cwd, env, input: resourceList(spec(`extra = { git = "${git.repoUrl('base')}", tag = "v0.1.0" }\nlocal = { path = "../../etc" }`)) });
  t.is(outside.code, 1);
  t.regex(outside.stdout, /spec\.dependencies "local": path \.\.\/\.\.\/etc leads outside the package root/);
});

test('spec.credentials reach a git server requiring Basic auth; without them the error names the host, never the password', async (t) => {
  const env = envFor(tempDir());
  const host = new URL(priv.url).host;
  const source = `source: git::${priv.repoUrl('private')}`;
  const creds = (password: string) => `\ncredentials:\n  url: ${priv.url}\n  username: ${USER}\n  password: ${password}`;
  const without = await kclrunAsync(['fn'], { env, input: resourceList(source) });
  t.is(without.code, 1);
  t.true(without.stdout.includes(`the git server ${host} requires authentication: give credentials for it (spec.credentials)`), without.stdout);
  const wrong = await kclrunAsync(['fn'], { env, input: resourceList(source + creds('not-the-password')) });
  t.is(wrong.code, 1);
  t.true(wrong.stdout.includes(`the git server ${host} refused the credentials given for it`), wrong.stdout);
  // (The ResourceList's functionConfig is echoed back as given; the results and stderr never carry the password.)
  const shown = (r: { stdout: string; stderr: string }) => r.stdout.slice(r.stdout.indexOf('\nresults:')) + r.stderr;
  t.true(wrong.stdout.includes('\nresults:'));
  t.false(shown(wrong).includes('not-the-password'), 'the given password is never shown');
  const right = await kclrunAsync(['fn'], { env, input: resourceList(source + creds(PASSWORD)) });
  t.is(right.code, 0, right.stdout + right.stderr);
  t.regex(right.stdout, /name: private/);
  t.false(right.stderr.includes(PASSWORD), 'the password is never shown');
  // The same credentials serve a git dependency listed in spec.dependencies (and come from KCL_SRC_* too).
  const dep = await kclrunAsync(['fn'], {
    env: { ...env, KCL_SRC_URL: priv.url, KCL_SRC_USERNAME: USER, KCL_SRC_PASSWORD: PASSWORD },
    input: resourceList(`source: |\n  import p\n  items = [{apiVersion = "v1", kind = "ConfigMap", metadata.name = p.name + "-dep"}]\ndependencies: |\n  p = { git = "${priv.repoUrl('private')}" }`),
  });
  t.is(dep.code, 0, dep.stdout + dep.stderr);
  t.regex(dep.stdout, /name: private-dep/);
});

test('git sources parse as go-getter reads them; cache names and credential scopes follow kpm and the credentials url', (t) => {
  t.deepEqual(parseGitSource('git::https://host/org/repo.git//sub/dir?ref=v1'), { url: 'https://host/org/repo.git', subdir: 'sub/dir', ref: 'v1' });
  t.deepEqual(parseGitSource('https://host:8443/repo.git?ref=main'), { url: 'https://host:8443/repo.git', ref: 'main' });
  t.deepEqual(parseGitSource('github.com/kcl-lang/krm-kcl/examples/abc?ref=v0.1'), { url: 'https://github.com/kcl-lang/krm-kcl.git', subdir: 'examples/abc', ref: 'v0.1' });
  t.throws(() => parseGitSource('git::https://host/r.git?sshkey=abc'), { message: /the query parameter "sshkey" is not supported/ });
  t.is(gitRepoName('https://github.com/kcl-lang/flask-demo-kcl-manifests.git'), 'flask-demo-kcl-manifests');
  t.is(gitRepoName('git@github.com:org/konfig.git'), 'konfig');
  t.is(gitRepoName('https://host/org/konfig'), 'konfig');
  const c = { url: 'https://git.example.com/team', username: 'u', password: 'p' };
  t.true(credentialsMatch(c, 'https://git.example.com/team/repo.git'));
  t.false(credentialsMatch(c, 'https://git.example.com/other/repo.git'), 'another path on the host');
  t.false(credentialsMatch(c, 'https://evil.example.com/team/repo.git'), 'another host');
  t.false(credentialsMatch({ ...c, url: 'git.example.com' }, 'https://git.example.com:8443/x.git'), 'another port');
  t.true(credentialsMatch({ ...c, url: 'oci://reg.local:5000' }, 'reg.local:5000'));
});

test('spec.credentials log in to an oci:// source\'s registry (Basic auth); without them the error names the registry, not the password', async (t) => {
  const registry = await startRegistry({ user: USER, password: PASSWORD });
  t.teardown(() => registry.close());
  const src = writeTree(tempDir(), { 'kcl.mod': '[package]\nname = "locked"\nversion = "0.1.0"\n', 'main.k': 'items = [{apiVersion = "v1", kind = "ConfigMap", metadata.name = "from-oci"}]\n' });
  await pushPackage(new RegistryClient(registry.host, { credentials: { username: USER, password: PASSWORD } }), 'private/locked', '0.1.0', src);
  const env = envFor(tempDir(), { DOCKER_CONFIG: tempDir() });
  const source = `source: oci://${registry.host}/private/locked:0.1.0`;
  const without = await kclrunAsync(['fn'], { env, input: resourceList(source, false) });
  t.is(without.code, 1);
  t.regex(without.stdout.slice(without.stdout.indexOf('\nresults:')), new RegExp(`oci://${registry.host}/private/locked:0\\.1\\.0: .*credentials`), without.stdout);
  const given = await kclrunAsync(['fn'], { env, input: resourceList(`${source}\ncredentials:\n  url: oci://${registry.host}\n  username: ${USER}\n  password: ${PASSWORD}`, false) });
  t.is(given.code, 0, given.stdout + given.stderr);
  t.regex(given.stdout, /name: from-oci/);
  t.false(given.stderr.includes(PASSWORD) || without.stderr.includes(PASSWORD));
});

test('an http(s) source: a .k file is run, a .tar.gz unpacked (//subdir inside it); plain http needs the annotation', async (t) => {
  const pkg = writeTree(tempDir(), { 'app/main.k': 'items = [{apiVersion = "v1", kind = "ConfigMap", metadata.name = "from-tarball"}]\n' });
  const tarball = join(tempDir(), 'pkg.tar.gz');
  await createTar({ gzip: true, file: tarball, cwd: pkg }, ['app']);
  const files: Record<string, Buffer> = {
    '/fns/main.k': Buffer.from('items = [{apiVersion = "v1", kind = "ConfigMap", metadata.name = "from-file"}]\n'),
    '/pkg.tar.gz': readFileSync(tarball),
  };
  const server = createServer((req, res) => {
    const body = files[req.url ?? ''];
    if (body) res.writeHead(200).end(body);
    else res.writeHead(404).end('not found');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => server.close());
  const addr = server.address();
  const base = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
  const env = envFor(tempDir());
  const file = await kclrunAsync(['fn'], { env, input: resourceList(`source: ${base}/fns/main.k`) });
  t.is(file.code, 0, file.stdout + file.stderr);
  t.regex(file.stdout, /name: from-file/);
  const archive = await kclrunAsync(['fn'], { env, input: resourceList(`source: ${base}/pkg.tar.gz//app`) });
  t.is(archive.code, 0, archive.stdout + archive.stderr);
  t.regex(archive.stdout, /name: from-tarball/);
  const missing = await kclrunAsync(['fn'], { env, input: resourceList(`source: ${base}/fns/nope.k`) });
  t.is(missing.code, 1);
  t.regex(missing.stdout, /http:\/\/127\.0\.0\.1:\d+\/fns\/nope\.k: HTTP 404/);
  const refused = await kclrunAsync(['fn'], { env, input: resourceList(`source: ${base}/fns/main.k`, false) });
  t.is(refused.code, 1);
  t.regex(refused.stdout, /plain http:\/\/ sources are refused/);
});

test('a git server that never answers: the clone ends at its timeout, or when the signal aborts, naming the URL', async (t) => {
  const sockets: Socket[] = [];
  const server = createTcpServer((s) => void sockets.push(s)); // accepts, never answers
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => {
    sockets.forEach((s) => s.destroy());
    server.close();
  });
  const addr = server.address();
  const url = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}/stuck.git`;
  const timedOut = await t.throwsAsync(cloneRepo(url, { kind: 'tag', value: 'v1' }, join(tempDir(), 'a'), { timeoutMs: 1500 }), { instanceOf: GitError });
  t.is(timedOut!.message, `${url}: git clone timed out after 1.5s`);
  const controller = new AbortController();
  setTimeout(() => controller.abort(), 300);
  const aborted = await t.throwsAsync(cloneRepo(url, undefined, join(tempDir(), 'b'), { signal: controller.signal }), { instanceOf: GitError });
  t.is(aborted!.message, `${url}: aborted`);
  // Positive control: the same call against a real server clones.
  t.regex(await cloneRepo(git.repoUrl('base'), { kind: 'tag', value: 'v0.1.0' }, join(tempDir(), 'c')), /^[0-9a-f]{40}$/);
});
