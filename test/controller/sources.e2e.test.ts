/**
 * Every source kind the CRD accepts works (OCIRepository and Bucket, not only GitRepository — flux-kcl-controller
 * rejects Bucket and speaks the removed OCIRepository v1beta2), and `kubeConfig.secretRef` applies with the
 * kubeconfig from the Secret, not the controller's own identity.
 */
import test from 'ava';
import { readFileSync } from 'node:fs';
import { newNamespace } from '../harness/ava.js';
import { patchSourceArtifact, serveArtifact } from '../harness/artifact-server.js';
import { condition, configMapsPackage, createKCLRun, failedWith, getObject, readyAt, useController, waitKCLRun } from './suite.js';

const suite = useController(test);

for (const [kind, plural, spec, revision] of [
  ['OCIRepository', 'ocirepositories', { interval: '10m', url: 'oci://127.0.0.1:5000/app', ref: { tag: 'latest' } }, 'latest@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef'],
  ['Bucket', 'buckets', { interval: '10m', bucketName: 'app', endpoint: '127.0.0.1:9000' }, 'sha256:fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210'],
] as const) {
  test(`a KCLRun following a ${kind} becomes Ready with its revision`, async (t) => {
    const { cp } = suite();
    const ns = await newNamespace(cp, kind.toLowerCase());
    const created = await cp.request('POST', `/apis/source.toolkit.fluxcd.io/v1/namespaces/${ns}/${plural}`, {
      body: { apiVersion: 'source.toolkit.fluxcd.io/v1', kind, metadata: { name: 'src', namespace: ns }, spec },
    });
    t.true(created.ok, created.text);
    const artifact = await serveArtifact(configMapsPackage({ [`from-${kind.toLowerCase()}`]: { v: '1' } }), { kind, namespace: ns, name: 'src', revision });
    await patchSourceArtifact(cp, kind, ns, 'src', artifact);
    await createKCLRun(cp, ns, 'app', { sourceRef: { kind, name: 'src' } });
    const k = await waitKCLRun(cp, ns, 'app', readyAt(revision));
    t.is(condition(k, 'Ready')?.message, `Applied revision: ${revision}`);
    t.truthy(await getObject(cp, `/api/v1/namespaces/${ns}/configmaps/from-${kind.toLowerCase()}`));
  });
}

test('kubeConfig.secretRef: objects are applied with the Secret kubeconfig identity (here an unprivileged user)', async (t) => {
  const { cp } = suite();
  const ns = await newNamespace(cp, 'remote');
  const kubeconfig = readFileSync(await cp.userKubeconfig('remote-deployer'), 'utf8');
  const secret = await cp.request('POST', `/api/v1/namespaces/${ns}/secrets`, {
    body: { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'remote' }, stringData: { value: kubeconfig } },
  });
  t.true(secret.ok, secret.text);
  const artifact = await serveArtifact(configMapsPackage({ remote: { v: '1' } }), { kind: 'GitRepository', namespace: ns, name: 'repo', revision: 'main@sha1:abababababababababababababababababababab' });
  await cp.request('POST', `/apis/source.toolkit.fluxcd.io/v1/namespaces/${ns}/gitrepositories`, {
    body: { apiVersion: 'source.toolkit.fluxcd.io/v1', kind: 'GitRepository', metadata: { name: 'repo', namespace: ns }, spec: { interval: '10m', url: 'http://127.0.0.1/x.git' } },
  });
  await patchSourceArtifact(cp, 'GitRepository', ns, 'repo', artifact);
  await createKCLRun(cp, ns, 'app', { sourceRef: { kind: 'GitRepository', name: 'repo' }, kubeConfig: { secretRef: { name: 'remote' } } });
  const k = await waitKCLRun(cp, ns, 'app', failedWith('ReconciliationFailed'));
  t.regex(condition(k, 'Ready')!.message, /User "remote-deployer" cannot/);
  t.is(await getObject(cp, `/api/v1/namespaces/${ns}/configmaps/remote`), undefined);
  // A missing Secret is named.
  await createKCLRun(cp, ns, 'missing', { sourceRef: { kind: 'GitRepository', name: 'repo' }, kubeConfig: { secretRef: { name: 'absent' } } });
  const m = await waitKCLRun(cp, ns, 'missing', failedWith('ReconciliationFailed'));
  t.is(condition(m, 'Ready')!.message, `kubeconfig Secret '${ns}/absent': not found`);
});
