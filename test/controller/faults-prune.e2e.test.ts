/**
 * A prune that fails for one object — a finalizer that never clears; an RBAC denial for the impersonated
 * ServiceAccount: the others are pruned, the held object stays in the inventory, Ready=False PruneFailed names it,
 * and the next reconcile retries it on its own (no source change): once the obstacle is gone it is pruned.
 */
import test from 'ava';
import { newNamespace } from '../harness/ava.js';
import {
  condition, configMapsPackage, createKCLRun, createObject, failedWith, gitRef, gitSource, readyAt, setArtifact, useController, waitKCLRun,
} from './suite.js';
import { assertExact, configMapId, maps } from './faults.js';

const suite = useController(test);
let revs = 0;
const rev = () => `main@sha1:${(++revs).toString(16).padStart(40, 'b')}`;

test('a finalizer that never clears: the object stays in the inventory, the condition names it, retried until it goes', async (t) => {
  const { cp } = suite();
  const ns = await newNamespace(cp, 'prune-fin');
  const r1 = await gitSource(cp, ns, 'repo', configMapsPackage(maps(['keep', 'gone', 'held'], '1')), rev());
  await createKCLRun(cp, ns, 'app', { sourceRef: gitRef('repo'), interval: '10m', retryInterval: '2s' });
  await waitKCLRun(cp, ns, 'app', readyAt(r1.revision));
  const held = `/api/v1/namespaces/${ns}/configmaps/held`;
  const patch = (finalizers: string[]) => cp.request('PATCH', held, { body: { metadata: { finalizers } }, contentType: 'application/merge-patch+json' });
  t.true((await patch(['test.kclrun.dev/never'])).ok);

  const r2 = await setArtifact(cp, ns, 'repo', configMapsPackage(maps(['keep'], '2')), rev());
  const k = await waitKCLRun(cp, ns, 'app', (x) => failedWith('PruneFailed')(x) && x.status?.lastAttemptedRevision === r2.revision);
  t.regex(condition(k, 'Ready')!.message, new RegExp(`ConfigMap/${ns}/held is terminating, waiting for finalizers \\[test\\.kclrun\\.dev/never\\]`));
  t.notRegex(condition(k, 'Ready')!.message, /gone/);
  const ids = k.status!.inventory!.entries.map((e) => e.id).sort();
  t.deepEqual(ids, [configMapId(ns, 'held'), configMapId(ns, 'keep')], '`gone` pruned, `held` kept in the inventory');

  // Positive control for the retry: the finalizer clears, nothing else changes, the next attempt completes the prune.
  t.true((await patch([])).ok);
  await waitKCLRun(cp, ns, 'app', readyAt(r2.revision));
  await assertExact(t, cp, ns, 'app', ['keep'], '2');
});

test('an RBAC denial for the impersonated account: the object stays in the inventory, the condition names it, retried once allowed', async (t) => {
  const { cp } = suite();
  const ns = await newNamespace(cp, 'prune-rbac');
  await createObject(cp, `/api/v1/namespaces/${ns}/serviceaccounts`, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'deployer' } });
  const role = (deletable: string[]) => ({
    apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name: 'deployer' },
    rules: [
      { apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'list', 'watch', 'create', 'update', 'patch'] },
      { apiGroups: [''], resources: ['configmaps'], verbs: ['delete'], resourceNames: deletable },
    ],
  });
  await createObject(cp, `/apis/rbac.authorization.k8s.io/v1/namespaces/${ns}/roles`, role(['gone']));
  await createObject(cp, `/apis/rbac.authorization.k8s.io/v1/namespaces/${ns}/rolebindings`, {
    apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name: 'deployer' },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'deployer' },
    subjects: [{ kind: 'ServiceAccount', name: 'deployer', namespace: ns }],
  });
  const r1 = await gitSource(cp, ns, 'repo', configMapsPackage(maps(['keep', 'gone', 'denied'], '1')), rev());
  await createKCLRun(cp, ns, 'app', { sourceRef: gitRef('repo'), serviceAccountName: 'deployer', interval: '10m', retryInterval: '2s' });
  await waitKCLRun(cp, ns, 'app', readyAt(r1.revision));

  const r2 = await setArtifact(cp, ns, 'repo', configMapsPackage(maps(['keep'], '2')), rev());
  const k = await waitKCLRun(cp, ns, 'app', (x) => failedWith('PruneFailed')(x) && x.status?.lastAttemptedRevision === r2.revision);
  const message = condition(k, 'Ready')!.message;
  t.regex(message, new RegExp(`ConfigMap/${ns}/denied delete failed: .*forbidden`));
  t.regex(message, /system:serviceaccount:[^:]+:deployer/, 'the denial names the impersonated account');
  t.deepEqual(k.status!.inventory!.entries.map((e) => e.id).sort(), [configMapId(ns, 'denied'), configMapId(ns, 'keep')]);

  // Positive control for the retry: allow the delete; no source change, the next attempt prunes it.
  const res = await cp.request('PUT', `/apis/rbac.authorization.k8s.io/v1/namespaces/${ns}/roles/deployer`, { body: role(['gone', 'denied']) });
  t.true(res.ok, res.text);
  await waitKCLRun(cp, ns, 'app', readyAt(r2.revision));
  await assertExact(t, cp, ns, 'app', ['keep'], '2');
});
