/**
 * kcl.mod registry dependencies in the controller, on a real API server with real distribution registries (one open,
 * one behind htpasswd), and for the registry behind auth a real source-controller and Git server: a KCLRun whose program imports a package from the registry is applied; the package is cached
 * under `--kcl-pkg-cache` in the KCLRun's namespace's own directory. A dependency that cannot be had (unknown tag,
 * 401, a sum that does not match kcl.mod.lock) fails the build naming the dependency and the registry's answer, and
 * applies and prunes nothing. `spec.registrySecretRef` names a `kubernetes.io/dockerconfigjson` Secret of the
 * KCLRun's own namespace: missing or of another type → BuildFailed (retried: creating it later is noticed); given →
 * applied; another namespace cannot be named, and a package another namespace fetched with its credentials is not
 * handed to a namespace without them.
 */
import test from 'ava';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { newNamespace } from '../harness/ava.js';
import { startGitServer } from '../harness/git-server.js';
import { startRegistry, type Registry } from '../harness/registry.js';
import { startSourceController } from '../harness/source-controller.js';
import { RegistryClient } from '../../fn/package/oci/client.js';
import { pushPackage } from '../../fn/package/oci/package.js';
import type { KCLRun } from '../../controller/api/types.js';
import { tempDir, writeTree } from '../support/kclrun.js';
import {
  condition,
  createKCLRun,
  createObject,
  deleteKCLRuns,
  failedWith,
  getKCLRun,
  getObject,
  gitRef,
  gitSource,
  readyAt,
  setArtifact,
  useController,
  waitKCLRun,
} from './suite.js';

const cache = tempDir('kclrun-pkg-cache-test-');
const suite = useController(test, { kclPkgCache: cache });
const USER = 'tenant';
const PASSWORD = 'registry-s3cret-value';
let open: Registry;
let locked: Registry;

const LIB = { 'kcl.mod': '[package]\nname = "labels"\nedition = "v0.11.0"\nversion = "0.1.0"\n', 'main.k': 'team = "platform"\n' };

test.before('start the registries and push the package', async (t) => {
  t.timeout(60_000);
  [open, locked] = await Promise.all([startRegistry(), startRegistry({ user: USER, password: PASSWORD })]);
  const lib = writeTree(tempDir(), LIB);
  await pushPackage(new RegistryClient(open.host), 'lib/labels', '0.1.0', lib);
  await pushPackage(new RegistryClient(locked.host, { credentials: { username: USER, password: PASSWORD } }), 'lib/labels', '0.1.0', lib);
});
test.after.always(async () => {
  await open?.close();
  await locked?.close();
});

/** A KCL package importing `labels` from `host` at `tag`, rendering ConfigMap `name`. */
function app(host: string, tag: string, name = 'from-dep', extra: Record<string, string> = {}): Record<string, string> {
  return {
    'kcl.mod': `[package]\nname = "app"\nversion = "0.0.1"\n\n[dependencies]\nlabels = { oci = "oci://${host}/lib/labels", tag = "${tag}" }\n`,
    'main.k': `import labels\n\nitems = [{apiVersion = "v1", kind = "ConfigMap", metadata.name = "${name}", data.team = labels.team}]\n`,
    ...extra,
  };
}

const rev = (c: string) => `main@sha1:${c.repeat(40)}`;
const readyMessage = (k: KCLRun | undefined) => condition(k, 'Ready')?.message ?? '';

function dockerConfigSecret(name: string, host: string, password = PASSWORD): object {
  const auth = Buffer.from(`${USER}:${password}`).toString('base64');
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name },
    type: 'kubernetes.io/dockerconfigjson',
    stringData: { '.dockerconfigjson': JSON.stringify({ auths: { [host]: { auth } } }) },
  };
}

test.serial('a dependency from the registry is fetched into the namespace cache and applied; a failed one applies and prunes nothing', async (t) => {
  const { cp } = suite();
  const ns = await newNamespace(cp, 'deps');
  const v1 = await gitSource(cp, ns, 'app', app(open.host, '0.1.0'), rev('1'));
  await createKCLRun(cp, ns, 'app', { sourceRef: gitRef('app'), retryInterval: '1s' });
  await waitKCLRun(cp, ns, 'app', readyAt(v1.revision));
  t.deepEqual((await getObject(cp, `/api/v1/namespaces/${ns}/configmaps/from-dep`))?.data, { team: 'platform' });
  t.true(existsSync(join(cache, ns, 'labels_0.1.0', 'kcl.mod')), 'cached in the namespace directory, kpm layout');
  t.deepEqual(readdirSync(cache).filter((d) => !d.startsWith('.')), [ns], 'nothing at the top of the cache but namespace directories');
  t.false(existsSync(join(cache, ns, 'labels_0.1.0', 'kcl.mod.lock')), 'no lock written');

  // An unknown tag: BuildFailed naming the dependency and the registry's answer; the ConfigMap stays.
  await setArtifact(cp, ns, 'app', app(open.host, '9.9.9', 'other'), rev('2'));
  const unknown = await waitKCLRun(cp, ns, 'app', failedWith('BuildFailed'));
  t.regex(readyMessage(unknown), new RegExp(`^KCL build failed: kcl\\.mod: dependency "labels": oci://${open.host}/lib/labels:9\\.9\\.9: .*404`));
  t.is(unknown.status?.lastAppliedRevision, v1.revision);
  t.truthy(await getObject(cp, `/api/v1/namespaces/${ns}/configmaps/from-dep`), 'nothing pruned');
  t.is(await getObject(cp, `/api/v1/namespaces/${ns}/configmaps/other`), undefined, 'nothing applied');

  // A kcl.mod.lock whose sum the package does not match: BuildFailed naming the dependency, expected and found.
  const wrongSum = 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=';
  const lock = `[dependencies]\n  [dependencies.labels]\n    name = "labels"\n    full_name = "labels_0.1.0"\n    version = "0.1.0"\n    sum = "${wrongSum}"\n    reg = "${open.host}"\n    repo = "lib/labels"\n    oci_tag = "0.1.0"\n`;
  await setArtifact(cp, ns, 'app', app(open.host, '0.1.0', 'other', { 'kcl.mod.lock': lock }), rev('3'));
  const tampered = await waitKCLRun(cp, ns, 'app', (k) => failedWith('BuildFailed')(k) && k.status?.lastAttemptedRevision === rev('3'));
  t.regex(readyMessage(tampered), new RegExp(`^KCL build failed: kcl\\.mod: dependency "labels": checksum mismatch .*expected ${wrongSum.replace(/\+/g, '\\+')}, found `));
  t.truthy(await getObject(cp, `/api/v1/namespaces/${ns}/configmaps/from-dep`), 'nothing pruned');
  t.is(await getObject(cp, `/api/v1/namespaces/${ns}/configmaps/other`), undefined, 'nothing applied');
  await deleteKCLRuns(cp, ns, ['app']);
});

test.serial('a registry behind auth (source: a real GitRepository): 401 without registrySecretRef; a missing or non-dockerconfigjson Secret is BuildFailed; the Secret given → applied', async (t) => {
  const { cp } = suite();
  const ns = await newNamespace(cp, 'auth');
  // The KCL package is committed to a Git server and source-controller makes the artifact.
  const [git, sc] = await Promise.all([startGitServer(), startSourceController(cp)]);
  t.teardown(async () => {
    await sc.stop();
    await git.close();
  });
  const commit = await git.createRepo(`${ns}-app`, app(locked.host, '0.1.0'));
  await createObject(cp, `/apis/source.toolkit.fluxcd.io/v1/namespaces/${ns}/gitrepositories`, {
    apiVersion: 'source.toolkit.fluxcd.io/v1',
    kind: 'GitRepository',
    metadata: { name: 'app' },
    spec: { url: git.repoUrl(`${ns}-app`), interval: '10m', ref: { branch: 'main' } },
  });
  const src = { revision: `main@sha1:${commit}` };

  await createKCLRun(cp, ns, 'anon', { sourceRef: gitRef('app'), retryInterval: '1s' });
  const anon = await waitKCLRun(cp, ns, 'anon', failedWith('BuildFailed'));
  t.regex(readyMessage(anon), new RegExp(`^KCL build failed: kcl\\.mod: dependency "labels": oci://${locked.host}/lib/labels:0\\.1\\.0: .*401`));
  t.is(await getObject(cp, `/api/v1/namespaces/${ns}/configmaps/from-dep`), undefined, 'nothing applied');

  await createObject(cp, `/api/v1/namespaces/${ns}/secrets`, { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'opaque' }, stringData: { '.dockerconfigjson': '{"auths":{}}' } });
  await createKCLRun(cp, ns, 'opaque', { sourceRef: gitRef('app'), registrySecretRef: { name: 'opaque' } });
  const opaque = await waitKCLRun(cp, ns, 'opaque', failedWith('BuildFailed'));
  t.is(readyMessage(opaque), `registry Secret '${ns}/opaque' has type 'Opaque', expected 'kubernetes.io/dockerconfigjson'`);

  // Wrong password: refused by the registry, and the password is in no message.
  await createObject(cp, `/api/v1/namespaces/${ns}/secrets`, dockerConfigSecret('wrong', locked.host, 'not-the-password'));
  await createKCLRun(cp, ns, 'wrong', { sourceRef: gitRef('app'), registrySecretRef: { name: 'wrong' } });
  const wrong = await waitKCLRun(cp, ns, 'wrong', failedWith('BuildFailed'));
  t.regex(readyMessage(wrong), /dependency "labels": .*the credentials were refused: 401/);
  t.false(readyMessage(wrong).includes('not-the-password'));

  // The Secret is missing at first (retried at retryInterval), then created: applied.
  await createKCLRun(cp, ns, 'authed', { sourceRef: gitRef('app'), registrySecretRef: { name: 'creds' }, retryInterval: '1s' });
  const missing = await waitKCLRun(cp, ns, 'authed', failedWith('BuildFailed'));
  t.is(readyMessage(missing), `registry Secret '${ns}/creds': not found`);
  await createObject(cp, `/api/v1/namespaces/${ns}/secrets`, dockerConfigSecret('creds', locked.host));
  await waitKCLRun(cp, ns, 'authed', readyAt(src.revision));
  t.deepEqual((await getObject(cp, `/api/v1/namespaces/${ns}/configmaps/from-dep`))?.data, { team: 'platform' });

  // Another namespace without credentials does not get the package this namespace fetched with them.
  const other = await newNamespace(cp, 'nocreds');
  await createKCLRun(cp, other, 'app', { sourceRef: gitRef('app', ns) });
  const elsewhere = await waitKCLRun(cp, other, 'app', failedWith('BuildFailed'));
  t.regex(readyMessage(elsewhere), /dependency "labels": .*401/);
  t.is(await getObject(cp, `/api/v1/namespaces/${other}/configmaps/from-dep`), undefined);
  await deleteKCLRuns(cp, other, ['app']);
  await deleteKCLRuns(cp, ns, ['anon', 'opaque', 'wrong', 'authed']);
});

test.serial("registrySecretRef cannot name another namespace's Secret: no namespace field, and a path-like name is refused", async (t) => {
  const { cp } = suite();
  const ns = await newNamespace(cp, 'xns');
  const theirs = await newNamespace(cp, 'theirs');
  await createObject(cp, `/api/v1/namespaces/${theirs}/secrets`, dockerConfigSecret('creds', locked.host));
  await gitSource(cp, ns, 'app', app(locked.host, '0.1.0'), rev('6'));
  const path = `/apis/krm.kcl.dev.fluxcd/v1alpha1/namespaces/${ns}/kclruns`;
  const body = (name: string, registrySecretRef: object) => ({ apiVersion: 'krm.kcl.dev.fluxcd/v1alpha1', kind: 'KCLRun', metadata: { name }, spec: { sourceRef: gitRef('app'), registrySecretRef } });

  const traversal = await cp.request('POST', path, { body: body('traversal', { name: `../${theirs}/creds` }) });
  t.is(traversal.status, 422, traversal.text);
  t.regex(traversal.text, /spec\.registrySecretRef\.name/);

  // A namespace field is not part of the schema: the API server drops it, and the Secret is looked up in ns.
  const created = await cp.request('POST', path, { body: body('pruned', { name: 'creds', namespace: theirs }) });
  t.true(created.ok, created.text);
  t.deepEqual((await getKCLRun(cp, ns, 'pruned'))?.spec.registrySecretRef, { name: 'creds' });
  const k = await waitKCLRun(cp, ns, 'pruned', failedWith('BuildFailed'));
  t.is(readyMessage(k), `registry Secret '${ns}/creds': not found`);
  await deleteKCLRuns(cp, ns, ['pruned']);
});
