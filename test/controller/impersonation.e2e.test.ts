/**
 * Impersonation: `serviceAccountName` applies as that ServiceAccount. Without RBAC the API's "forbidden" message,
 * naming the ServiceAccount user, reaches Ready=False; after a Role and RoleBinding are granted it becomes Ready.
 */
import test from 'ava';
import { newNamespace } from '../harness/ava.js';
import { condition, createKCLRun, createObject, configMapsPackage, failedWith, getObject, gitRef, gitSource, grantConfigMaps, readyAt, requestReconcile, useController, waitKCLRun } from './suite.js';

const suite = useController(test);

test('a ServiceAccount without RBAC is denied with the API message; granting a Role makes it Ready', async (t) => {
  const { cp } = suite();
  const ns = await newNamespace(cp, 'imp');
  await createObject(cp, `/api/v1/namespaces/${ns}/serviceaccounts`, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'deployer' } });
  const art = await gitSource(cp, ns, 'repo', configMapsPackage({ guarded: { v: '1' } }), 'main@sha1:1111111111111111111111111111111111111111');
  await createKCLRun(cp, ns, 'app', { sourceRef: gitRef('repo'), serviceAccountName: 'deployer' });
  const k = await waitKCLRun(cp, ns, 'app', failedWith('ReconciliationFailed'));
  const msg = condition(k, 'Ready')!.message;
  t.regex(msg, /forbidden/);
  t.true(msg.includes(`User "system:serviceaccount:${ns}:deployer" cannot`), msg);
  t.true(msg.includes(`ConfigMap/${ns}/guarded`), msg);
  t.is(await getObject(cp, `/api/v1/namespaces/${ns}/configmaps/guarded`), undefined);

  await grantConfigMaps(cp, ns, 'deployer');
  const at = await requestReconcile(cp, ns, 'app');
  const ok = await waitKCLRun(cp, ns, 'app', (k) => readyAt(art.revision)(k) && k.status?.lastHandledReconcileAt === at);
  t.is(condition(ok, 'Ready')!.reason, 'ReconciliationSucceeded');
  const cm = await getObject(cp, `/api/v1/namespaces/${ns}/configmaps/guarded`);
  t.deepEqual(cm?.data, { v: '1' });
  t.true(cm?.metadata.managedFields.some((f: { manager: string }) => f.manager === 'kclrun'));
});
