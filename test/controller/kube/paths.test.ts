/**
 * The API path builder: segments are encoded, and `.`, `..`, `/`, `%` and empty segments are refused in every
 * position (client-go's `IsValidPathSegmentName`). Through a {@link KubeClient}, a refused path is a result
 * (`InvalidPath`) and no request leaves the process — checked against a real HTTP server on loopback, which also
 * receives the valid requests of the same run (the positive control).
 */
import test from 'ava';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeClient } from '../../../controller/kube/client.js';
import { apiPath, InvalidPathSegmentError, pathSegmentProblem, type ApiPath } from '../../../controller/kube/paths.js';
import { readObjectData, requestServiceAccountToken } from '../../../controller/store.js';

/** Values a hostile name field or rendered object could carry. */
const HOSTILE: Array<[string, string]> = [
  ['', 'may not be empty'],
  ['.', "may not be '.'"],
  ['..', "may not be '..'"],
  ['a/b', "may not contain '/'"],
  ['../../other/secrets/top', "may not contain '/'"],
  ['%2e%2e', "may not contain '%'"],
  ['%2E%2e', "may not contain '%'"],
  ['..%2f..%2fother', "may not contain '%'"],
  ['x%00', "may not contain '%'"],
];

for (const [segment, problem] of HOSTILE) {
  test(`pathSegmentProblem(${JSON.stringify(segment)}) = ${problem}`, (t) => {
    t.is(pathSegmentProblem(segment), problem);
  });
}

test('names Kubernetes allows are valid segments', (t) => {
  for (const ok of ['web', 'a.b-c', 'system:controller:foo', '...x', 'x..', '.hidden', 'Ü', 'a b', 'a?b#c', 'a\\b']) {
    t.is(pathSegmentProblem(ok), undefined, ok);
  }
});

const ROLES = ['group', 'version', 'namespace', 'resource', 'name', 'subresource'] as const;
const base: ApiPath = { group: 'apps', version: 'v1', namespace: 'team', resource: 'deployments', name: 'web', subresource: 'status' };

for (const role of ROLES) {
  test(`a refused ${role} throws InvalidPathSegmentError naming the role and the value`, (t) => {
    for (const [segment, problem] of HOSTILE) {
      if (role === 'group' && segment === '') continue; // the core group
      const err = t.throws(() => apiPath({ ...base, [role]: segment }), { instanceOf: InvalidPathSegmentError });
      t.is(err?.role, role);
      t.is(err?.segment, segment);
      t.is(err?.problem, problem);
      t.true(err?.message.includes(problem));
    }
  });
}

test('paths are built from the given parts, each encoded', (t) => {
  t.is(apiPath({ group: '', version: 'v1' }), '/api/v1');
  t.is(apiPath({ group: 'apps', version: 'v1' }), '/apis/apps/v1');
  t.is(apiPath({ group: '', version: 'v1', resource: 'namespaces' }), '/api/v1/namespaces');
  t.is(apiPath({ group: '', version: 'v1', namespace: 'a', resource: 'secrets', name: 'top' }), '/api/v1/namespaces/a/secrets/top');
  t.is(apiPath(base), '/apis/apps/v1/namespaces/team/deployments/web/status');
  t.is(
    apiPath({ group: 'rbac.authorization.k8s.io', version: 'v1', resource: 'clusterroles', name: 'system:a b?#' }),
    '/apis/rbac.authorization.k8s.io/v1/clusterroles/system%3Aa%20b%3F%23',
  );
});

test('a name without a resource, or a subresource without a name, is a programming error', (t) => {
  t.throws(() => apiPath({ group: '', version: 'v1', name: 'x' }), { instanceOf: TypeError });
  t.throws(() => apiPath({ group: '', version: 'v1', resource: 'pods', subresource: 'status' }), { instanceOf: TypeError });
});

/** Discovery of `v1` as the recorder answers it. */
const CORE_V1 = { resources: [{ name: 'configmaps', kind: 'ConfigMap', namespaced: true }, { name: 'secrets', kind: 'Secret', namespaced: true }] };

/** A loopback HTTP server recording the raw request paths it receives (answering discovery of v1, else `{}`). */
async function recorder(): Promise<{ paths: string[]; client: KubeClient; close(): Promise<void> }> {
  const paths: string[] = [];
  const server = http.createServer((req, res) => {
    paths.push(req.url ?? '');
    res.setHeader('Content-Type', 'application/json');
    res.end(req.url === '/api/v1' ? JSON.stringify(CORE_V1) : '{}');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const kubeConfig = {
    context: 'x',
    cluster: { server: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, insecureSkipTlsVerify: false },
    user: { name: 'u', token: 'test' },
  };
  const client = new KubeClient({ kubeConfig, timeoutMs: 5000 });
  return {
    paths,
    client,
    close: async () => {
      client.close();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

test('the client refuses a traversal as a result and sends nothing; valid requests in the same run do arrive', async (t) => {
  const rec = await recorder();
  t.teardown(rec.close);
  const secret = (namespace: string, name: string): ApiPath => ({ group: '', version: 'v1', namespace, resource: 'secrets', name });
  for (const [bad] of HOSTILE) {
    for (const path of [secret('team', bad), secret(bad, 'top')]) {
      const res = await rec.client.request('GET', path);
      t.false(res.ok);
      if (!res.ok) {
        t.is(res.reason, 'InvalidPath');
        t.is(res.status, 0);
      }
    }
  }
  // String paths (fixed paths) that URL resolution would rewrite are refused too.
  for (const raw of ['/api/v1/namespaces/team/secrets/../../other/secrets/top', '/api/v1/namespaces/team/secrets/%2e%2e/x', '/api/v1/namespaces/team/secrets/.\\x']) {
    const res = await rec.client.request('GET', raw);
    t.false(res.ok, raw);
    if (!res.ok) t.is(res.reason, 'InvalidPath');
  }
  t.deepEqual(rec.paths, [], 'no refused request reached the server');

  const good = await rec.client.request('GET', secret('team', 'system:top'));
  t.true(good.ok);
  const list = await rec.client.request('GET', '/api/v1/namespaces/team/secrets');
  t.true(list.ok);
  t.deepEqual(rec.paths, ['/api/v1/namespaces/team/secrets/system%3Atop', '/api/v1/namespaces/team/secrets']);
});

test('get, apply and delete of an object with a hostile name or namespace fail as results', async (t) => {
  const rec = await recorder();
  t.teardown(rec.close);
  const kc = rec.client;
  t.true((await kc.get({ apiVersion: 'v1', kind: 'ConfigMap', namespace: 'team', name: 'ok' })).ok, 'positive control');
  t.deepEqual(rec.paths, ['/api/v1', '/api/v1/namespaces/team/configmaps/ok']);
  rec.paths.length = 0;
  for (const ref of [
    { apiVersion: 'v1', kind: 'ConfigMap', namespace: 'team', name: '..' },
    { apiVersion: 'v1', kind: 'ConfigMap', namespace: '..', name: 'x' },
    { apiVersion: 'a/../../api/v1/namespaces/other/secrets/top', kind: 'Secret', namespace: 'team', name: 'x' },
  ]) {
    const results = [
      await kc.get(ref),
      await kc.delete(ref),
      await kc.apply({ apiVersion: ref.apiVersion, kind: ref.kind, metadata: { name: ref.name, namespace: ref.namespace } }, { fieldManager: 't' }),
    ];
    for (const r of results) t.like(r, { ok: false, status: 0, reason: 'InvalidPath' }, JSON.stringify(ref));
  }
  t.deepEqual(rec.paths, [], 'nothing was sent');
});

test('the store refuses tenant-given names: a ServiceAccount token of another namespace, a foreign Secret', async (t) => {
  const rec = await recorder();
  t.teardown(rec.close);
  // `serviceAccountName` of a configMapRef ConfigMap and argumentsReferences/secretRef names are tenant input.
  for (const bad of ['../../other/serviceaccounts/admin', '..', '%2e%2e', 'a/b']) {
    t.like(await requestServiceAccountToken(rec.client, 'team', bad, []), { ok: false, reason: 'InvalidPath' }, bad);
    t.like(await readObjectData(rec.client, 'Secret', 'team', bad), { ok: false, reason: 'InvalidPath' }, bad);
  }
  t.deepEqual(rec.paths, []);
  t.like(await readObjectData(rec.client, 'ConfigMap', 'team', 'settings'), { ok: true }, 'positive control');
  t.deepEqual(rec.paths, ['/api/v1/namespaces/team/configmaps/settings']);
});
