/**
 * Remote kubeconfigs on the real API server (controller started WITHOUT --insecure-kubeconfig-exec/-tls):
 * - a tenant's kubeconfig Secret whose exec plugin would create a marker file: the KCLRun fails with a Ready
 *   message naming `exec` and `--insecure-kubeconfig-exec`, the marker never appears, no Secret value reaches status
 *   or Events — while a valid kubeconfig Secret (client certificate data) in the same run applies;
 * - `kubeConfig.configMapRef` (Flux's generic provider): a ServiceAccount token minted for the ConfigMap's
 *   `serviceAccountName` applies to `address`, with that identity (a second ServiceAccount without RBAC is denied);
 *   a plain-http address and a cloud provider are refused with the reason;
 * - the CRD requires exactly one of secretRef and configMapRef.
 */
import test from 'ava';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { newNamespace } from '../harness/ava.js';
import type { ControlPlane } from '../harness/control-plane.js';
import { waitFor } from '../harness/processes.js';
import {
  condition,
  configMapsPackage,
  createKCLRun,
  createObject,
  failedWith,
  getObject,
  gitRef,
  gitSource,
  grantConfigMaps,
  listEvents,
  readyAt,
  useController,
  waitKCLRun,
} from './suite.js';
import type { KCLRunSpec } from '../../controller/api/types.js';

const suite = useController(test);
const markerDir = mkdtempSync(join(tmpdir(), 'kclrun-exec-marker-'));
test.after.always(() => rmSync(markerDir, { recursive: true, force: true }));

const KCLRUNS = (ns: string) => `/apis/krm.kcl.dev.fluxcd/v1alpha1/namespaces/${ns}/kclruns`;

/** Deletes the KCLRuns a test made and waits until the controller has released them. */
async function deleteKCLRuns(cp: ControlPlane, ns: string, names: string[]): Promise<void> {
  for (const name of names) await cp.request('DELETE', `${KCLRUNS(ns)}/${name}`);
  await waitFor(async () => {
    const gone = await Promise.all(names.map(async (n) => (await getObject(cp, `${KCLRUNS(ns)}/${n}`)) === undefined));
    return gone.every(Boolean);
  }, { timeoutMs: 30_000, intervalMs: 100, what: `KCLRuns ${names.join(', ')} deleted` });
}

async function secret(cp: ControlPlane, ns: string, name: string, value: string): Promise<void> {
  await createObject(cp, `/api/v1/namespaces/${ns}/secrets`, { apiVersion: 'v1', kind: 'Secret', metadata: { name }, stringData: { value } });
}

async function grantUserConfigMaps(cp: ControlPlane, ns: string, user: string): Promise<void> {
  await createObject(cp, `/apis/rbac.authorization.k8s.io/v1/namespaces/${ns}/roles`, {
    apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name: 'user-apply' },
    rules: [{ apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'] }],
  });
  await createObject(cp, `/apis/rbac.authorization.k8s.io/v1/namespaces/${ns}/rolebindings`, {
    apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name: 'user-apply' },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'user-apply' },
    subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: user }],
  });
}

test('an exec plugin in a kubeconfig Secret never runs and is named in Ready; a valid kubeconfig Secret applies', async (t) => {
  const { cp } = suite();
  const ns = await newNamespace(cp, 'kubeconfig-exec');
  const revision = 'main@sha1:9999999999999999999999999999999999999999';
  await gitSource(cp, ns, 'repo', configMapsPackage({ 'remote-ok': { v: '1' } }), revision);
  const valid = readFileSync(await cp.userKubeconfig('remote-deployer'), 'utf8');
  await grantUserConfigMaps(cp, ns, 'remote-deployer');
  const keyData = (parse(valid) as { users: Array<{ user: Record<string, string> }> }).users[0]!.user['client-key-data']!;

  const marker = join(markerDir, `marker-${ns}`);
  const evil = parse(valid) as { users: Array<{ user: Record<string, unknown> }> };
  evil.users[0]!.user['exec'] = {
    apiVersion: 'client.authentication.k8s.io/v1beta1',
    command: 'sh',
    args: ['-c', `touch ${marker}; echo '{"apiVersion":"client.authentication.k8s.io/v1beta1","kind":"ExecCredential","status":{"token":"x"}}'`],
  };
  await secret(cp, ns, 'valid', valid);
  await secret(cp, ns, 'evil', stringify(evil));

  const spec = (name: string): KCLRunSpec => ({ sourceRef: gitRef('repo'), kubeConfig: { secretRef: { name } } });
  await createKCLRun(cp, ns, 'good', spec('valid'));
  await createKCLRun(cp, ns, 'bad', spec('evil'));

  // Positive control: the valid kubeconfig Secret applies with its own identity.
  await waitKCLRun(cp, ns, 'good', readyAt(revision));
  t.deepEqual((await getObject(cp, `/api/v1/namespaces/${ns}/configmaps/remote-ok`))?.data, { v: '1' });

  const bad = await waitKCLRun(cp, ns, 'bad', failedWith('ReconciliationFailed'));
  const message = condition(bad, 'Ready')!.message;
  t.true(message.includes(`kubeconfig Secret '${ns}/evil'`), message);
  t.regex(message, /uses exec, /);
  t.true(message.includes('--insecure-kubeconfig-exec'), message);
  // The reconcile got past the point where the client would have run the plugin, and it did not run.
  t.false(existsSync(marker), 'the exec plugin ran inside the controller');

  // The Event is recorded after the status: wait for it rather than race it.
  const named = (e: { involvedObject: { name?: string }; message: string }) => e.involvedObject.name === 'bad' && e.message.includes('--insecure-kubeconfig-exec');
  await waitFor(async () => (await listEvents(cp, ns)).some(named), { what: `an Event on ${ns}/bad naming --insecure-kubeconfig-exec`, timeoutMs: 15_000 });
  const events = await listEvents(cp, ns);
  for (const text of [JSON.stringify(bad.status), ...events.map((e) => e.message)]) t.false(text.includes(keyData), 'no Secret value in status or Events');

  await deleteKCLRuns(cp, ns, ['good', 'bad']);
  t.false(existsSync(marker));
});

test('kubeConfig.configMapRef (generic provider) applies with the named ServiceAccount token; insecure or cloud providers are refused', async (t) => {
  const { cp } = suite();
  const ns = await newNamespace(cp, 'kubeconfig-cm');
  const revision = 'main@sha1:8888888888888888888888888888888888888888';
  await gitSource(cp, ns, 'repo', configMapsPackage({ 'via-token': { v: '2' } }), revision);
  for (const sa of ['remote-sa', 'powerless-sa']) {
    await createObject(cp, `/api/v1/namespaces/${ns}/serviceaccounts`, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: sa } });
  }
  await grantConfigMaps(cp, ns, 'remote-sa');
  const configMap = async (name: string, data: Record<string, string>) =>
    createObject(cp, `/api/v1/namespaces/${ns}/configmaps`, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data });
  const generic = { provider: 'generic', address: cp.server, 'ca.crt': cp.admin.ca };
  await configMap('remote', { ...generic, serviceAccountName: 'remote-sa' });
  await configMap('powerless', { ...generic, serviceAccountName: 'powerless-sa' });
  await configMap('plaintext', { ...generic, address: cp.server.replace('https:', 'http:'), serviceAccountName: 'remote-sa' });
  await configMap('cloud', { ...generic, provider: 'aws', serviceAccountName: 'remote-sa' });

  const spec = (name: string): KCLRunSpec => ({ sourceRef: gitRef('repo'), kubeConfig: { configMapRef: { name } } });
  const names = ['remote', 'powerless', 'plaintext', 'cloud'];
  for (const name of names) await createKCLRun(cp, ns, name, spec(name));

  await waitKCLRun(cp, ns, 'remote', readyAt(revision));
  t.deepEqual((await getObject(cp, `/api/v1/namespaces/${ns}/configmaps/via-token`))?.data, { v: '2' });

  const powerless = await waitKCLRun(cp, ns, 'powerless', failedWith('ReconciliationFailed'));
  t.true(condition(powerless, 'Ready')!.message.includes(`User "system:serviceaccount:${ns}:powerless-sa" cannot`), condition(powerless, 'Ready')!.message);

  const plaintext = await waitKCLRun(cp, ns, 'plaintext', failedWith('ReconciliationFailed'));
  t.regex(condition(plaintext, 'Ready')!.message, new RegExp(`^kubeconfig ConfigMap '${ns}/plaintext': key 'address' uses an http:// server, .*--insecure-kubeconfig-tls`));

  const cloud = await waitKCLRun(cp, ns, 'cloud', failedWith('ReconciliationFailed'));
  t.is(condition(cloud, 'Ready')!.message, `kubeconfig ConfigMap '${ns}/cloud': provider 'aws' is not supported by this controller (supported: generic)`);

  await deleteKCLRuns(cp, ns, names);
});

test('the CRD requires exactly one of kubeConfig.secretRef and kubeConfig.configMapRef', async (t) => {
  const { cp } = suite();
  const ns = await newNamespace(cp, 'kubeconfig-crd');
  for (const kubeConfig of [{}, { secretRef: { name: 'a' }, configMapRef: { name: 'b' } }]) {
    const res = await cp.request('POST', KCLRUNS(ns), {
      body: { apiVersion: 'krm.kcl.dev.fluxcd/v1alpha1', kind: 'KCLRun', metadata: { name: 'x' }, spec: { sourceRef: gitRef('repo'), kubeConfig } },
    });
    t.is(res.status, 422, res.text);
    t.regex(res.text, /exactly one of secretRef and configMapRef must be set/);
  }
});
