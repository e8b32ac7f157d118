import test from 'ava';
import { APPLY_FIELD_MANAGER, OWNER_NAME_LABEL, OWNER_NAMESPACE_LABEL, PRUNE_ANNOTATION } from '../../../controller/api/group.js';
import { applyAllStaged, deleteAll, parseInventoryId } from '../../../controller/ssa/index.js';
import type { ObjectRef } from '../../../controller/ssa/index.js';
import { newNamespace, useControlPlane } from '../../harness/ava.js';
import { adminClient, configMap, crd, rand } from './fixtures.js';

const cp = useControlPlane(test);
const owner = { [OWNER_NAME_LABEL]: 'app', [OWNER_NAMESPACE_LABEL]: 'flux-system' };
const cmRef = (namespace: string, name: string): ObjectRef => ({ apiVersion: 'v1', kind: 'ConfigMap', namespace, name });

test('prune deletes only objects labelled by this owner and not prune: disabled; 404 counts as deleted', async (t) => {
  const c = adminClient(cp());
  const ns = await newNamespace(cp(), 'prune');
  const applied = await applyAllStaged(
    c,
    [
      configMap(ns, 'mine', { a: '1' }),
      configMap(ns, 'keep', { a: '1' }, { metadata: { annotations: { [PRUNE_ANNOTATION]: 'disabled' } } }),
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: `${ns}-extra` } },
    ],
    { fieldManager: APPLY_FIELD_MANAGER, ownerLabels: owner, waitIntervalMs: 200 },
  );
  t.true(applied.ok, JSON.stringify(applied));
  // Someone else's object with the same name pattern, and one that was never applied.
  const theirs = await applyAllStaged(c, [configMap(ns, 'theirs', { a: '1' })], {
    fieldManager: 'other',
    ownerLabels: { ...owner, [OWNER_NAME_LABEL]: 'other-app' },
  });
  t.true(theirs.ok);
  // An inventory as the reconciler stores it, turned back into references.
  const inventory = [...applied.changes, ...theirs.changes].map((e) => ({ id: e.id, v: e.version }));
  const refs = [...inventory.map((e) => parseInventoryId(e.id, e.v)), cmRef(ns, 'gone-already')];

  const res = await deleteAll(c, refs, { ownerLabels: owner });
  t.deepEqual(res.failed, []);
  t.deepEqual(res.deleted.map((e) => e.subject).sort(), [`ConfigMap/${ns}/gone-already`, `ConfigMap/${ns}/mine`, `Namespace/${ns}-extra`]);
  t.deepEqual(res.skipped.map((e) => e.subject).sort(), [`ConfigMap/${ns}/keep`, `ConfigMap/${ns}/theirs`]);
  t.true(res.deleted.every((e) => e.action === 'deleted'));
  t.true(res.skipped.every((e) => e.action === 'skipped'));
  t.is((await c.get(cmRef(ns, 'mine'))).status, 404);
  t.true((await c.get(cmRef(ns, 'keep'))).ok);
  t.true((await c.get(cmRef(ns, 'theirs'))).ok);
});

test('prune: objects of a kind that is no longer served count as deleted', async (t) => {
  const c = adminClient(cp());
  const ns = await newNamespace(cp(), 'gone');
  const ref: ObjectRef = { apiVersion: `g${rand()}.example.com/v1`, kind: 'Thing', namespace: ns, name: 't' };
  const res = await deleteAll(c, [ref], { ownerLabels: owner });
  t.deepEqual(res.deleted.map((e) => e.id), [`${ns}_t_${ref.apiVersion.split('/')[0]}_Thing`]);
});

test('prune: deleting a CRD-backed object', async (t) => {
  const c = adminClient(cp());
  const ns = await newNamespace(cp(), 'crd');
  const group = `p${rand()}.example.com`;
  const widget = { apiVersion: `${group}/v1`, kind: 'Widget', metadata: { name: 'w', namespace: ns } };
  const applied = await applyAllStaged(c, [crd(group, 'Widget'), widget], { fieldManager: APPLY_FIELD_MANAGER, ownerLabels: owner, waitIntervalMs: 200 });
  t.true(applied.ok, JSON.stringify(applied));
  const res = await deleteAll(c, [{ apiVersion: `${group}/v1`, kind: 'Widget', namespace: ns, name: 'w' }], { ownerLabels: owner });
  t.is(res.deleted.length, 1);
  t.is((await c.get({ apiVersion: `${group}/v1`, kind: 'Widget', namespace: ns, name: 'w' })).status, 404);
});

test('prune failures are reported, not thrown (RBAC-limited impersonation)', async (t) => {
  const c = adminClient(cp());
  const ns = await newNamespace(cp(), 'deny');
  t.true((await applyAllStaged(c, [configMap(ns, 'x', { a: '1' })], { fieldManager: APPLY_FIELD_MANAGER, ownerLabels: owner })).ok);
  const res = await deleteAll(c.withImpersonation('nobody'), [cmRef(ns, 'x')], { ownerLabels: owner });
  t.deepEqual(res.deleted, []);
  t.is(res.failed.length, 1);
  t.regex(res.failed[0]?.message ?? '', new RegExp(`ConfigMap/${ns}/x query failed: .*User "nobody" cannot get resource "configmaps"`));
  t.true((await c.get(cmRef(ns, 'x'))).ok);
});
