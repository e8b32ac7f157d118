/**
 * `deletionPolicy` (kustomize-controller v1 semantics): MirrorPrune follows `prune`, Delete deletes even with
 * prune off, Orphan keeps the objects even with prune on, and WaitForTermination keeps the KCLRun (and its
 * finalizer) until the deleted objects are gone — or until the timeout, after which it warns and lets go. An object
 * held by a finalizer of its own stands in for a slow garbage collection.
 */
import test from 'ava';
import { newNamespace } from '../harness/ava.js';
import type { ControlPlane } from '../harness/control-plane.js';
import { waitFor } from '../harness/processes.js';
import type { KCLRunSpec } from '../../controller/api/types.js';
import { configMapsPackage, createKCLRun, getKCLRun, getObject, gitRef, gitSource, kclPackage, listEvents, readyAt, useController, waitKCLRun } from './suite.js';

const suite = useController(test);
const HOLD = 'kclrun.test/hold';

async function deleteAndWaitGone(cp: ControlPlane, ns: string, name: string): Promise<void> {
  const del = await cp.request('DELETE', `/apis/krm.kcl.dev.fluxcd/v1alpha1/namespaces/${ns}/kclruns/${name}`);
  if (!del.ok) throw new Error(`delete KCLRun: HTTP ${del.status}`);
  await waitFor(async () => !(await getKCLRun(cp, ns, name)), { timeoutMs: 30_000, what: `KCLRun ${ns}/${name} gone` });
}

async function release(cp: ControlPlane, ns: string, name: string): Promise<void> {
  const res = await cp.request('PATCH', `/api/v1/namespaces/${ns}/configmaps/${name}`, {
    body: { metadata: { finalizers: null } },
    contentType: 'application/merge-patch+json',
  });
  if (!res.ok && res.status !== 404) throw new Error(`release ${name}: HTTP ${res.status}`);
}

async function applyOne(cp: ControlPlane, ns: string, spec: Omit<KCLRunSpec, 'sourceRef'>, pkg = configMapsPackage({ owned: { v: '1' } })) {
  const art = await gitSource(cp, ns, 'repo', pkg, 'main@sha1:abababababababababababababababababababab');
  await createKCLRun(cp, ns, 'app', { sourceRef: gitRef('repo'), ...spec });
  await waitKCLRun(cp, ns, 'app', readyAt(art.revision));
}

const cm = (ns: string, name: string) => getObject(cp(), `/api/v1/namespaces/${ns}/configmaps/${name}`);
const cp = () => suite().cp;

test('MirrorPrune (the default) follows prune: prune off keeps the objects', async (t) => {
  const ns = await newNamespace(cp(), 'mirror');
  await applyOne(cp(), ns, { prune: false });
  await deleteAndWaitGone(cp(), ns, 'app');
  t.truthy(await cm(ns, 'owned'));
});

test('Delete deletes the objects even with prune off', async (t) => {
  const ns = await newNamespace(cp(), 'delete');
  await applyOne(cp(), ns, { prune: false, deletionPolicy: 'Delete' });
  await deleteAndWaitGone(cp(), ns, 'app');
  t.is(await cm(ns, 'owned'), undefined);
});

test('Orphan keeps the objects even with prune on', async (t) => {
  const ns = await newNamespace(cp(), 'orphan');
  await applyOne(cp(), ns, { prune: true, deletionPolicy: 'Orphan' });
  await deleteAndWaitGone(cp(), ns, 'app');
  t.deepEqual((await cm(ns, 'owned'))?.data, { v: '1' });
});

const held = kclPackage(`items = [{apiVersion = "v1", kind = "ConfigMap", metadata = {name = "held", finalizers = ["${HOLD}"]}, data.v = "1"}]\n`);

test('WaitForTermination keeps the KCLRun until its objects are gone; Delete does not wait', async (t) => {
  const ns = await newNamespace(cp(), 'wait');
  await applyOne(cp(), ns, { deletionPolicy: 'WaitForTermination', timeout: '2m' }, held);
  const del = await cp().request('DELETE', `/apis/krm.kcl.dev.fluxcd/v1alpha1/namespaces/${ns}/kclruns/app`);
  t.true(del.ok);
  // The object was deleted (it is terminating, held by its finalizer) while the KCLRun waits for it.
  await waitFor(async () => !!(await cm(ns, 'held'))?.metadata.deletionTimestamp, { timeoutMs: 30_000, what: 'held ConfigMap terminating' });
  await new Promise((r) => setTimeout(r, 1500));
  const waiting = await getKCLRun(cp(), ns, 'app');
  t.truthy(waiting?.metadata.deletionTimestamp, 'the KCLRun is still there while its object terminates');
  await release(cp(), ns, 'held');
  await waitFor(async () => !(await getKCLRun(cp(), ns, 'app')), { timeoutMs: 30_000, what: 'KCLRun gone after its object' });
  t.is(await cm(ns, 'held'), undefined);

  // Control: with Delete, the KCLRun goes at once although the object is still terminating.
  const ns2 = await newNamespace(cp(), 'nowait');
  await applyOne(cp(), ns2, { deletionPolicy: 'Delete', timeout: '2m' }, held);
  await deleteAndWaitGone(cp(), ns2, 'app');
  t.truthy((await cm(ns2, 'held'))?.metadata.deletionTimestamp);
  await release(cp(), ns2, 'held');
});

test('WaitForTermination gives up after the timeout with a Warning and releases the KCLRun', async (t) => {
  const ns = await newNamespace(cp(), 'waittimeout');
  await applyOne(cp(), ns, { deletionPolicy: 'WaitForTermination', timeout: '2s' }, held);
  await deleteAndWaitGone(cp(), ns, 'app');
  t.truthy((await cm(ns, 'held'))?.metadata.deletionTimestamp);
  const events = await listEvents(cp(), ns, 'app');
  t.true(events.some((e) => e.type === 'Warning' && /failed to wait for resources termination: ConfigMap\/.*held was not deleted within 2000ms/.test(e.message)), JSON.stringify(events));
  await release(cp(), ns, 'held');
});
