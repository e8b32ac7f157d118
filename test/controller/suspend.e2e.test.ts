/**
 * suspend: while a KCLRun is suspended a new source revision is not applied; resuming applies it.
 *
 * Nothing is asserted after a plain sleep: the negative checks run only once the controller has provably handled
 * the same change — it reconciled the suspended KCLRun again, and applied the revision for an unsuspended KCLRun on
 * the same source (the positive control) — so a slow controller fails the test instead of passing it.
 */
import test from 'ava';
import { newNamespace } from '../harness/ava.js';
import { configMapsPackage, createKCLRun, getKCLRun, getObject, gitRef, gitSource, patchKCLRun, readyAt, reconcileCount, setArtifact, useController, waitKCLRun, waitReconciled } from './suite.js';

const suite = useController(test);

test('a new revision is not applied while suspended, and is after resume', async (t) => {
  const { cp, controller } = suite();
  const ns = await newNamespace(cp, 'suspend');
  const controlNs = await newNamespace(cp, 'suspend-control');
  const a1 = await gitSource(cp, ns, 'repo', configMapsPackage({ cfg: { v: '1' } }), 'main@sha1:1111111111111111111111111111111111111111');
  await createKCLRun(cp, ns, 'app', { sourceRef: gitRef('repo') });
  await createKCLRun(cp, ns, 'control', { sourceRef: gitRef('repo'), targetNamespace: controlNs });
  await waitKCLRun(cp, ns, 'app', readyAt(a1.revision));
  await waitKCLRun(cp, ns, 'control', readyAt(a1.revision));

  const beforeSuspend = await reconcileCount(controller, ns, 'app');
  await patchKCLRun(cp, ns, 'app', { spec: { suspend: true } });
  await waitReconciled(controller, ns, 'app', beforeSuspend); // the controller has seen the suspend
  const seen = await reconcileCount(controller, ns, 'app');
  const a2 = await setArtifact(cp, ns, 'repo', configMapsPackage({ cfg: { v: '2' } }), 'main@sha1:2222222222222222222222222222222222222222');
  await waitKCLRun(cp, ns, 'control', readyAt(a2.revision), 15_000);
  t.is((await getObject(cp, `/api/v1/namespaces/${controlNs}/configmaps/cfg`))?.data.v, '2', 'the control applied the new revision');
  await waitReconciled(controller, ns, 'app', seen); // and the suspended KCLRun was reconciled for it too

  const suspended = await getKCLRun(cp, ns, 'app');
  t.is(suspended?.status?.lastAppliedRevision, a1.revision);
  t.is(suspended?.status?.lastAttemptedRevision, a1.revision);
  t.is((await getObject(cp, `/api/v1/namespaces/${ns}/configmaps/cfg`))?.data.v, '1');

  await patchKCLRun(cp, ns, 'app', { spec: { suspend: false } });
  const k = await waitKCLRun(cp, ns, 'app', readyAt(a2.revision), 15_000);
  t.is((await getObject(cp, `/api/v1/namespaces/${ns}/configmaps/cfg`))?.data.v, '2');
  t.is(k.status?.observedGeneration, k.metadata.generation);
});
