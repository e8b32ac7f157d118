/**
 * Health: with `wait` every applied object must become ready within `timeout` (HealthCheckFailed and Healthy=False
 * naming the objects otherwise); `healthChecks` names objects to check; a `reconcile.fluxcd.io/requestedAt` request
 * re-runs the checks and is recorded in `status.lastHandledReconcileAt`. A running health check is cancelled by a
 * newer source revision (applied at once, with no verdict on the old one) and by the KCLRun's deletion.
 */
import test from 'ava';
import { newNamespace } from '../harness/ava.js';
import { waitFor } from '../harness/processes.js';
import {
  condition,
  createKCLRun,
  failedWith,
  getKCLRun,
  getObject,
  gitRef,
  gitSource,
  kclPackage,
  listEvents,
  readyAt,
  requestReconcile,
  setArtifact,
  useController,
  waitKCLRun,
} from './suite.js';
import type { KCLRun } from '../../controller/api/types.js';

const suite = useController(test);

const deployment = `{
        apiVersion = "apps/v1", kind = "Deployment", metadata.name = "web"
        spec = {
            replicas = 1
            selector.matchLabels.app = "web"
            template = {metadata.labels.app = "web", spec.containers = [{name = "web", image = "nginx:1.27"}]}
        }
    }`;

test('wait: a Deployment that never becomes available fails HealthCheckFailed; once available, a requested reconcile makes it Ready', async (t) => {
  const { cp } = suite();
  const ns = await newNamespace(cp, 'health');
  const art = await gitSource(cp, ns, 'repo', kclPackage(`items = [\n    ${deployment}\n    {apiVersion = "v1", kind = "ConfigMap", metadata.name = "cfg", data.v = "1"}\n]\n`), 'main@sha1:1111111111111111111111111111111111111111');
  const started = Date.now();
  await createKCLRun(cp, ns, 'app', { sourceRef: gitRef('repo'), wait: true, timeout: '3s' });
  const k = await waitKCLRun(cp, ns, 'app', failedWith('HealthCheckFailed'), 20_000);
  t.log(`HealthCheckFailed after ${Date.now() - started} ms`);
  const ready = condition(k, 'Ready')!;
  t.regex(ready.message, /^health check failed after 3s: timeout waiting for: \[/);
  t.true(ready.message.includes(`Deployment/${ns}/web status: 'InProgress'`), ready.message);
  t.false(ready.message.includes('ConfigMap'), ready.message);
  const healthy = condition(k, 'Healthy')!;
  t.is(healthy.status, 'False');
  t.is(healthy.reason, 'HealthCheckFailed');
  t.true(healthy.message.includes(`Deployment/${ns}/web`), healthy.message);
  // Applied (health is checked after apply), but not the last applied revision.
  t.truthy(await getObject(cp, `/apis/apps/v1/namespaces/${ns}/deployments/web`));
  t.is(k.status?.lastAppliedRevision, undefined);
  t.is(k.status?.lastAttemptedRevision, art.revision);

  // Play the controller-manager: mark the Deployment available.
  const path = `/apis/apps/v1/namespaces/${ns}/deployments/web`;
  const live = await getObject(cp, path);
  const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  const st = await cp.request('PATCH', `${path}/status`, {
    contentType: 'application/merge-patch+json',
    body: {
      status: {
        observedGeneration: live!.metadata.generation,
        replicas: 1, updatedReplicas: 1, readyReplicas: 1, availableReplicas: 1,
        conditions: [
          { type: 'Available', status: 'True', reason: 'MinimumReplicasAvailable', message: 'ok', lastUpdateTime: now, lastTransitionTime: now },
          { type: 'Progressing', status: 'True', reason: 'NewReplicaSetAvailable', message: 'ok', lastUpdateTime: now, lastTransitionTime: now },
        ],
      },
    },
  });
  t.true(st.ok, st.text);
  const at = await requestReconcile(cp, ns, 'app');
  const done = await waitKCLRun(cp, ns, 'app', (k) => readyAt(art.revision)(k) && k.status?.lastHandledReconcileAt === at, 20_000);
  t.is(done.status?.lastHandledReconcileAt, at);
  t.is(condition(done, 'Healthy')?.status, 'True');
  t.is(condition(done, 'Healthy')?.reason, 'Succeeded');
});

test('healthChecks naming a ConfigMap: Healthy=True', async (t) => {
  const { cp } = suite();
  const ns = await newNamespace(cp, 'checks');
  const art = await gitSource(cp, ns, 'repo', kclPackage(`items = [{apiVersion = "v1", kind = "ConfigMap", metadata.name = "cfg", data.v = "1"}]\n`), 'main@sha1:2222222222222222222222222222222222222222');
  await createKCLRun(cp, ns, 'app', { sourceRef: gitRef('repo'), timeout: '5s', healthChecks: [{ kind: 'ConfigMap', name: 'cfg' }] });
  const k = await waitKCLRun(cp, ns, 'app', readyAt(art.revision));
  t.is(condition(k, 'Healthy')?.status, 'True');
  t.is(condition(k, 'Healthy')?.message, 'Health check passed');
});

test('healthChecks naming an object that does not exist: HealthCheckFailed naming it', async (t) => {
  const { cp } = suite();
  const ns = await newNamespace(cp, 'missing');
  await gitSource(cp, ns, 'repo', kclPackage(`items = [{apiVersion = "v1", kind = "ConfigMap", metadata.name = "cfg", data.v = "1"}]\n`), 'main@sha1:3333333333333333333333333333333333333333');
  await createKCLRun(cp, ns, 'app', { sourceRef: gitRef('repo'), timeout: '2s', healthChecks: [{ kind: 'ConfigMap', name: 'elsewhere' }] });
  const k = await waitKCLRun(cp, ns, 'app', failedWith('HealthCheckFailed'));
  t.true(condition(k, 'Ready')!.message.includes(`ConfigMap/${ns}/elsewhere status: 'NotFound'`), condition(k, 'Ready')!.message);
});

const configMap = (name: string) => `{apiVersion = "v1", kind = "ConfigMap", metadata.name = "${name}", data.v = "1"}`;
/** The KCLRun is waiting in its health checks for `revision`. */
const checkingHealth = (revision: string) => (k: KCLRun) => !!condition(k, 'Ready')?.message.startsWith(`Running health checks for revision ${revision}`);

test('a newer source revision cancels a running health check: it is applied at once, and the old one gets no verdict', async (t) => {
  const { cp } = suite();
  const ns = await newNamespace(cp, 'newrev');
  // r1 waits for a ConfigMap "gate" that nothing creates, for up to 5 minutes; r2 renders the gate itself.
  const r1 = await gitSource(cp, ns, 'repo', kclPackage(`items = [${configMap('one')}]\n`), 'main@sha1:4444444444444444444444444444444444444444');
  await createKCLRun(cp, ns, 'app', { sourceRef: gitRef('repo'), timeout: '5m', healthChecks: [{ kind: 'ConfigMap', name: 'gate' }] });
  await waitKCLRun(cp, ns, 'app', checkingHealth(r1.revision));
  const r2 = await setArtifact(cp, ns, 'repo', kclPackage(`items = [${configMap('one')}, ${configMap('gate')}]\n`), 'main@sha1:5555555555555555555555555555555555555555');
  // Without the cancellation r2 would wait behind r1's five-minute health check.
  const k = await waitKCLRun(cp, ns, 'app', readyAt(r2.revision), 30_000);
  t.is(condition(k, 'Healthy')?.status, 'True');
  t.is(k.status?.lastAttemptedRevision, r2.revision);
  t.deepEqual((await listEvents(cp, ns, 'app')).filter((e) => e.type === 'Warning'), [], 'no failure was reported for r1');
  t.truthy(await getObject(cp, `/api/v1/namespaces/${ns}/configmaps/gate`));
});

test('deleting a KCLRun cancels its running health check: it is finalized at once and what it applied is pruned', async (t) => {
  const { cp } = suite();
  const ns = await newNamespace(cp, 'delwait');
  const r1 = await gitSource(cp, ns, 'repo', kclPackage(`items = [${configMap('one')}]\n`), 'main@sha1:6666666666666666666666666666666666666666');
  await createKCLRun(cp, ns, 'app', { sourceRef: gitRef('repo'), timeout: '5m', healthChecks: [{ kind: 'ConfigMap', name: 'gate' }] });
  await waitKCLRun(cp, ns, 'app', checkingHealth(r1.revision));
  t.truthy(await getObject(cp, `/api/v1/namespaces/${ns}/configmaps/one`), 'applied before the health check');
  const del = await cp.request('DELETE', `/apis/krm.kcl.dev.fluxcd/v1alpha1/namespaces/${ns}/kclruns/app`);
  t.true(del.ok, del.text);
  // The cancelled reconcile recorded "one" in the inventory, so the finalizer prunes it.
  await waitFor(async () => (await getKCLRun(cp, ns, 'app')) === undefined, { what: 'the KCLRun to be finalized', timeoutMs: 30_000 });
  await waitFor(async () => (await getObject(cp, `/api/v1/namespaces/${ns}/configmaps/one`)) === undefined, { what: 'configmap one to be pruned', timeoutMs: 10_000 });
  t.pass();
});
