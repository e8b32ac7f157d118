/**
 * `status.history` on the API server: reconciling the same objects again counts up one entry (also under a new
 * source revision, whose metadata it then carries); other objects make a new entry in front; a failed apply is an
 * entry of its own with the failure's reason. A build failure (nothing to apply) records nothing.
 */
import test from 'ava';
import { newNamespace } from '../harness/ava.js';
import { configMapsPackage, createKCLRun, failedWith, gitRef, gitSource, kclPackage, readyAt, requestReconcile, setArtifact, useController, waitKCLRun } from './suite.js';

const suite = useController(test);

const REV = (c: string) => `main@sha1:${c.repeat(40)}`;

test('history counts repeated reconciliations per digest and status, most recent first', async (t) => {
  const { cp } = suite();
  const ns = await newNamespace(cp, 'history');
  await gitSource(cp, ns, 'repo', configMapsPackage({ a: { v: '1' } }), REV('1'));
  await createKCLRun(cp, ns, 'app', { sourceRef: gitRef('repo') });
  let k = await waitKCLRun(cp, ns, 'app', (k) => readyAt(REV('1'))(k) && k.status?.history?.length === 1);
  const first = k.status!.history![0]!;
  t.regex(first.digest, /^sha256:[0-9a-f]{64}$/);
  t.is(first.lastReconciledStatus, 'ReconciliationSucceeded');
  t.is(first.totalReconciliations, 1);
  t.deepEqual(first.metadata, { revision: REV('1') });
  t.regex(first.lastReconciledDuration, /^(\d+ms|[\d.]+s)$/);

  // Same objects again (a requested reconcile, then a new revision rendering the same): one entry, counted up.
  const at = await requestReconcile(cp, ns, 'app');
  await waitKCLRun(cp, ns, 'app', (k) => k.status?.lastHandledReconcileAt === at && k.status?.history?.[0]?.totalReconciliations === 2);
  await setArtifact(cp, ns, 'repo', configMapsPackage({ a: { v: '1' } }), REV('2'));
  k = await waitKCLRun(cp, ns, 'app', (k) => readyAt(REV('2'))(k) && k.status?.history?.[0]?.totalReconciliations === 3);
  t.is(k.status!.history!.length, 1);
  t.is(k.status!.history![0]!.digest, first.digest);
  t.is(k.status!.history![0]!.firstReconciled, first.firstReconciled);
  t.deepEqual(k.status!.history![0]!.metadata, { revision: REV('2') });

  // Other objects: a new entry in front.
  await setArtifact(cp, ns, 'repo', configMapsPackage({ a: { v: '2' } }), REV('3'));
  k = await waitKCLRun(cp, ns, 'app', readyAt(REV('3')));
  t.is(k.status!.history!.length, 2);
  t.not(k.status!.history![0]!.digest, first.digest);
  t.is(k.status!.history![1]!.digest, first.digest);

  // A failed apply: an entry with the failure's reason.
  await setArtifact(cp, ns, 'repo', kclPackage('items = [{apiVersion = "v1", kind = "ConfigMap", metadata.name = "Not_A_Name", data.v = "1"}]\n'), REV('4'));
  k = await waitKCLRun(cp, ns, 'app', (k) => failedWith('ReconciliationFailed')(k) && k.status?.lastAttemptedRevision === REV('4'));
  t.is(k.status!.history![0]!.lastReconciledStatus, 'ReconciliationFailed');
  t.deepEqual(k.status!.history![0]!.metadata, { revision: REV('4') });
  const failedLength = k.status!.history!.length;
  t.is(failedLength, 3);

  // A build failure records nothing.
  await setArtifact(cp, ns, 'repo', kclPackage('items = [1 +]\n'), REV('5'));
  k = await waitKCLRun(cp, ns, 'app', (k) => failedWith('BuildFailed')(k) && k.status?.lastAttemptedRevision === REV('5'));
  t.is(k.status!.history!.length, failedLength);
});
