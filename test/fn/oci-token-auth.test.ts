/**
 * A registry with token auth, as ghcr.io and Docker Hub run it: the distribution registry answers 401 with a Bearer
 * challenge, a token service (test/harness/token-server.ts) hands out JWTs the registry trusts. An anonymous pull of
 * a public package goes 401 → token → 200; a private one needs the credentials from a Docker config.json; a wrong
 * password is an error naming the registry and the status, never the password.
 */
import test from 'ava';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { hashDir } from '../../fn/package/dir-hash.js';
import { RegistryAuthError, RegistryClient } from '../../fn/package/oci/client.js';
import { lookupCredentials } from '../../fn/package/oci/credentials.js';
import { pullPackage } from '../../fn/package/oci/package.js';
import { orasPushPackage } from '../harness/oras.js';
import { startRegistry, type Registry } from '../harness/registry.js';
import { kclrunAsync, tempDir, writeTree } from '../support/kclrun.js';

const USER = 'kcl';
const PASSWORD = 'tok3n-s3cret';
const PKG = {
  'kcl.mod': '[package]\nname = "k8s"\nedition = "v0.11.0"\nversion = "1.28"\n',
  'main.k': 'schema Labels:\n    team: str = "public-k8s"\n',
};

let registry: Registry;
test.before(async () => {
  registry = await startRegistry({ token: { user: USER, password: PASSWORD, publicPrefixes: ['public/'] } });
  const src = writeTree(tempDir(), PKG);
  // oras pushes through the same token flow, with Basic credentials at the token service.
  for (const repo of ['public/k8s', 'private/k8s']) {
    await orasPushPackage(registry.host, repo, '1.28', src, { name: 'k8s', version: '1.28', sum: hashDir(src), auth: { user: USER, password: PASSWORD } });
  }
});
test.after.always(async () => {
  await registry?.close();
});

test.serial('the registry challenges an anonymous request with Bearer, naming the token service', async (t) => {
  const res = await fetch(`http://${registry.host}/v2/public/k8s/manifests/1.28`);
  t.is(res.status, 401);
  t.is(res.headers.get('www-authenticate'), `Bearer realm="${registry.tokenServer!.realm}",service="kclrun-test-registry",scope="repository:public/k8s:pull"`);
});

test.serial('an anonymous pull of a public package: 401 → anonymous token → 200', async (t) => {
  const tokensBefore = registry.tokenServer!.requests.length;
  const dest = join(tempDir(), 'k8s_1.28');
  await pullPackage(new RegistryClient(registry.host), 'public/k8s', '1.28', dest);
  t.true(existsSync(join(dest, 'kcl.mod')));
  const tokens = registry.tokenServer!.requests.slice(tokensBefore);
  t.deepEqual(tokens, [{ scopes: ['repository:public/k8s:pull'], user: undefined, status: 200, granted: ['repository:public/k8s:pull'] }], 'one anonymous token, reused for the blob');
  const manifest = registry.requests().filter((r) => r.path === '/v2/public/k8s/manifests/1.28' && r.method === 'GET');
  t.deepEqual(manifest.slice(-2).map((r) => r.status), [401, 200]);
});

test.serial('kclrun render resolves a public dependency from a token-auth registry anonymously', async (t) => {
  const app = writeTree(tempDir(), {
    'kcl.mod': `[package]\nname = "app"\n\n[dependencies]\nk8s = { oci = "oci://${registry.host}/public/k8s", tag = "1.28" }\n`,
    'main.k': 'import k8s\nlabels = k8s.Labels {}\n',
  });
  const before = registry.tokenServer!.requests.length;
  // Not kclrun (spawnSync): the token service runs in this process and must keep answering.
  const r = await kclrunAsync(['render', app], { env: { ...process.env, KCL_PKG_PATH: tempDir(), DOCKER_CONFIG: tempDir() } });
  t.is(r.stderr, '');
  t.is(r.stdout, 'labels:\n  team: public-k8s\n');
  t.true(registry.tokenServer!.requests.slice(before).some((q) => q.user === undefined && q.granted.includes('repository:public/k8s:pull')), 'an anonymous token');
});

test.serial('a private package: anonymous is refused; config.json credentials get a token; a wrong password names registry and status only', async (t) => {
  const anon = await t.throwsAsync(pullPackage(new RegistryClient(registry.host), 'private/k8s', '1.28', join(tempDir(), 'x')), { instanceOf: RegistryAuthError });
  t.is(anon!.message, `${registry.host}/private/k8s: the registry needs credentials (none configured): 401 UNAUTHORIZED: authentication required`);

  const pkgRoot = tempDir();
  mkdirSync(join(pkgRoot, '.kpm', 'config'), { recursive: true });
  writeFileSync(join(pkgRoot, '.kpm', 'config', 'config.json'), JSON.stringify({ auths: { [registry.host]: { auth: Buffer.from(`${USER}:${PASSWORD}`).toString('base64') } } }));
  const credentials = lookupCredentials(registry.host, pkgRoot, { HOME: tempDir() });
  const before = registry.tokenServer!.requests.length;
  const dest = join(tempDir(), 'k8s_1.28');
  await pullPackage(new RegistryClient(registry.host, { credentials }), 'private/k8s', '1.28', dest);
  t.true(existsSync(join(dest, 'kcl.mod')));
  t.is(registry.tokenServer!.requests[before]!.user, USER);

  const wrong = new RegistryClient(registry.host, { credentials: { username: USER, password: 'not-the-password' } });
  const err = await t.throwsAsync(wrong.manifest('private/k8s', '1.28'), { instanceOf: RegistryAuthError });
  t.is(err!.status, 401);
  t.is(err!.message, `${registry.host}/private/k8s: the token service refused: 401 UNAUTHORIZED: invalid username or password`);
  t.false(err!.message.includes('not-the-password'));
});
