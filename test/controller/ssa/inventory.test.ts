import test from 'ava';
import { changeSetEntry, inventoryId, parseInventoryId, subjectOf } from '../../../controller/ssa/index.js';
import type { ObjectRef } from '../../../controller/ssa/index.js';

const cases: [ObjectRef, string, string][] = [
  [{ apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'default', name: 'web' }, 'default_web_apps_Deployment', 'v1'],
  [{ apiVersion: 'v1', kind: 'ConfigMap', namespace: 'ns-1', name: 'cfg.v2' }, 'ns-1_cfg.v2__ConfigMap', 'v1'],
  [{ apiVersion: 'v1', kind: 'Namespace', name: 'team-a' }, '_team-a__Namespace', 'v1'],
  [{ apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', name: 'widgets.example.com' }, '_widgets.example.com_apiextensions.k8s.io_CustomResourceDefinition', 'v1'],
  [{ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', name: 'system:kclrun:reader' }, '_system__kclrun__reader_rbac.authorization.k8s.io_ClusterRole', 'v1'],
  [{ apiVersion: 'example.com/v1beta1', kind: 'Widget', namespace: 'x', name: 'w' }, 'x_w_example.com_Widget', 'v1beta1'],
];

for (const [ref, id, version] of cases) {
  test(`inventory id round trip: ${id}`, (t) => {
    t.is(inventoryId(ref), id);
    t.deepEqual(parseInventoryId(id, version), ref);
    const entry = changeSetEntry(ref, 'created');
    t.is(entry.id, id);
    t.is(entry.version, version);
    t.is(entry.subject, subjectOf(ref));
  });
}

test('a colon in a non-RBAC name is kept as-is', (t) => {
  t.is(inventoryId({ apiVersion: 'v1', kind: 'ConfigMap', namespace: 'a', name: 'x' }), 'a_x__ConfigMap');
});

test('subjects match Flux', (t) => {
  t.is(subjectOf({ apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'default', name: 'web' }), 'Deployment/default/web');
  t.is(subjectOf({ apiVersion: 'v1', kind: 'Namespace', name: 'n' }), 'Namespace/n');
});

test('malformed ids throw (they are written by us, so this is a bug)', (t) => {
  t.throws(() => parseInventoryId('nope', 'v1'));
  t.throws(() => parseInventoryId('a_b', 'v1'));
});
