/**
 * `--default-service-account`: KCLRuns that name no ServiceAccount apply as the default one (of their own
 * namespace); `serviceAccountName` still wins.
 */
import test from 'ava';
import { newNamespace } from '../harness/ava.js';
import { condition, createKCLRun, configMapsPackage, failedWith, getObject, gitRef, gitSource, grantConfigMaps, readyAt, useController, waitKCLRun } from './suite.js';

const suite = useController(test, { defaultServiceAccount: 'kclrun-default' });

test('without serviceAccountName the default ServiceAccount is impersonated', async (t) => {
  const { cp } = suite();
  const ns = await newNamespace(cp, 'defsa');
  const art = await gitSource(cp, ns, 'repo', configMapsPackage({ guarded: { v: '1' } }), 'main@sha1:1111111111111111111111111111111111111111');
  await createKCLRun(cp, ns, 'denied', { sourceRef: gitRef('repo') });
  const k = await waitKCLRun(cp, ns, 'denied', failedWith('ReconciliationFailed'));
  t.true(condition(k, 'Ready')!.message.includes(`User "system:serviceaccount:${ns}:kclrun-default" cannot`), condition(k, 'Ready')!.message);
  t.is(await getObject(cp, `/api/v1/namespaces/${ns}/configmaps/guarded`), undefined);

  await grantConfigMaps(cp, ns, 'deployer');
  await createKCLRun(cp, ns, 'named', { sourceRef: gitRef('repo'), serviceAccountName: 'deployer' });
  await waitKCLRun(cp, ns, 'named', readyAt(art.revision));
  t.truthy(await getObject(cp, `/api/v1/namespaces/${ns}/configmaps/guarded`));
});
