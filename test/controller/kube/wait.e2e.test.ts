import test from 'ava';
import { APPLY_FIELD_MANAGER } from '../../../controller/api/group.js';
import type { JsonObject } from '../../../controller/kube/index.js';
import { applyAllStaged, waitForReady } from '../../../controller/ssa/index.js';
import type { ObjectRef } from '../../../controller/ssa/index.js';
import { newNamespace, useControlPlane } from '../../harness/ava.js';
import { adminClient, configMap, deployment } from './fixtures.js';

const cp = useControlPlane(test);

async function patchStatus(ref: ObjectRef, status: JsonObject): Promise<void> {
  const c = adminClient(cp());
  const m = await c.mapping(ref.apiVersion, ref.kind);
  if (!m) throw new Error(`no mapping for ${ref.kind}`);
  const res = await c.request('PATCH', c.objectPath(m, ref.namespace, ref.name, 'status'), {
    body: { status },
    contentType: 'application/merge-patch+json',
  });
  if (!res.ok) throw new Error(res.message);
}

const availableStatus: JsonObject = {
  observedGeneration: 1,
  replicas: 1,
  updatedReplicas: 1,
  readyReplicas: 1,
  availableReplicas: 1,
  conditions: [
    { type: 'Progressing', status: 'True', reason: 'NewReplicaSetAvailable', message: 'ok' },
    { type: 'Available', status: 'True', reason: 'MinimumReplicasAvailable', message: 'ok' },
  ],
};

test('waitForReady times out on a Deployment (no controller-manager) and succeeds once its status says available', async (t) => {
  const c = adminClient(cp());
  const ns = await newNamespace(cp(), 'wait');
  const applied = await applyAllStaged(c, [deployment(ns, 'web'), configMap(ns, 'cfg', { a: '1' })], { fieldManager: APPLY_FIELD_MANAGER });
  t.true(applied.ok, JSON.stringify(applied));
  const refs = applied.changes.map((e) => e.ref);
  const web: ObjectRef = { apiVersion: 'apps/v1', kind: 'Deployment', namespace: ns, name: 'web' };

  const started = Date.now();
  const timedOut = await waitForReady(c, refs, { timeoutMs: 1500, intervalMs: 200 });
  t.true(Date.now() - started >= 1400);
  t.false(timedOut.ok);
  t.deepEqual(timedOut.notReady, [{ ref: web, status: 'InProgress', message: 'Replicas: 0/1' }]);

  const later = setTimeout(() => void patchStatus(web, availableStatus), 600);
  const ready = await waitForReady(c, refs, { timeoutMs: 15_000, intervalMs: 200 });
  clearTimeout(later);
  t.true(ready.ok, JSON.stringify(ready.notReady));
  t.deepEqual(ready.notReady, []);
});

test('waitForReady fails fast on a Failed object and reports NotFound objects', async (t) => {
  const c = adminClient(cp());
  const ns = await newNamespace(cp(), 'failfast');
  t.true((await applyAllStaged(c, [deployment(ns, 'stuck')], { fieldManager: APPLY_FIELD_MANAGER })).ok);
  const stuck: ObjectRef = { apiVersion: 'apps/v1', kind: 'Deployment', namespace: ns, name: 'stuck' };
  await patchStatus(stuck, {
    observedGeneration: 1,
    conditions: [{ type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded', message: 'too slow' }],
  });
  const missing: ObjectRef = { apiVersion: 'v1', kind: 'ConfigMap', namespace: ns, name: 'missing' };
  const started = Date.now();
  const res = await waitForReady(c, [stuck, missing], { timeoutMs: 30_000, intervalMs: 200 });
  t.true(Date.now() - started < 5000, 'fail fast');
  t.false(res.ok);
  t.deepEqual(res.notReady, [
    { ref: stuck, status: 'Failed', message: 'Progress deadline exceeded' },
    { ref: missing, status: 'NotFound', message: 'object not found' },
  ]);
});

test('waitForReady honours an abort signal', async (t) => {
  const c = adminClient(cp());
  const ns = await newNamespace(cp(), 'abort');
  const ac = new AbortController();
  setTimeout(() => ac.abort(), 300);
  const started = Date.now();
  const res = await waitForReady(c, [{ apiVersion: 'v1', kind: 'ConfigMap', namespace: ns, name: 'never' }], {
    timeoutMs: 30_000,
    intervalMs: 100,
    signal: ac.signal,
  });
  t.false(res.ok);
  t.true(Date.now() - started < 5000);
});
