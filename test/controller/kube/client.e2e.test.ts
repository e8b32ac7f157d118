import test from 'ava';
import { KubeClient } from '../../../controller/kube/index.js';
import type { JsonObject, ObjectList } from '../../../controller/kube/index.js';
import { loadKubeConfig } from '../../../controller/kube/kubeconfig.js';
import { newNamespace, useControlPlane } from '../../harness/ava.js';
import { adminClient, certClient, configMap, crd, rand } from './fixtures.js';

const cp = useControlPlane(test);

test('token auth: discovery mapping of core, apps and unknown kinds', async (t) => {
  const c = adminClient(cp());
  t.deepEqual(await c.mapping('v1', 'ConfigMap'), { group: '', version: 'v1', resource: 'configmaps', kind: 'ConfigMap', namespaced: true });
  t.deepEqual(await c.mapping('apps/v1', 'Deployment'), { group: 'apps', version: 'v1', resource: 'deployments', kind: 'Deployment', namespaced: true });
  t.deepEqual(await c.mapping('v1', 'Namespace'), { group: '', version: 'v1', resource: 'namespaces', kind: 'Namespace', namespaced: false });
  t.is(await c.mapping('v1', 'NoSuchKind'), undefined);
  t.is(await c.mapping('nope.example.com/v1', 'Thing'), undefined);
});

test('discovery finds a CRD created at runtime after a cached miss', async (t) => {
  const c = adminClient(cp());
  const group = `g${rand()}.example.com`;
  t.is(await c.mapping(`${group}/v1`, 'Gadget'), undefined);
  const created = await c.apply(crd(group, 'Gadget'), { fieldManager: 'test' });
  t.true(created.ok, JSON.stringify(created));
  let m;
  for (let i = 0; i < 40 && !m; i++) {
    m = await c.mapping(`${group}/v1`, 'Gadget');
    if (!m) await new Promise((r) => setTimeout(r, 250));
  }
  t.deepEqual(m, { group, version: 'v1', resource: 'gadgets', kind: 'Gadget', namespaced: true });
});

test('get, apply (raw JSON, field manager), list and delete', async (t) => {
  const c = adminClient(cp());
  const ns = await newNamespace(cp(), 'client');
  const ref = { apiVersion: 'v1', kind: 'ConfigMap', namespace: ns, name: 'cfg' };
  const missing = await c.get(ref);
  t.false(missing.ok);
  t.is(missing.status, 404);
  t.is(!missing.ok && missing.reason, 'NotFound');
  const applied = await c.apply(configMap(ns, 'cfg', { 'key.with.dots': 'v', empty: '' }), { fieldManager: 'kclrun-test' });
  t.true(applied.ok);
  const got = await c.get(ref);
  if (!got.ok) return t.fail(got.message);
  t.deepEqual(got.body['data'], { 'key.with.dots': 'v', empty: '' });
  const managers = ((got.body['metadata'] as JsonObject)['managedFields'] as JsonObject[]).map((f) => `${f['manager']}/${f['operation']}`);
  t.deepEqual(managers, ['kclrun-test/Apply']);
  const list = await c.list('v1', 'ConfigMap', { namespace: ns });
  if (!list.ok) return t.fail(list.message);
  t.true((list.body as ObjectList).items.some((i) => (i['metadata'] as JsonObject)['name'] === 'cfg'));
  const del = await c.delete(ref);
  t.true(del.ok);
  t.is((await c.get(ref)).status, 404);
});

test('client-certificate auth: an unprivileged user gets a 403 result carrying the API message', async (t) => {
  const c = await certClient(cp(), 'alice', ['devs']);
  const res = await c.list('v1', 'ConfigMap', { namespace: 'default' });
  t.false(res.ok);
  t.is(res.status, 403);
  if (res.ok) return;
  t.is(res.reason, 'Forbidden');
  t.regex(res.message, /User "alice" cannot list resource "configmaps"/);
  // Discovery is open to authenticated users, so the certificate really authenticated.
  t.truthy(await c.mapping('v1', 'ConfigMap'));
});

test('impersonation: Impersonate-User (and groups) reach the API server', async (t) => {
  const ns = await newNamespace(cp(), 'imp');
  const admin = adminClient(cp());
  const asBob = admin.withImpersonation('bob', ['team-a', 'team-b']);
  const ssr = await asBob.request<JsonObject>('POST', '/apis/authentication.k8s.io/v1/selfsubjectreviews', {
    body: { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' },
  });
  if (!ssr.ok) return t.fail(ssr.message);
  const info = (ssr.body['status'] as JsonObject)['userInfo'] as JsonObject;
  t.is(info['username'], 'bob');
  t.deepEqual((info['groups'] as string[]).filter((g) => g.startsWith('team-')), ['team-a', 'team-b']);

  const sa = admin.withImpersonation(`system:serviceaccount:${ns}:deployer`);
  t.is(sa.impersonating, `system:serviceaccount:${ns}:deployer`);
  const denied = await sa.apply(configMap(ns, 'x', { a: 'b' }), { fieldManager: 'kclrun' });
  t.false(denied.ok);
  t.is(denied.status, 403);
  t.regex(!denied.ok ? denied.message : '', new RegExp(`User "system:serviceaccount:${ns}:deployer" cannot patch resource "configmaps"`));
});

test('network failures are results with status 0, not throws', async (t) => {
  const kubeConfig = { context: 'x', cluster: { server: 'https://127.0.0.1:1', insecureSkipTlsVerify: true }, user: { name: 'u', token: 't' } };
  const c = new KubeClient({ kubeConfig, timeoutMs: 2000 });
  const res = await c.request('GET', '/version');
  t.false(res.ok);
  t.is(res.status, 0);
  t.is(!res.ok && res.reason, 'NetworkError');
  t.is(await c.mapping('v1', 'ConfigMap'), undefined);
  const ac = new AbortController();
  ac.abort();
  const aborted = await adminClient(cp()).request('GET', '/version', { signal: ac.signal });
  t.is(!aborted.ok && aborted.reason, 'Aborted');
});

test('beforeSend runs right before each request is sent: a signal it aborts stops that request, and clients for other configs keep it', async (t) => {
  const ns = await newNamespace(cp(), 'fence');
  const ac = new AbortController();
  let calls = 0;
  const fenced = new KubeClient({
    kubeConfig: loadKubeConfig(cp().kubeconfigPath),
    beforeSend: () => {
      calls++;
      if (calls === 2) ac.abort(new Error('lease lost'));
    },
  });
  const first = await fenced.request('POST', `/api/v1/namespaces/${ns}/configmaps`, { body: configMap(ns, 'first', { v: '1' }), signal: ac.signal });
  t.true(first.ok, JSON.stringify(first));
  const second = await fenced.forKubeConfig(loadKubeConfig(cp().kubeconfigPath)).request('POST', `/api/v1/namespaces/${ns}/configmaps`, { body: configMap(ns, 'second', { v: '1' }), signal: ac.signal });
  t.is(calls, 2, 'the client for another kubeconfig ran the same hook');
  t.is(!second.ok && second.reason, 'Aborted');
  // What the API server holds: the first ConfigMap, not the second.
  const admin = adminClient(cp());
  t.true((await admin.get({ apiVersion: 'v1', kind: 'ConfigMap', namespace: ns, name: 'first' })).ok);
  t.is((await admin.get({ apiVersion: 'v1', kind: 'ConfigMap', namespace: ns, name: 'second' })).status, 404);
});

test('the client-side rate limit holds the controller client; the apply client (withoutRateLimit) is not held', async (t) => {
  // One token, then one every ~17 minutes: a second request through the limited client can only wait.
  const limited = new KubeClient({ kubeConfig: loadKubeConfig(cp().kubeconfigPath), rateLimit: { qps: 0.001, burst: 1 } });
  const path = '/api/v1/namespaces/default/configmaps';
  t.true((await limited.request('GET', path)).ok, 'the first request takes the burst token');
  const held = await limited.request('GET', path, { signal: AbortSignal.timeout(300) });
  t.false(held.ok);
  t.is(!held.ok && held.reason, 'Aborted');
  t.regex(!held.ok ? held.message : '', /waiting for the client-side rate limit/);
  const apply = limited.withoutRateLimit();
  for (let i = 0; i < 3; i++) t.true((await apply.request('GET', path, { signal: AbortSignal.timeout(10_000) })).ok, `unlimited request ${i}`);
  t.true((await apply.withImpersonation('system:admin', ['system:masters']).request('GET', path)).ok, 'an impersonating clone stays unlimited');
});

test('watch: events after the listed version arrive as they happen, a selector filters them, the signal or the server timeout ends it; a forbidden watch is a 403 result', async (t) => {
  const ns = await newNamespace(cp(), 'watch');
  const c = adminClient(cp());
  await c.apply(configMap(ns, 'before', { v: '1' }, { metadata: { labels: { w: 'yes' } } }), { fieldManager: 'kclrun' });
  const list = await c.request<ObjectList>('GET', `/api/v1/namespaces/${ns}/configmaps`);
  if (!list.ok) return t.fail(list.message);
  const events: string[] = [];
  const ac = new AbortController();
  const ended = c.watch<JsonObject>(
    `/api/v1/namespaces/${ns}/configmaps`,
    { resourceVersion: (list.body['metadata'] as { resourceVersion: string }).resourceVersion, labelSelector: 'w=yes', signal: ac.signal },
    ({ type, object }) => {
      if (type === 'BOOKMARK') return;
      events.push(`${type} ${String((object['metadata'] as JsonObject)['name'])}`);
      if (events.length === 3) ac.abort();
    },
  );
  await c.apply(configMap(ns, 'unlabelled', { v: '1' }), { fieldManager: 'kclrun' });
  await c.apply(configMap(ns, 'after', { v: '1' }, { metadata: { labels: { w: 'yes' } } }), { fieldManager: 'kclrun' });
  await c.apply(configMap(ns, 'after', { v: '2' }, { metadata: { labels: { w: 'yes' } } }), { fieldManager: 'kclrun' });
  await c.delete({ apiVersion: 'v1', kind: 'ConfigMap', namespace: ns, name: 'after' });
  const end = await ended;
  t.deepEqual(events, ['ADDED after', 'MODIFIED after', 'DELETED after'], 'only what happened after the list, only labelled objects');
  t.like(end, { ok: false, reason: 'Aborted' });
  // The server's own timeout ends a watch normally (the informer then reconnects at once); from no version, what
  // exists comes first as ADDED.
  const added: string[] = [];
  t.like(await c.watch<JsonObject>(`/api/v1/namespaces/${ns}/configmaps`, { timeoutSeconds: 1, labelSelector: 'w=yes' }, (e) => e.type !== 'BOOKMARK' && added.push(`${e.type} ${String((e.object['metadata'] as JsonObject)['name'])}`)), { ok: true });
  t.deepEqual(added, ['ADDED before']);
  const nobody = await certClient(cp(), 'nobody');
  t.like(await nobody.watch(`/api/v1/namespaces/${ns}/configmaps`, {}, () => t.fail('no event for a forbidden watch')), { ok: false, status: 403 });
});
