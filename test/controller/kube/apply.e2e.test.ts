import test from 'ava';
import {
  APPLY_FIELD_MANAGER,
  FORCE_ANNOTATION,
  OWNER_NAME_LABEL,
  OWNER_NAMESPACE_LABEL,
  RECONCILE_ANNOTATION,
  SSA_ANNOTATION,
} from '../../../controller/api/group.js';
import type { JsonObject } from '../../../controller/kube/index.js';
import { applyAllStaged } from '../../../controller/ssa/index.js';
import type { ApplyOptions, ApplyOutcome } from '../../../controller/ssa/index.js';
import { newNamespace, useControlPlane } from '../../harness/ava.js';
import { adminClient, configMap, crd, deployment, labelsOf, rand, uidOf } from './fixtures.js';

const cp = useControlPlane(test);
const owner = { [OWNER_NAME_LABEL]: 'app', [OWNER_NAMESPACE_LABEL]: 'flux-system' };
const opts: ApplyOptions = { fieldManager: APPLY_FIELD_MANAGER, ownerLabels: owner, waitIntervalMs: 200, waitTimeoutMs: 20_000 };

const actions = (o: ApplyOutcome): string[] => o.changes.map((c) => `${c.action} ${c.subject}`);

test('staged apply: CRD + Namespace + ConfigMap + CR in one call; then unchanged; then configured', async (t) => {
  const c = adminClient(cp());
  const group = `s${rand()}.example.com`;
  const ns = `staged-${rand()}`;
  const widget: JsonObject = { apiVersion: `${group}/v1`, kind: 'Widget', metadata: { name: 'w1', namespace: ns }, spec: { size: 3 } };
  const objects = [widget, configMap(ns, 'cfg', { a: '1' }), crd(group, 'Widget'), { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } }];

  const first = await applyAllStaged(c, objects, opts);
  t.true(first.ok, JSON.stringify(first));
  t.deepEqual(actions(first), [
    `created CustomResourceDefinition/widgets.${group}`,
    `created Namespace/${ns}`,
    `created ConfigMap/${ns}/cfg`,
    `created Widget/${ns}/w1`,
  ]);
  const entry = first.changes.find((e) => e.ref.kind === 'Widget');
  t.is(entry?.id, `${ns}_w1_${group}_Widget`);
  t.is(entry?.version, 'v1');

  const live = await c.get({ apiVersion: `${group}/v1`, kind: 'Widget', namespace: ns, name: 'w1' });
  if (!live.ok) return t.fail(live.message);
  t.deepEqual(live.body['spec'], { size: 3 });
  t.like(labelsOf(live.body), owner);
  const managed = (live.body['metadata'] as JsonObject)['managedFields'] as JsonObject[];
  t.true(managed.some((f) => f['manager'] === APPLY_FIELD_MANAGER && f['operation'] === 'Apply'), JSON.stringify(managed));

  const second = await applyAllStaged(c, objects, opts);
  t.true(second.ok);
  t.true(second.changes.every((e) => e.action === 'unchanged'), actions(second).join(', '));

  const changed = objects.map((o) => (o['kind'] === 'ConfigMap' ? configMap(ns, 'cfg', { a: '2' }) : o));
  const third = await applyAllStaged(c, changed, opts);
  t.true(third.ok);
  t.deepEqual(
    third.changes.filter((e) => e.action !== 'unchanged').map((e) => `${e.action} ${e.subject}`),
    [`configured ConfigMap/${ns}/cfg`],
  );
  const cm = await c.get({ apiVersion: 'v1', kind: 'ConfigMap', namespace: ns, name: 'cfg' });
  t.deepEqual(cm.ok && cm.body['data'], { a: '2' });
});

test('a label-only change is configured (owner labels are part of the apply)', async (t) => {
  const c = adminClient(cp());
  const ns = await newNamespace(cp(), 'labels');
  t.true((await applyAllStaged(c, [configMap(ns, 'x', { a: '1' })], opts)).ok);
  const other = { ...opts, ownerLabels: { ...owner, [OWNER_NAME_LABEL]: 'renamed' } };
  const res = await applyAllStaged(c, [configMap(ns, 'x', { a: '1' })], other);
  t.deepEqual(actions(res), [`configured ConfigMap/${ns}/x`]);
});

test('ssa: IfNotPresent, ssa: Ignore and reconcile: disabled are skipped', async (t) => {
  const c = adminClient(cp());
  const ns = await newNamespace(cp(), 'skip');
  const ann = (k: string, v: string): JsonObject => ({ metadata: { annotations: { [k]: v } } });
  const first = await applyAllStaged(
    c,
    [
      configMap(ns, 'once', { a: '1' }, ann(SSA_ANNOTATION, 'IfNotPresent')),
      configMap(ns, 'ignored', { a: '1' }, ann(SSA_ANNOTATION, 'Ignore')),
      configMap(ns, 'disabled', { a: '1' }, ann(RECONCILE_ANNOTATION, 'disabled')),
    ],
    opts,
  );
  t.deepEqual(actions(first), [`skipped ConfigMap/${ns}/disabled`, `skipped ConfigMap/${ns}/ignored`, `created ConfigMap/${ns}/once`]);
  t.is((await c.get({ apiVersion: 'v1', kind: 'ConfigMap', namespace: ns, name: 'ignored' })).status, 404);
  t.is((await c.get({ apiVersion: 'v1', kind: 'ConfigMap', namespace: ns, name: 'disabled' })).status, 404);

  const again = await applyAllStaged(c, [configMap(ns, 'once', { a: '2' }, ann(SSA_ANNOTATION, 'IfNotPresent'))], opts);
  t.deepEqual(actions(again), [`skipped ConfigMap/${ns}/once`]);
  const live = await c.get({ apiVersion: 'v1', kind: 'ConfigMap', namespace: ns, name: 'once' });
  t.deepEqual(live.ok && live.body['data'], { a: '1' });

  // reconcile: disabled set on the live object (by a cluster user) stops reconciliation too.
  await c.apply(configMap(ns, 'live', { a: '1' }, ann(RECONCILE_ANNOTATION, 'disabled')), { fieldManager: 'kubectl' });
  const onLive = await applyAllStaged(c, [configMap(ns, 'live', { a: '2' })], opts);
  t.deepEqual(actions(onLive), [`skipped ConfigMap/${ns}/live`]);
});

test('a stage of many objects of one kind (read with one LIST): created, configured, unchanged and skipped as one by one', async (t) => {
  const c = adminClient(cp());
  const ns = await newNamespace(cp(), 'many');
  const names = Array.from({ length: 12 }, (_, i) => `cm-${String(i).padStart(2, '0')}`);
  const ann = (k: string, v: string): JsonObject => ({ metadata: { annotations: { [k]: v } } });
  t.true((await applyAllStaged(c, names.slice(0, 4).map((n) => configMap(ns, n, { v: '1' })), opts)).ok);
  // A cluster user disables reconciliation of cm-03 on the live object.
  await c.apply(configMap(ns, 'cm-03', { v: '1' }, ann(RECONCILE_ANNOTATION, 'disabled')), { fieldManager: 'kubectl' });
  const objects = names.map((n, i) =>
    i === 0 ? configMap(ns, n, { v: '2' }) : i === 1 ? configMap(ns, n, { v: '2' }, ann(SSA_ANNOTATION, 'IfNotPresent')) : configMap(ns, n, { v: i === 3 ? '2' : '1' }),
  );
  const res = await applyAllStaged(c, objects, opts);
  t.true(res.ok, JSON.stringify(res));
  t.deepEqual(actions(res), [
    `configured ConfigMap/${ns}/cm-00`,
    `skipped ConfigMap/${ns}/cm-01`,
    `unchanged ConfigMap/${ns}/cm-02`,
    `skipped ConfigMap/${ns}/cm-03`,
    ...names.slice(4).map((n) => `created ConfigMap/${ns}/${n}`),
  ]);
  const data = async (name: string) => {
    const live = await c.get({ apiVersion: 'v1', kind: 'ConfigMap', namespace: ns, name });
    return live.ok ? live.body['data'] : live.status;
  };
  t.deepEqual([await data('cm-00'), await data('cm-01'), await data('cm-03'), await data('cm-11')], [{ v: '2' }, { v: '1' }, { v: '1' }, { v: '1' }]);
  const again = await applyAllStaged(c, objects, opts);
  t.deepEqual(actions(again).filter((a) => !a.startsWith('unchanged')), [`skipped ConfigMap/${ns}/cm-01`, `skipped ConfigMap/${ns}/cm-03`]);
});

test('a ServiceAccount that may get, create and patch but not list: the stage reads its objects one by one', async (t) => {
  const c = adminClient(cp());
  const ns = await newNamespace(cp(), 'nolist');
  const setup = await applyAllStaged(
    c,
    [
      { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'nolist', namespace: ns } },
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'Role',
        metadata: { name: 'cm-writer', namespace: ns },
        rules: [{ apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'create', 'patch'] }],
      },
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'RoleBinding',
        metadata: { name: 'cm-writer', namespace: ns },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'cm-writer' },
        subjects: [{ kind: 'ServiceAccount', name: 'nolist', namespace: ns }],
      },
      configMap(ns, 'cm-0', { v: '0' }),
    ],
    opts,
  );
  t.true(setup.ok, JSON.stringify(setup));
  const sa = c.withImpersonation(`system:serviceaccount:${ns}:nolist`);
  for (let i = 0; i < 50 && (await sa.get({ apiVersion: 'v1', kind: 'ConfigMap', namespace: ns, name: 'cm-0' })).status === 403; i++) {
    await new Promise((r) => setTimeout(r, 100));
  }
  t.is((await sa.list('v1', 'ConfigMap', { namespace: ns })).status, 403);
  const res = await applyAllStaged(sa, Array.from({ length: 10 }, (_, i) => configMap(ns, `cm-${i}`, { v: '0' })), opts);
  t.true(res.ok, JSON.stringify(res));
  t.deepEqual(actions(res), [`unchanged ConfigMap/${ns}/cm-0`, ...Array.from({ length: 9 }, (_, i) => `created ConfigMap/${ns}/cm-${i + 1}`)]);
});

test('immutable change: fails without force, re-creates with force or the force annotation', async (t) => {
  const c = adminClient(cp());
  const ns = await newNamespace(cp(), 'immutable');
  const frozen = (name: string, v: string, extra: JsonObject = {}): JsonObject => configMap(ns, name, { v }, { immutable: true, ...extra });
  t.true((await applyAllStaged(c, [frozen('a', '1'), frozen('b', '1')], opts)).ok);
  const before = await c.get({ apiVersion: 'v1', kind: 'ConfigMap', namespace: ns, name: 'a' });
  if (!before.ok) return t.fail(before.message);

  const denied = await applyAllStaged(c, [frozen('a', '2')], opts);
  t.false(denied.ok);
  if (denied.ok) return;
  t.is(denied.failed.length, 1);
  t.is(denied.failed[0]?.status, 422);
  t.regex(denied.failed[0]?.message ?? '', /ConfigMap\/.+\/a apply failed \(Invalid\): .*field is immutable/);

  const forced = await applyAllStaged(c, [frozen('a', '2')], { ...opts, force: true });
  t.true(forced.ok, JSON.stringify(forced));
  t.deepEqual(actions(forced), [`created ConfigMap/${ns}/a`]);
  const after = await c.get({ apiVersion: 'v1', kind: 'ConfigMap', namespace: ns, name: 'a' });
  if (!after.ok) return t.fail(after.message);
  t.deepEqual(after.body['data'], { v: '2' });
  t.not(uidOf(after.body), uidOf(before.body));

  const annotated = await applyAllStaged(c, [frozen('b', '2', { metadata: { annotations: { [FORCE_ANNOTATION]: 'enabled' } } })], opts);
  t.deepEqual(actions(annotated), [`created ConfigMap/${ns}/b`]);
});

test('unknown kinds and missing namespaces fail with clear messages; other objects of the stage still apply', async (t) => {
  const c = adminClient(cp());
  const ns = await newNamespace(cp(), 'fail');
  const res = await applyAllStaged(
    c,
    [
      { apiVersion: 'nothere.example.com/v1', kind: 'Ghost', metadata: { name: 'g', namespace: ns } },
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'no-ns' }, data: {} },
      configMap(ns, 'fine', { a: '1' }),
    ],
    opts,
  );
  t.false(res.ok);
  if (res.ok) return;
  t.deepEqual(actions(res), [`created ConfigMap/${ns}/fine`]);
  t.deepEqual(
    res.failed.map((f) => f.message),
    [
      'ConfigMap/no-ns: namespace not specified',
      `Ghost/${ns}/g: no matches for kind "Ghost" in version "nothere.example.com/v1" (is its CustomResourceDefinition installed?)`,
    ],
  );
});

test('a failed stage stops the later stages', async (t) => {
  const c = adminClient(cp());
  const ns = await newNamespace(cp(), 'stop');
  const badCrd = crd(`b${rand()}.example.com`, 'Bad');
  (badCrd['metadata'] as JsonObject)['name'] = 'wrong-name.example.com'; // must be <plural>.<group>
  const res = await applyAllStaged(c, [badCrd, configMap(ns, 'later', { a: '1' })], opts);
  t.false(res.ok);
  if (res.ok) return;
  t.is(res.failed.length, 1);
  t.regex(res.failed[0]?.message ?? '', /CustomResourceDefinition\/wrong-name.example.com apply failed \(Invalid\)/);
  t.is((await c.get({ apiVersion: 'v1', kind: 'ConfigMap', namespace: ns, name: 'later' })).status, 404);
});

test('impersonating an RBAC-limited ServiceAccount: 403 result with the API message', async (t) => {
  const c = adminClient(cp());
  const ns = await newNamespace(cp(), 'rbac');
  const setup = await applyAllStaged(
    c,
    [
      { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'limited', namespace: ns } },
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'Role',
        metadata: { name: 'read-cm', namespace: ns },
        rules: [{ apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'list'] }],
      },
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'RoleBinding',
        metadata: { name: 'read-cm', namespace: ns },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'read-cm' },
        subjects: [{ kind: 'ServiceAccount', name: 'limited', namespace: ns }],
      },
    ],
    opts,
  );
  t.true(setup.ok, JSON.stringify(setup));
  const sa = c.withImpersonation(`system:serviceaccount:${ns}:limited`);
  // RBAC changes reach the authorizer's cache asynchronously: wait until the read grant is visible.
  for (let i = 0; i < 50 && (await sa.get({ apiVersion: 'v1', kind: 'ConfigMap', namespace: ns, name: 'x' })).status === 403; i++) {
    await new Promise((r) => setTimeout(r, 100));
  }
  const res = await applyAllStaged(sa, [configMap(ns, 'x', { a: '1' })], opts);
  t.false(res.ok);
  if (res.ok) return;
  t.is(res.failed[0]?.status, 403);
  t.regex(
    res.failed[0]?.message ?? '',
    new RegExp(`ConfigMap/${ns}/x apply failed \\(Forbidden\\): .*User "system:serviceaccount:${ns}:limited" cannot patch resource "configmaps"`),
  );
});

test('workloads: re-applying Deployment, Service and Job is unchanged; a Job template change needs force', async (t) => {
  const c = adminClient(cp());
  const ns = await newNamespace(cp(), 'workloads');
  const job = (image: string): JsonObject => ({
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name: 'migrate', namespace: ns },
    spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'm', image }] } } },
  });
  const svc: JsonObject = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'web', namespace: ns },
    spec: { selector: { app: 'web' }, ports: [{ port: 80, targetPort: 8080 }] },
  };
  const objects = [deployment(ns, 'web'), svc, job('busybox:1')];
  const first = await applyAllStaged(c, objects, opts);
  t.deepEqual(actions(first), [`created Service/${ns}/web`, `created Deployment/${ns}/web`, `created Job/${ns}/migrate`]);
  // The live Service's ports carry defaults (protocol), so its desired list differs: it is applied at once, without a
  // dry-run, and the unchanged resourceVersion of that no-op apply makes it `unchanged`, as the dry-run would.
  const second = await applyAllStaged(c, objects, opts);
  t.true(second.changes.every((e) => e.action === 'unchanged'), actions(second).join(', '));
  // The Deployment kept every field of the manifest (raw JSON, no typed round trip).
  const live = await c.get({ apiVersion: 'apps/v1', kind: 'Deployment', namespace: ns, name: 'web' });
  t.like(live.ok ? live.body : {}, { spec: { template: { spec: { containers: [{ name: 'web', image: 'nginx:1.27' }] } } } });

  const changed = [deployment(ns, 'web'), svc, job('busybox:2')];
  const denied = await applyAllStaged(c, changed, opts);
  t.false(denied.ok);
  t.regex(denied.ok ? '' : (denied.failed[0]?.message ?? ''), /Job\/.+\/migrate apply failed \(Invalid\): .*field is immutable/);
  const forced = await applyAllStaged(c, changed, { ...opts, force: true });
  t.true(forced.ok, JSON.stringify(forced));
  t.deepEqual(
    forced.changes.map((e) => `${e.action} ${e.ref.kind}`),
    ['unchanged Service', 'unchanged Deployment', 'created Job'],
  );
});
