/**
 * dependsOn: a KCLRun waits (DependencyNotReady, nothing applied) until the KCLRuns it depends on are Ready, then
 * applies.
 */
import test from 'ava';
import { newNamespace } from '../harness/ava.js';
import { condition, configMapsPackage, createKCLRun, delay, failedWith, getKCLRun, getObject, gitRef, gitSource, readyAt, reconcileCount, setArtifact, useController, waitKCLRun } from './suite.js';

const suite = useController(test);

test('B dependsOn A: B stays DependencyNotReady until A is Ready, then applies after A', async (t) => {
  const { cp, controller } = suite();
  const ns = await newNamespace(cp, 'deps');
  // A's source has no artifact yet, so A cannot become Ready.
  const res = await cp.request('POST', `/apis/source.toolkit.fluxcd.io/v1/namespaces/${ns}/gitrepositories`, {
    body: { apiVersion: 'source.toolkit.fluxcd.io/v1', kind: 'GitRepository', metadata: { name: 'repo-a', namespace: ns }, spec: { interval: '10m', url: 'http://127.0.0.1/a.git' } },
  });
  t.true(res.ok);
  const b = await gitSource(cp, ns, 'repo-b', configMapsPackage({ 'from-b': { v: 'b' } }), 'main@sha1:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb');
  await createKCLRun(cp, ns, 'a', { sourceRef: gitRef('repo-a') });
  await createKCLRun(cp, ns, 'b', { sourceRef: gitRef('repo-b'), dependsOn: [{ name: 'a' }] });

  const waiting = await waitKCLRun(cp, ns, 'b', failedWith('DependencyNotReady'));
  t.is(condition(waiting, 'Ready')!.message, `dependency '${ns}/a' is not ready`);
  t.is(condition(waiting, 'Reconciling')?.reason, 'ProgressingWithRetry');
  // Several dependency requeues (1 s in tests): B stays Ready=False/DependencyNotReady throughout and applies nothing.
  const seen = new Set<string>();
  const reconciles = await reconcileCount(controller, ns, 'b');
  for (const until = Date.now() + 2500; Date.now() < until; await delay(50)) {
    const c = condition(await getKCLRun(cp, ns, 'b'), 'Ready');
    seen.add(`${c?.status}/${c?.reason}`);
  }
  // The positive control: B was requeued and reconciled meanwhile (not merely left alone by a slow controller).
  const more = (await reconcileCount(controller, ns, 'b')) - reconciles;
  t.true(more >= 2, `${more} reconciles of B in 2.5 s`);
  t.deepEqual([...seen], ['False/DependencyNotReady']);
  t.is(await getObject(cp, `/api/v1/namespaces/${ns}/configmaps/from-b`), undefined);

  const a = await setArtifact(cp, ns, 'repo-a', configMapsPackage({ 'from-a': { v: 'a' } }), 'main@sha1:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa');
  // Poll B: the first time B's objects exist, A's already do.
  let sawBWithoutA = false;
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    const fromB = await getObject(cp, `/api/v1/namespaces/${ns}/configmaps/from-b`);
    if (fromB) {
      sawBWithoutA = !(await getObject(cp, `/api/v1/namespaces/${ns}/configmaps/from-a`));
      break;
    }
    await delay(50);
  }
  t.false(sawBWithoutA);
  await waitKCLRun(cp, ns, 'a', readyAt(a.revision));
  const ready = await waitKCLRun(cp, ns, 'b', readyAt(b.revision), 15_000);
  t.is(condition(ready, 'Ready')!.reason, 'ReconciliationSucceeded');
  const ca = await getObject(cp, `/api/v1/namespaces/${ns}/configmaps/from-a`);
  const cb = await getObject(cp, `/api/v1/namespaces/${ns}/configmaps/from-b`);
  t.true(Number(ca?.metadata.resourceVersion) < Number(cb?.metadata.resourceVersion));
});
