/**
 * suspend: while a KCLRun is suspended a new source revision is not applied; resuming applies it.
 */
import test from 'ava';
import { newNamespace } from '../harness/ava.js';
import { configMapsPackage, createKCLRun, delay, getKCLRun, getObject, gitRef, gitSource, patchKCLRun, readyAt, setArtifact, useController, waitKCLRun } from './suite.js';

const suite = useController(test);

test('a new revision is not applied while suspended, and is after resume', async (t) => {
  const { cp } = suite();
  const ns = await newNamespace(cp, 'suspend');
  const a1 = await gitSource(cp, ns, 'repo', configMapsPackage({ cfg: { v: '1' } }), 'main@sha1:1111111111111111111111111111111111111111');
  await createKCLRun(cp, ns, 'app', { sourceRef: gitRef('repo') });
  await waitKCLRun(cp, ns, 'app', readyAt(a1.revision));

  await patchKCLRun(cp, ns, 'app', { spec: { suspend: true } });
  await delay(500); // let the suspend reach the controller before the source moves
  const a2 = await setArtifact(cp, ns, 'repo', configMapsPackage({ cfg: { v: '2' } }), 'main@sha1:2222222222222222222222222222222222222222');
  await delay(3000);
  const suspended = await getKCLRun(cp, ns, 'app');
  t.is(suspended?.status?.lastAppliedRevision, a1.revision);
  t.is(suspended?.status?.lastAttemptedRevision, a1.revision);
  t.is((await getObject(cp, `/api/v1/namespaces/${ns}/configmaps/cfg`))?.data.v, '1');

  await patchKCLRun(cp, ns, 'app', { spec: { suspend: false } });
  const k = await waitKCLRun(cp, ns, 'app', readyAt(a2.revision), 15_000);
  t.is((await getObject(cp, `/api/v1/namespaces/${ns}/configmaps/cfg`))?.data.v, '2');
  t.is(k.status?.observedGeneration, k.metadata.generation);
});
