/**
 * Namespaces and common metadata: `targetNamespace` sets the namespace of every namespaced object, also of those
 * that were rendered with another one (kustomize-controller's meaning), and leaves cluster-scoped objects alone;
 * without it, objects without a namespace land in the KCLRun's namespace and the others stay where they were; `commonMetadata` labels and annotations
 * reach every applied object.
 */
import test from 'ava';
import { newNamespace } from '../harness/ava.js';
import { createKCLRun, getObject, gitRef, gitSource, kclPackage, readyAt, useController, waitKCLRun } from './suite.js';

const suite = useController(test);

const mixed = (clusterRole: string, elsewhere: string) => kclPackage(`items = [
    {apiVersion = "v1", kind = "ConfigMap", metadata.name = "plain", data.v = "1"}
    {apiVersion = "v1", kind = "ConfigMap", metadata = {name = "pinned", namespace = "${elsewhere}"}, data.v = "2"}
    {apiVersion = "v1", kind = "Secret", metadata.name = "creds", stringData.k = "v"}
    {apiVersion = "rbac.authorization.k8s.io/v1", kind = "ClusterRole", metadata.name = "${clusterRole}", rules = []}
]
`);

test('targetNamespace places every namespaced object (also one rendered with another namespace), leaves cluster-scoped ones alone; commonMetadata on every object', async (t) => {
  const { cp } = suite();
  const ns = await newNamespace(cp, 'tns');
  const target = await newNamespace(cp, 'tns-target');
  const elsewhere = await newNamespace(cp, 'tns-elsewhere');
  const role = `${ns}-reader`;
  const art = await gitSource(cp, ns, 'repo', mixed(role, elsewhere), 'main@sha1:1111111111111111111111111111111111111111');
  await createKCLRun(cp, ns, 'app', {
    sourceRef: gitRef('repo'),
    targetNamespace: target,
    commonMetadata: { labels: { team: 'blue', 'app.kubernetes.io/part-of': 'shop' }, annotations: { 'example.com/owner': 'ops@example.com' } },
  });
  const k = await waitKCLRun(cp, ns, 'app', readyAt(art.revision));
  t.deepEqual(
    k.status?.inventory?.entries.map((e) => e.id).sort(),
    [`${target}_creds__Secret`, `${target}_pinned__ConfigMap`, `${target}_plain__ConfigMap`, `_${role}_rbac.authorization.k8s.io_ClusterRole`].sort(),
  );
  t.is(await getObject(cp, `/api/v1/namespaces/${ns}/configmaps/plain`), undefined);
  t.is(await getObject(cp, `/api/v1/namespaces/${elsewhere}/configmaps/pinned`), undefined);
  t.deepEqual((await getObject(cp, `/api/v1/namespaces/${target}/configmaps/pinned`))?.data, { v: '2' });
  const objects = [
    await getObject(cp, `/api/v1/namespaces/${target}/configmaps/plain`),
    await getObject(cp, `/api/v1/namespaces/${target}/secrets/creds`),
    await getObject(cp, `/apis/rbac.authorization.k8s.io/v1/clusterroles/${role}`),
  ];
  for (const o of objects) {
    t.truthy(o);
    t.is(o?.metadata.labels.team, 'blue', o?.metadata.name);
    t.is(o?.metadata.labels['app.kubernetes.io/part-of'], 'shop');
    t.is(o?.metadata.labels['krm.kcl.dev.fluxcd/name'], 'app');
    t.is(o?.metadata.annotations?.['example.com/owner'], 'ops@example.com', o?.metadata.name);
  }
  t.is(objects[2]?.metadata.namespace, undefined);
});

test("without targetNamespace, namespaced objects without a namespace land in the KCLRun's namespace", async (t) => {
  const { cp } = suite();
  const ns = await newNamespace(cp, 'nons');
  const other = await newNamespace(cp, 'nons-other');
  const role = `${ns}-reader`;
  const art = await gitSource(cp, ns, 'repo', kclPackage(`items = [
    {apiVersion = "v1", kind = "ConfigMap", metadata.name = "plain", data.v = "1"}
    {apiVersion = "v1", kind = "ConfigMap", metadata = {name = "pinned", namespace = "${other}"}, data.v = "2"}
    {apiVersion = "rbac.authorization.k8s.io/v1", kind = "ClusterRole", metadata.name = "${role}", rules = []}
]
`), 'main@sha1:2222222222222222222222222222222222222222');
  await createKCLRun(cp, ns, 'app', { sourceRef: gitRef('repo') });
  await waitKCLRun(cp, ns, 'app', readyAt(art.revision));
  t.deepEqual((await getObject(cp, `/api/v1/namespaces/${ns}/configmaps/plain`))?.data, { v: '1' });
  t.deepEqual((await getObject(cp, `/api/v1/namespaces/${other}/configmaps/pinned`))?.data, { v: '2' });
  t.is((await getObject(cp, `/apis/rbac.authorization.k8s.io/v1/clusterroles/${role}`))?.metadata.namespace, undefined);
});
