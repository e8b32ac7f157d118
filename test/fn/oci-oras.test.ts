/**
 * Packages pushed by the real oras CLI in kpm's layout (test/harness/oras.ts: a `tar`-written layer in kpm's TarDir
 * order with its `.` entry, plain and gzipped, the empty config, the `org.kcllang.package.*` annotations) are read
 * by our client: the files and sum come back, `kclrun render` uses one as a dependency; and what our own `pushPackage` writes has the same manifest shape as the oras push.
 */
import test from 'ava';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { hashDir } from '../../fn/package/dir-hash.js';
import { RegistryClient, type OciManifest } from '../../fn/package/oci/client.js';
import { ANNOTATION_SUM, pullPackage, pushPackage } from '../../fn/package/oci/package.js';
import { oras, orasPushPackage } from '../harness/oras.js';
import { startRegistry, type Registry } from '../harness/registry.js';
import { kclrun, tempDir, writeTree } from '../support/kclrun.js';

const PKG = {
  'kcl.mod': '[package]\nname = "k8s"\nedition = "v0.11.0"\nversion = "1.28"\n',
  'api/core/v1/pod.k': 'schema Pod:\n    apiVersion: str = "v1"\n    kind: str = "Pod"\n    name: str\n',
  'main.k': 'version = "1.28"\n',
  '.gitignore': 'left out of the tar and the sum\n',
};

let registry: Registry;
let src: string;
test.before(async () => {
  registry = await startRegistry();
  src = writeTree(tempDir(), PKG);
  for (const gzip of [true, false]) {
    await orasPushPackage(registry.host, `kcl-lang/k8s-${gzip ? 'tgz' : 'tar'}`, '1.28', src, { name: 'k8s', version: '1.28', sum: hashDir(src), gzip });
  }
});
test.after.always(async () => {
  await registry?.close();
});

for (const gzip of [true, false]) {
  test(`a package oras pushed in kpm's layout (${gzip ? 'tar+gzip' : 'plain tar'}) pulls back with its files and sum`, async (t) => {
    const repo = `kcl-lang/k8s-${gzip ? 'tgz' : 'tar'}`;
    const dest = join(tempDir(), 'k8s_1.28');
    const pulled = await pullPackage(new RegistryClient(registry.host), repo, '1.28', dest);
    for (const f of ['kcl.mod', 'api/core/v1/pod.k', 'main.k']) t.is(readFileSync(join(dest, f), 'utf8'), PKG[f as keyof typeof PKG], f);
    t.throws(() => readFileSync(join(dest, '.gitignore')), { code: 'ENOENT' }, 'kpm leaves .git paths out');
    t.is(pulled.annotations[ANNOTATION_SUM], hashDir(src));
    t.is(hashDir(dest), hashDir(src));
    t.is(pulled.annotations['org.kcllang.package.name'], 'k8s');
    t.truthy(pulled.annotations['org.opencontainers.image.created'], 'oras stamps the creation time, as kpm does');
  });
}

test('our pushPackage writes the manifest oras writes for kpm\'s layout (config, artifactType, one titled layer, annotations)', async (t) => {
  const client = new RegistryClient(registry.host);
  await pushPackage(client, 'kcl-lang/k8s-ours', '1.28', src);
  const shape = (m: OciManifest) => ({
    mediaType: m.mediaType,
    artifactType: m.artifactType,
    config: m.config,
    layers: m.layers.map((l) => ({ mediaType: l.mediaType, annotations: l.annotations })),
    annotations: Object.keys(m.annotations ?? {}).sort(),
    sum: m.annotations?.[ANNOTATION_SUM],
  });
  const theirs = JSON.parse(await oras(['manifest', 'fetch', '--plain-http', `${registry.host}/kcl-lang/k8s-tgz:1.28`])) as OciManifest;
  const ours = (await client.manifest('kcl-lang/k8s-ours', '1.28')).manifest;
  t.deepEqual(shape(ours), shape(theirs));
  t.is(theirs.config.mediaType, 'application/vnd.oci.empty.v1+json');
});

test('kclrun render uses an oras-pushed package as a dependency', (t) => {
  const env = { ...process.env, KCL_PKG_PATH: tempDir(), KPM_REG: registry.host, KPM_REPO: 'kcl-lang' };
  const app = writeTree(tempDir(), {
    'kcl.mod': `[package]\nname = "app"\n\n[dependencies]\nk8s = { oci = "oci://${registry.host}/kcl-lang/k8s-tar", tag = "1.28" }\n`,
    'main.k': 'import k8s.api.core.v1 as core\n\npod = core.Pod {name = "web"}\n',
  });
  const r = kclrun(['render', app], { env });
  t.is(r.stderr, '');
  t.is(r.stdout, 'pod:\n  apiVersion: v1\n  kind: Pod\n  name: web\n');
});
