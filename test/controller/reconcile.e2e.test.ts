/**
 * The core reconcile loop against a real API server: create → Ready with objects applied; a new artifact revision
 * updates them within seconds; an object removed from the KCL is pruned; a broken KCL program fails the build with
 * file and line and leaves the cluster as it was; deleting the KCLRun prunes what it applied.
 */
import test from 'ava';
import { newNamespace } from '../harness/ava.js';
import {
  condition,
  configMapsPackage,
  createKCLRun,
  failedWith,
  getKCLRun,
  getObject,
  gitSource,
  readyAt,
  setArtifact,
  useController,
  waitKCLRun,
} from './suite.js';

const suite = useController(test);
const sourceRef = (name: string) => ({ kind: 'GitRepository' as const, name });

test('a KCLRun whose spec holds only sourceRef becomes Ready and applies what the KCL renders', async (t) => {
  const { cp } = suite();
  const ns = await newNamespace(cp, 'create');
  const art = await gitSource(cp, ns, 'repo', configMapsPackage({ one: { a: '1' }, two: { b: '2' } }), 'main@sha1:1111111111111111111111111111111111111111');
  await createKCLRun(cp, ns, 'app', { sourceRef: sourceRef('repo') });
  const k = await waitKCLRun(cp, ns, 'app', readyAt(art.revision));
  const ready = condition(k, 'Ready')!;
  t.is(ready.reason, 'ReconciliationSucceeded');
  t.is(ready.message, `Applied revision: ${art.revision}`);
  t.is(k.status?.observedGeneration, k.metadata.generation);
  t.is(condition(k, 'Reconciling'), undefined);
  t.deepEqual(
    k.status?.inventory?.entries.map((e) => e.id),
    [`${ns}_one__ConfigMap`, `${ns}_two__ConfigMap`],
  );
  const one = await getObject(cp, `/api/v1/namespaces/${ns}/configmaps/one`);
  t.deepEqual(one?.data, { a: '1' });
  t.is(one?.metadata.labels['krm.kcl.dev.fluxcd/name'], 'app');
  t.is(one?.metadata.labels['krm.kcl.dev.fluxcd/namespace'], ns);
  t.true(one?.metadata.managedFields.some((f: { manager: string; operation: string }) => f.manager === 'kclrun' && f.operation === 'Apply'));
  t.deepEqual(k.metadata.finalizers, ['finalizers.krm.kcl.dev.fluxcd']);
  // The defaults are documented in the CRD and visible on the object.
  t.is(k.spec.interval, '10m');
  t.is(k.spec.prune, true);
});

test('a new artifact revision updates objects; removed objects are pruned', async (t) => {
  const { cp } = suite();
  const ns = await newNamespace(cp, 'update');
  const a1 = await gitSource(cp, ns, 'repo', configMapsPackage({ keep: { v: '1' }, drop: { v: '1' } }), 'main@sha1:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa');
  await createKCLRun(cp, ns, 'app', { sourceRef: sourceRef('repo') });
  await waitKCLRun(cp, ns, 'app', readyAt(a1.revision));

  const changedAt = Date.now();
  const a2 = await setArtifact(cp, ns, 'repo', configMapsPackage({ keep: { v: '2' } }), 'main@sha1:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb');
  const k = await waitKCLRun(cp, ns, 'app', readyAt(a2.revision), 15_000);
  t.log(`revision change → applied in ${Date.now() - changedAt} ms`);
  t.is((await getObject(cp, `/api/v1/namespaces/${ns}/configmaps/keep`))?.data.v, '2');
  t.is(await getObject(cp, `/api/v1/namespaces/${ns}/configmaps/drop`), undefined);
  t.deepEqual(k.status?.inventory?.entries.map((e) => e.id), [`${ns}_keep__ConfigMap`]);
  t.is(k.status?.lastAttemptedRevision, a2.revision);
});

test('a broken KCL program fails the build with file and line, and applies and prunes nothing', async (t) => {
  const { cp } = suite();
  const ns = await newNamespace(cp, 'broken');
  const good = await gitSource(cp, ns, 'repo', configMapsPackage({ first: { v: '1' } }), 'main@sha1:cccccccccccccccccccccccccccccccccccccccc');
  await createKCLRun(cp, ns, 'app', { sourceRef: sourceRef('repo') });
  await waitKCLRun(cp, ns, 'app', readyAt(good.revision));

  const bad = await setArtifact(cp, ns, 'repo', {
    'kcl.mod': '[package]\nname = "test"\nversion = "0.0.1"\n',
    'main.k': 'schema Port:\n    port: int\n    check:\n        1 <= port <= 65535, "port out of range"\n\nitems = [Port {port = 70000}]\n',
  }, 'main@sha1:dddddddddddddddddddddddddddddddddddddddd');
  const k = await waitKCLRun(cp, ns, 'app', failedWith('BuildFailed'));
  const ready = condition(k, 'Ready')!;
  t.regex(ready.message, /main\.k:6/);
  t.regex(ready.message, /port out of range/);
  t.is(k.status?.lastAttemptedRevision, bad.revision);
  t.is(k.status?.lastAppliedRevision, good.revision);
  t.is(condition(k, 'Reconciling')?.reason, 'ProgressingWithRetry');
  // Nothing was pruned or changed.
  t.deepEqual((await getObject(cp, `/api/v1/namespaces/${ns}/configmaps/first`))?.data, { v: '1' });
  t.deepEqual(k.status?.inventory?.entries.map((e) => e.id), [`${ns}_first__ConfigMap`]);
  const events = await getObject<{ items: Array<{ reason: string; type: string; message: string }> }>(cp, `/api/v1/namespaces/${ns}/events`);
  t.true(events?.items.some((e) => e.type === 'Warning' && e.reason === 'BuildFailed' && /main\.k:6/.test(e.message)));
});

test('deleting a KCLRun prunes what it applied (and only that)', async (t) => {
  const { cp } = suite();
  const ns = await newNamespace(cp, 'delete');
  const art = await gitSource(cp, ns, 'repo', configMapsPackage({ owned: { v: '1' } }), 'main@sha1:eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee');
  await cp.request('POST', `/api/v1/namespaces/${ns}/configmaps`, { body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'bystander' }, data: { v: 'x' } } });
  await createKCLRun(cp, ns, 'app', { sourceRef: sourceRef('repo') });
  await waitKCLRun(cp, ns, 'app', readyAt(art.revision));
  const del = await cp.request('DELETE', `/apis/krm.kcl.dev.fluxcd/v1alpha1/namespaces/${ns}/kclruns/app`);
  t.true(del.ok);
  const deadline = Date.now() + 15_000;
  while ((await getKCLRun(cp, ns, 'app')) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  t.is(await getKCLRun(cp, ns, 'app'), undefined);
  t.is(await getObject(cp, `/api/v1/namespaces/${ns}/configmaps/owned`), undefined);
  t.truthy(await getObject(cp, `/api/v1/namespaces/${ns}/configmaps/bystander`));
});
