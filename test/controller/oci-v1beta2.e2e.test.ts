/**
 * A cluster whose Flux predates 2.6 serves OCIRepository at `source.toolkit.fluxcd.io/v1beta2` only. The controller
 * finds that by discovery (nothing is configured): a KCLRun on an OCIRepository becomes Ready, a new artifact
 * revision is picked up at once through the v1beta2 watch, an explicit v1beta2 `sourceRef.apiVersion` works, and
 * a version kclrun does not read stalls the KCLRun.
 */
import test from 'ava';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { newNamespace } from '../harness/ava.js';
import { patchSourceArtifact, serveArtifact } from '../harness/artifact-server.js';
import { startControlPlane, type ControlPlane } from '../harness/control-plane.js';
import { installFluxSourceCRDs } from '../harness/flux-crds.js';
import { serverSideApply } from '../harness/kube-request.js';
import { waitFor } from '../harness/processes.js';
import { sourceControllerCrdDir } from '../harness/tools.js';
import { silentLogger } from '../../controller/log.js';
import { runController, type RunningController } from '../../controller/run.js';
import { condition, configMapsPackage, createKCLRun, createObject, getObject, installKCLRunCRD, readyAt, TEST_CONTROLLER_OPTIONS, waitKCLRun } from './suite.js';

const V1BETA2 = 'source.toolkit.fluxcd.io/v1beta2';
let cp: ControlPlane | undefined;
let controller: RunningController | undefined;

/** The pinned OCIRepository CRD, served at v1beta2 only (as Flux < 2.6 did). */
function v1beta2OnlyCRD(): Record<string, any> {
  const crd = parseYaml(readFileSync(join(sourceControllerCrdDir(), 'source.toolkit.fluxcd.io_ocirepositories.yaml'), 'utf8'));
  crd.spec.versions = [{ ...crd.spec.versions.find((v: { name: string }) => v.name === 'v1'), name: 'v1beta2', served: true, storage: true }];
  return crd;
}

test.before('control plane with OCIRepository at v1beta2 only, then the controller', async (t) => {
  t.timeout(180_000);
  cp = await startControlPlane();
  await installFluxSourceCRDs(cp, { kinds: ['GitRepository', 'Bucket'] });
  const crd = v1beta2OnlyCRD();
  await serverSideApply(cp.admin, `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${crd.metadata.name}`, crd, { fieldManager: 'kclrun-test' });
  await waitFor(async () => (await cp!.request('GET', `/apis/${V1BETA2}/ocirepositories`)).ok, { timeoutMs: 30_000, what: 'OCIRepository v1beta2 served' });
  await installKCLRunCRD(cp);
  controller = await runController({ ...TEST_CONTROLLER_OPTIONS, kubeconfig: cp.kubeconfigPath, logger: silentLogger });
});

test.after.always('stop', async () => {
  await controller?.stop();
  await cp?.stop();
});

async function ociSource(ns: string, name: string, revision: string, data: string): Promise<void> {
  const art = await serveArtifact(configMapsPackage({ cm: { v: data } }), { kind: 'OCIRepository', namespace: ns, name, revision });
  await patchSourceArtifact(cp!, 'OCIRepository', ns, name, art, V1BETA2);
}

test('an OCIRepository served only at v1beta2 is discovered, read and watched', async (t) => {
  const ns = await newNamespace(cp!, 'ocibeta');
  t.is((await cp!.request('GET', '/apis/source.toolkit.fluxcd.io/v1/ocirepositories')).status, 404, 'v1 is not served');
  await createObject(cp!, `/apis/${V1BETA2}/namespaces/${ns}/ocirepositories`, {
    apiVersion: V1BETA2, kind: 'OCIRepository', metadata: { name: 'app' }, spec: { interval: '10m', url: 'oci://127.0.0.1:5000/app', ref: { tag: 'latest' } },
  });
  const rev1 = 'latest@sha256:1111111111111111111111111111111111111111111111111111111111111111';
  await ociSource(ns, 'app', rev1, 'one');
  await createKCLRun(cp!, ns, 'app', { sourceRef: { kind: 'OCIRepository', name: 'app' } });
  await waitKCLRun(cp!, ns, 'app', readyAt(rev1));
  t.deepEqual((await getObject(cp!, `/api/v1/namespaces/${ns}/configmaps/cm`))?.data, { v: 'one' });

  // A new revision arrives through the v1beta2 watch (the interval is 10m).
  const rev2 = 'latest@sha256:2222222222222222222222222222222222222222222222222222222222222222';
  await ociSource(ns, 'app', rev2, 'two');
  await waitKCLRun(cp!, ns, 'app', readyAt(rev2));
  t.deepEqual((await getObject(cp!, `/api/v1/namespaces/${ns}/configmaps/cm`))?.data, { v: 'two' });

  // Explicit apiVersions: v1beta2 is read; a version kclrun does not read stalls.
  await createKCLRun(cp!, ns, 'explicit', { sourceRef: { apiVersion: V1BETA2, kind: 'OCIRepository', name: 'app' } });
  await waitKCLRun(cp!, ns, 'explicit', readyAt(rev2));
  await createKCLRun(cp!, ns, 'old', { sourceRef: { apiVersion: 'source.toolkit.fluxcd.io/v1beta1', kind: 'OCIRepository', name: 'app' } });
  const k = await waitKCLRun(cp!, ns, 'old', (k) => condition(k, 'Stalled')?.status === 'True');
  t.is(condition(k, 'Ready')?.reason, 'ArtifactFailed');
  t.regex(condition(k, 'Ready')!.message, /unsupported source API version source\.toolkit\.fluxcd\.io\/v1beta1 for OCIRepository: use source\.toolkit\.fluxcd\.io\/v1 or source\.toolkit\.fluxcd\.io\/v1beta2/);
});
