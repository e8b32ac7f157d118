/**
 * Drift: an applied object changed by someone else is corrected at the next reconcile; objects annotated
 * `krm.kcl.dev.fluxcd/reconcile: disabled` in the KCL are not applied.
 */
import test from 'ava';
import { newNamespace } from '../harness/ava.js';
import { condition, createKCLRun, getKCLRun, getObject, gitRef, gitSource, kclPackage, readyAt, requestReconcile, useController, waitKCLRun } from './suite.js';

const suite = useController(test);

test('an object edited by someone else is corrected at the next reconcile', async (t) => {
  const { cp } = suite();
  const ns = await newNamespace(cp, 'drift');
  const art = await gitSource(cp, ns, 'repo', kclPackage(`items = [
    {apiVersion = "v1", kind = "ConfigMap", metadata.name = "settings", data = {mode = "safe", level = "3"}}
]
`), 'main@sha1:1111111111111111111111111111111111111111');
  await createKCLRun(cp, ns, 'app', { sourceRef: gitRef('repo') });
  await waitKCLRun(cp, ns, 'app', readyAt(art.revision));

  // kubectl edit: a full update (PUT) by another manager.
  const path = `/api/v1/namespaces/${ns}/configmaps/settings`;
  const live = await getObject(cp, path);
  live!.data = { mode: 'unsafe', level: '3', extra: 'added by hand' };
  const put = await cp.request('PUT', `${path}?fieldManager=kubectl-edit`, { body: live });
  t.true(put.ok, put.text);
  t.is((await getObject(cp, path))?.data.mode, 'unsafe');

  const at = await requestReconcile(cp, ns, 'app');
  const k = await waitKCLRun(cp, ns, 'app', (k) => k.status?.lastHandledReconcileAt === at && condition(k, 'Ready')?.status === 'True');
  t.is(condition(k, 'Ready')!.message, `Applied revision: ${art.revision}`);
  const fixed = await getObject(cp, path);
  // Fields kubectl added are taken over and removed: the object is again exactly what the KCL renders.
  t.deepEqual(fixed?.data, { mode: 'safe', level: '3' });
  t.false(fixed?.metadata.managedFields.some((f: { manager: string }) => f.manager === 'kubectl-edit'));
  const events = await cp.request<{ items: Array<{ reason: string; message: string }> }>('GET', `/api/v1/namespaces/${ns}/events`);
  t.true(events.body.items.some((e) => e.reason === 'Progressing' && e.message.includes(`ConfigMap/${ns}/settings configured`)), JSON.stringify(events.body.items.map((e) => e.message)));
});

test('objects annotated reconcile: disabled are not applied', async (t) => {
  const { cp } = suite();
  const ns = await newNamespace(cp, 'disabled');
  const art = await gitSource(cp, ns, 'repo', kclPackage(`items = [
    {apiVersion = "v1", kind = "ConfigMap", metadata.name = "managed", data.v = "1"}
    {apiVersion = "v1", kind = "ConfigMap", metadata = {name = "hands-off", annotations = {"krm.kcl.dev.fluxcd/reconcile" = "disabled"}}, data.v = "1"}
]
`), 'main@sha1:2222222222222222222222222222222222222222');
  await createKCLRun(cp, ns, 'app', { sourceRef: gitRef('repo') });
  const k = await waitKCLRun(cp, ns, 'app', readyAt(art.revision));
  t.truthy(await getObject(cp, `/api/v1/namespaces/${ns}/configmaps/managed`));
  t.is(await getObject(cp, `/api/v1/namespaces/${ns}/configmaps/hands-off`), undefined);
  t.deepEqual(k.status?.inventory?.entries.map((e) => e.id), [`${ns}_managed__ConfigMap`]);
  t.truthy(await getKCLRun(cp, ns, 'app'));
});

test('objects annotated ssa: Merge keep the fields other managers added', async (t) => {
  const { cp } = suite();
  const ns = await newNamespace(cp, 'merge');
  const art = await gitSource(cp, ns, 'repo', kclPackage(`items = [
    {apiVersion = "v1", kind = "ConfigMap", metadata = {name = "shared", annotations = {"krm.kcl.dev.fluxcd/ssa" = "Merge"}}, data.mode = "safe"}
]
`), 'main@sha1:3333333333333333333333333333333333333333');
  await createKCLRun(cp, ns, 'app', { sourceRef: gitRef('repo') });
  await waitKCLRun(cp, ns, 'app', readyAt(art.revision));
  const path = `/api/v1/namespaces/${ns}/configmaps/shared`;
  const live = await getObject(cp, path);
  live!.data = { mode: 'unsafe', extra: 'kept' };
  const put = await cp.request('PUT', `${path}?fieldManager=kubectl-edit`, { body: live });
  t.true(put.ok, put.text);
  const at = await requestReconcile(cp, ns, 'app');
  await waitKCLRun(cp, ns, 'app', (k) => k.status?.lastHandledReconcileAt === at && condition(k, 'Ready')?.status === 'True');
  t.deepEqual((await getObject(cp, path))?.data, { mode: 'safe', extra: 'kept' });
});
