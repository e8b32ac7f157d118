/**
 * The OCI client against a real distribution registry: a KCL package pushed in kpm's layout (plain tar and tar+gzip)
 * pulls back identical with its sum; the highest version is found among the tags; a registry behind htpasswd
 * refuses anonymous pulls and accepts credentials from a Docker config.json; hostile layers (a link, an escaping
 * path, a wrong digest) are refused.
 */
import test from 'ava';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { create as createTar } from 'tar';
import { hashDir } from '../../fn/package/dir-hash.js';
import { RegistryAuthError, RegistryClient, RegistryContentError, RegistryNotFoundError } from '../../fn/package/oci/client.js';
import { lookupCredentials } from '../../fn/package/oci/credentials.js';
import { ANNOTATION_SUM, pullPackage, pushPackage } from '../../fn/package/oci/package.js';
import { formatOciRef, OciRefError, parseOciRef } from '../../fn/package/oci/reference.js';
import { highestVersion, VersionError } from '../../fn/package/oci/version.js';
import { startRegistry, type Registry } from '../harness/registry.js';
import { tempDir, writeTree } from '../support/kclrun.js';

const PKG = {
  'kcl.mod': '[package]\nname = "k8s"\nedition = "v0.11.0"\nversion = "1.28"\n',
  'api/core/v1/pod.k': 'schema Pod:\n    apiVersion: str = "v1"\n    kind: str = "Pod"\n',
  'main.k': 'version = "1.28"\n',
};

let plain: Registry;
let locked: Registry;
test.before(async () => {
  [plain, locked] = await Promise.all([startRegistry(), startRegistry({ user: 'kcl', password: 's3cret' })]);
});
test.after.always(async () => {
  await Promise.all([plain?.close(), locked?.close()]);
});

test('oci:// references: a registry port is not a tag; the tag is after the last colon', (t) => {
  t.deepEqual(parseOciRef('oci://localhost:5000/kcl-lang/k8s:1.28'), { registry: 'localhost:5000', repository: 'kcl-lang/k8s', tag: '1.28' });
  t.deepEqual(parseOciRef('oci://localhost:5000/kcl-lang/k8s'), { registry: 'localhost:5000', repository: 'kcl-lang/k8s' });
  t.deepEqual(parseOciRef('oci://ghcr.io/kcl-lang/k8s', '1.28'), { registry: 'ghcr.io', repository: 'kcl-lang/k8s', tag: '1.28' });
  t.is(formatOciRef(parseOciRef('oci://127.0.0.1:1/a/b:c')), 'oci://127.0.0.1:1/a/b:c');
  for (const bad of ['oci://host', 'oci://host/UPPER', 'oci://host/a/../b', 'oci://ho st/a', 'oci://host/a:ta/g']) {
    t.throws(() => parseOciRef(bad), { instanceOf: OciRefError }, bad);
  }
  t.throws(() => parseOciRef('oci://h/a:1', '2'), { instanceOf: OciRefError, message: /a tag is given twice/ });
});

test('highest version: numeric segment order, pre-releases first, latest ignored, a non-version is an error', (t) => {
  t.is(highestVersion(['1.9', '1.28', 'latest', '1.28-rc.1', 'v1.10.0']), '1.28');
  t.is(highestVersion(['0.1.0-alpha', '0.1.0-beta.2', '0.1.0-beta.10']), '0.1.0-beta.10');
  t.is(highestVersion(['latest']), undefined);
  t.throws(() => highestVersion(['1.0', 'main']), { instanceOf: VersionError, message: '"main" is not a version' });
});

for (const gzip of [false, true]) {
  test(`a package pushed in kpm's layout (${gzip ? 'tar+gzip' : 'plain tar'}) pulls back with the same files and its sum`, async (t) => {
    const src = writeTree(tempDir(), PKG);
    const client = new RegistryClient(plain.host);
    const repo = `kcl-lang/k8s-${gzip ? 'tgz' : 'tar'}`;
    await pushPackage(client, repo, '1.28', src, { gzip });
    const dest = join(tempDir(), 'k8s_1.28');
    const pulled = await pullPackage(client, repo, '1.28', dest);
    for (const [f, content] of Object.entries(PKG)) t.is(readFileSync(join(dest, f), 'utf8'), content, f);
    t.is(pulled.annotations[ANNOTATION_SUM], hashDir(src));
    t.is(hashDir(dest), hashDir(src));
    const { manifest } = await client.manifest(repo, '1.28');
    t.is(manifest.layers.length, 1);
    t.is(manifest.layers[0]!.mediaType, gzip ? 'application/vnd.oci.image.layer.v1.tar+gzip' : 'application/vnd.oci.image.layer.v1.tar');
    t.is(manifest.layers[0]!.annotations?.['org.opencontainers.image.title'], `k8s_1.28.${gzip ? 'tgz' : 'tar'}`);
    t.is(manifest.config.digest, 'sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a');
  });
}

test('tags are listed so the highest version can be chosen; a missing tag is RegistryNotFoundError', async (t) => {
  const client = new RegistryClient(plain.host);
  const src = writeTree(tempDir(), PKG);
  for (const tag of ['0.9.0', '0.10.0', 'latest']) await pushPackage(client, 'kcl-lang/versions', tag, src);
  t.deepEqual((await client.tags('kcl-lang/versions')).sort(), ['0.10.0', '0.9.0', 'latest']);
  t.is(highestVersion(await client.tags('kcl-lang/versions')), '0.10.0');
  const err = await t.throwsAsync(client.manifest('kcl-lang/versions', '9.9.9'), { instanceOf: RegistryNotFoundError });
  t.regex(err!.message, new RegExp(`^${plain.host}/kcl-lang/versions: manifest 9.9.9: 404 MANIFEST_UNKNOWN`));
});

test('a registry behind Basic auth: anonymous is refused naming the registry; credentials from config.json are accepted', async (t) => {
  const src = writeTree(tempDir(), PKG);
  const anon = new RegistryClient(locked.host);
  const err = await t.throwsAsync(pushPackage(anon, 'private/k8s', '1.28', src), { instanceOf: RegistryAuthError });
  t.regex(err!.message, /the registry needs credentials \(none configured\): 401 /);
  const pkgRoot = tempDir();
  mkdirSync(join(pkgRoot, '.kpm', 'config'), { recursive: true });
  const auth = Buffer.from('kcl:s3cret').toString('base64');
  writeFileSync(join(pkgRoot, '.kpm', 'config', 'config.json'), JSON.stringify({ auths: { [locked.host]: { auth } } }));
  const env = { HOME: tempDir() };
  const credentials = lookupCredentials(locked.host, pkgRoot, env);
  t.deepEqual(credentials, { username: 'kcl', password: 's3cret' });
  const client = new RegistryClient(locked.host, { credentials });
  await pushPackage(client, 'private/k8s', '1.28', src);
  const dest = join(tempDir(), 'k8s');
  await pullPackage(client, 'private/k8s', '1.28', dest);
  t.true(existsSync(join(dest, 'kcl.mod')));
  const wrong = new RegistryClient(locked.host, { credentials: { username: 'kcl', password: 'nope' } });
  const refused = await t.throwsAsync(wrong.manifest('private/k8s', '1.28'), { instanceOf: RegistryAuthError });
  t.regex(refused!.message, /the credentials were refused: 401/);
  t.false(refused!.message.includes('nope'), 'the password is never in a message');
  // $DOCKER_CONFIG is the fallback when kpm's config.json has nothing for the registry.
  const docker = tempDir();
  writeFileSync(join(docker, 'config.json'), JSON.stringify({ auths: { [locked.host]: { username: 'kcl', password: 's3cret' } } }));
  t.deepEqual(lookupCredentials(locked.host, tempDir(), { DOCKER_CONFIG: docker }), { username: 'kcl', password: 's3cret' });
});

async function pushRawLayer(client: RegistryClient, repo: string, layer: Buffer, digestOverride?: string) {
  const desc = await client.pushBlob(repo, layer, 'application/vnd.oci.image.layer.v1.tar', { 'org.opencontainers.image.title': 'x_1.tar' });
  const config = await client.pushBlob(repo, Buffer.from('{}'), 'application/vnd.oci.empty.v1+json');
  await client.pushManifest(repo, '1', { schemaVersion: 2, config, layers: [{ ...desc, ...(digestOverride && { digest: digestOverride }) }] });
}

async function tarOf(dir: string, files: string[]): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of createTar({ cwd: dir, portable: true }, files)) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

test('hostile layers are refused and leave nothing behind: a symbolic link, a path escaping the package, a wrong digest', async (t) => {
  const client = new RegistryClient(plain.host);
  const linkSrc = writeTree(tempDir(), { 'kcl.mod': '[package]\nname = "x"\n' });
  const { symlinkSync } = await import('node:fs');
  symlinkSync('/etc/passwd', join(linkSrc, 'passwd'));
  await pushRawLayer(client, 'evil/link', await tarOf(linkSrc, ['kcl.mod', 'passwd']));
  const dest1 = join(tempDir(), 'x_1');
  await t.throwsAsync(pullPackage(client, 'evil/link', '1', dest1), { instanceOf: RegistryContentError, message: /contains a link: passwd/ });
  t.false(existsSync(dest1));

  // A tar whose entry is named ../escape (written by hand: tar refuses to create one).
  const header = Buffer.alloc(512);
  header.write('../escape', 0);
  header.write('0000644\0', 100);
  header.write('0000000\0', 108);
  header.write('0000000\0', 116);
  header.write('00000000004\0', 124);
  header.write('00000000000\0', 136);
  header.write('0', 156);
  header.write('ustar\x0000', 257);
  header.fill(' ', 148, 156);
  let sum = 0;
  for (const b of header) sum += b;
  header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
  const body = Buffer.alloc(512);
  body.write('evil');
  await pushRawLayer(client, 'evil/escape', gzipSync(Buffer.concat([header, body, Buffer.alloc(1024)])));
  const dest2 = join(tempDir(), 'x_1');
  await t.throwsAsync(pullPackage(client, 'evil/escape', '1', dest2), { instanceOf: RegistryContentError, message: /escapes the target directory: \.\.\/escape/ });
  t.false(existsSync(dest2));
  t.false(existsSync(join(dest2, '..', 'escape')));

  const good = await tarOf(writeTree(tempDir(), { 'kcl.mod': '' }), ['kcl.mod']);
  const other = `sha256:${createHash('sha256').update('other').digest('hex')}`;
  await client.pushBlob('evil/digest', Buffer.from('other'), 'application/octet-stream');
  await pushRawLayer(client, 'evil/digest', good, other);
  await t.throwsAsync(pullPackage(client, 'evil/digest', '1', join(tempDir(), 'x_1')), { instanceOf: RegistryContentError, message: /arrived as 5 bytes/ });
});

test('every request times out: a registry that never answers is RegistryTimeoutError', async (t) => {
  const { createServer } = await import('node:net');
  const silent = createServer(() => {});
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
  const port = (silent.address() as { port: number }).port;
  try {
    const client = new RegistryClient(`127.0.0.1:${port}`, { timeoutMs: 300 });
    await t.throwsAsync(client.manifest('a/b', '1'), { message: /no answer within 300 ms/, name: 'RegistryTimeoutError' });
  } finally {
    silent.close();
  }
});
