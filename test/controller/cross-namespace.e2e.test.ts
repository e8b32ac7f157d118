/**
 * `--no-cross-namespace-refs`: a sourceRef (or dependsOn) into another namespace is a configuration error:
 * Ready=False/AccessDenied and Stalled=True, with no retries (one Warning, the status left alone).
 *
 * The "nothing changed" checks run only after a positive control in the same run: a KCLRun in the source's own
 * namespace applies the new revision, and the denied KCLRun was reconciled for it, so a slow controller fails.
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
  gitRef,
  gitSource,
  listEvents,
  readyAt,
  reconcileCount,
  setArtifact,
  useController,
  waitKCLRun,
  waitReconciled,
} from './suite.js';

const suite = useController(test, { noCrossNamespaceRefs: true });

test('a sourceRef to another namespace is denied and stalls without a retry storm', async (t) => {
  const { cp, controller } = suite();
  const ns = await newNamespace(cp, 'xns');
  const srcNs = await newNamespace(cp, 'xns-src');
  const a1 = await gitSource(cp, srcNs, 'shared', configMapsPackage({ leaked: { v: '1' } }), 'main@sha1:1111111111111111111111111111111111111111');
  await createKCLRun(cp, ns, 'app', { sourceRef: gitRef('shared', srcNs) });
  // The positive control: the source's own namespace may use it.
  await createKCLRun(cp, srcNs, 'local', { sourceRef: gitRef('shared') });
  await waitKCLRun(cp, srcNs, 'local', readyAt(a1.revision));
  const k = await waitKCLRun(cp, ns, 'app', failedWith('AccessDenied'));
  const ready = condition(k, 'Ready')!;
  t.true(ready.message.includes(`GitRepository/${srcNs}/shared`), ready.message);
  t.regex(ready.message, /cross-namespace references are not allowed/);
  const stalled = condition(k, 'Stalled');
  t.is(stalled?.status, 'True');
  t.is(stalled?.reason, 'AccessDenied');
  t.is(condition(k, 'Reconciling'), undefined);
  t.is(await getObject(cp, `/api/v1/namespaces/${ns}/configmaps/leaked`), undefined);

  // No retries: the status stays as it is, and a source revision change fails the same way without a new Warning.
  const rv = k.metadata.resourceVersion;
  const reconciles = await reconcileCount(controller, ns, 'app');
  const a3 = await setArtifact(cp, srcNs, 'shared', configMapsPackage({ leaked: { v: '2' } }), 'main@sha1:3333333333333333333333333333333333333333');
  await waitKCLRun(cp, srcNs, 'local', readyAt(a3.revision));
  await waitReconciled(controller, ns, 'app', reconciles); // the denied KCLRun was reconciled for the new revision
  const later = await getKCLRun(cp, ns, 'app');
  t.is(later?.metadata.resourceVersion, rv);
  const warnings = (await listEvents(cp, ns, 'app')).filter((e) => e.type === 'Warning');
  t.is(warnings.length, 1);
  t.is(warnings[0]?.reason, 'AccessDenied');
});

test('dependsOn into another namespace is denied; same-namespace refs still work', async (t) => {
  const { cp } = suite();
  const ns = await newNamespace(cp, 'xdep');
  const art = await gitSource(cp, ns, 'repo', configMapsPackage({ local: { v: '1' } }), 'main@sha1:2222222222222222222222222222222222222222');
  await createKCLRun(cp, ns, 'app', { sourceRef: gitRef('repo') });
  await waitKCLRun(cp, ns, 'app', readyAt(art.revision));
  await createKCLRun(cp, ns, 'dep', { sourceRef: gitRef('repo'), dependsOn: [{ name: 'other', namespace: 'kube-system' }] });
  const k = await waitKCLRun(cp, ns, 'dep', failedWith('AccessDenied'));
  t.true(condition(k, 'Ready')!.message.includes('KCLRun/kube-system/other'));
  t.is(condition(k, 'Stalled')?.status, 'True');
});
