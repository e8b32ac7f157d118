/**
 * `kclrun install` against the real API server: `kclrun install | kubectl apply --server-side -f -` creates the CRD,
 * namespace, ServiceAccount, RBAC and Deployment; `kubectl auth can-i --as` shows the controller's ServiceAccount can
 * do what the controller does and nothing like cluster-admin, and the namespace's default ServiceAccount gets nothing;
 * the Deployment is hardened, probed and tagged with `kclrun --version`'s version. Then the controller runs as a
 * process with exactly that ServiceAccount's identity (kubeconfig `as:`) and leader election as in the Deployment,
 * and a KCLRun reconciles Ready — proof that the RBAC is sufficient.
 */
import test from 'ava';
import { execFile, spawn } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { newNamespace, useControlPlane } from '../harness/ava.js';
import { freePort } from '../harness/processes.js';
import { repoRoot } from '../harness/tools.js';
import {
  condition,
  configMapsPackage,
  createKCLRun,
  getObject,
  gitSource,
  httpGet,
  impersonatingKubeconfig,
  jsonLines,
  readyAt,
  startControllerProcess,
  waitKCLRun,
  type ControllerProcess,
} from './suite.js';

const exec = promisify(execFile);
const KUBECTL = '/usr/bin/kubectl';
const BIN = join(repoRoot(), 'bin', 'kclrun');
const SA = 'system:serviceaccount:kclrun-system:kclrun-controller';
const cp = useControlPlane(test, { fluxSourceCrds: true });

let applied: { stdout: string; stderr: string } | undefined;
let installYaml = '';
test.before('kclrun install | kubectl apply --server-side -f -', async (t) => {
  t.timeout(120_000);
  const c = await cp.ready();
  installYaml = (await exec(process.execPath, [BIN, 'install'])).stdout;
  applied = await new Promise((resolve, reject) => {
    const p = spawn(KUBECTL, ['--kubeconfig', c.kubeconfigPath, 'apply', '--server-side', '-f', '-'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    p.on('exit', (code) => (code === 0 ? resolve({ stdout, stderr }) : reject(new Error(`kubectl apply exited ${code}: ${stderr}`))));
    p.stdin.end(installYaml);
  });
});

async function canI(as: string, ...args: string[]): Promise<boolean> {
  try {
    const { stdout } = await exec(KUBECTL, ['--kubeconfig', cp().kubeconfigPath, 'auth', 'can-i', `--as=${as}`, ...args]);
    return stdout.trim() === 'yes';
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string };
    if (e.stdout?.trim().startsWith('no')) return false;
    throw new Error(`kubectl auth can-i ${args.join(' ')}: ${e.stderr ?? String(err)}`);
  }
}

test('the install creates the CRD, namespace, ServiceAccount, RBAC and Deployment', async (t) => {
  t.truthy(applied);
  const lines = applied!.stdout.trim().split('\n');
  t.deepEqual(lines.map((l) => l.replace(/ serverside-applied$/, '')).sort(), [
    'clusterrole.rbac.authorization.k8s.io/kclrun-controller-manager',
    'clusterrole.rbac.authorization.k8s.io/kclrun-controller-reconciler',
    'clusterrolebinding.rbac.authorization.k8s.io/kclrun-controller-manager',
    'clusterrolebinding.rbac.authorization.k8s.io/kclrun-controller-reconciler',
    'customresourcedefinition.apiextensions.k8s.io/kclruns.krm.kcl.dev.fluxcd',
    'deployment.apps/kclrun-controller',
    'namespace/kclrun-system',
    'role.rbac.authorization.k8s.io/kclrun-controller-leader-election',
    'rolebinding.rbac.authorization.k8s.io/kclrun-controller-leader-election',
    'serviceaccount/kclrun-controller',
  ]);
  for (const path of [
    '/apis/apiextensions.k8s.io/v1/customresourcedefinitions/kclruns.krm.kcl.dev.fluxcd',
    '/api/v1/namespaces/kclrun-system',
    '/api/v1/namespaces/kclrun-system/serviceaccounts/kclrun-controller',
    '/apis/rbac.authorization.k8s.io/v1/clusterroles/kclrun-controller-manager',
    '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/kclrun-controller-reconciler',
    '/apis/rbac.authorization.k8s.io/v1/namespaces/kclrun-system/roles/kclrun-controller-leader-election',
    '/apis/rbac.authorization.k8s.io/v1/namespaces/kclrun-system/rolebindings/kclrun-controller-leader-election',
    '/apis/apps/v1/namespaces/kclrun-system/deployments/kclrun-controller',
  ]) {
    t.truthy(await getObject(cp(), path), path);
  }
  // Applying again is a no-op (idempotent install/upgrade).
  const again = await exec('sh', ['-c', `"${process.execPath}" "${BIN}" install | ${KUBECTL} --kubeconfig "${cp().kubeconfigPath}" apply --server-side -f -`]);
  t.regex(again.stdout, /deployment\.apps\/kclrun-controller serverside-applied/);
});

test('kclrun install --shard: the API server accepts the main and one Deployment per shard (server-side dry run)', async (t) => {
  const out = await exec('sh', ['-c', `"${process.execPath}" "${BIN}" install --shard shard1 --shard shard2 | ${KUBECTL} --kubeconfig "${cp().kubeconfigPath}" apply --server-side --dry-run=server -f -`]);
  for (const name of ['kclrun-controller', 'kclrun-controller-shard1', 'kclrun-controller-shard2']) {
    t.regex(out.stdout, new RegExp(`deployment\\.apps/${name} serverside-applied \\(server dry run\\)`));
  }
  const bad = await exec(process.execPath, [BIN, 'install', '--shard', 'Not A Name']).then(() => undefined, (e: { code?: number; stderr?: string }) => e);
  t.is(bad?.code, 1);
  t.regex(bad?.stderr ?? '', /--shard: invalid name "Not A Name"/);
});

const allowed: Array<[string, string[]]> = [
  ['get kclruns', ['get', 'kclruns.krm.kcl.dev.fluxcd', '-A']],
  ['list kclruns', ['list', 'kclruns.krm.kcl.dev.fluxcd', '-A']],
  ['watch kclruns', ['watch', 'kclruns.krm.kcl.dev.fluxcd', '-A']],
  ['patch kclruns/status', ['patch', 'kclruns.krm.kcl.dev.fluxcd', '--subresource=status', '-n', 'team']],
  ['update kclruns/finalizers', ['update', 'kclruns.krm.kcl.dev.fluxcd', '--subresource=finalizers', '-n', 'team']],
  ['list gitrepositories', ['list', 'gitrepositories.source.toolkit.fluxcd.io', '-A']],
  ['watch ocirepositories', ['watch', 'ocirepositories.source.toolkit.fluxcd.io', '-A']],
  ['watch buckets', ['watch', 'buckets.source.toolkit.fluxcd.io', '-A']],
  ['get secrets', ['get', 'secrets', '-n', 'team']],
  ['get configmaps', ['get', 'configmaps', '-n', 'team']],
  ['create events', ['create', 'events', '-n', 'team']],
  ['create leases in kclrun-system', ['create', 'leases.coordination.k8s.io', '-n', 'kclrun-system']],
  ['update leases in kclrun-system', ['update', 'leases.coordination.k8s.io', '-n', 'kclrun-system']],
  ['impersonate serviceaccounts', ['impersonate', 'serviceaccounts', '-n', 'team']],
  ['apply deployments', ['patch', 'deployments.apps', '-n', 'team']],
  ['apply services', ['patch', 'services', '-n', 'team']],
  ['apply configmaps', ['patch', 'configmaps', '-n', 'team']],
  ['create configmaps', ['create', 'configmaps', '-n', 'team']],
  ['delete configmaps (prune)', ['delete', 'configmaps', '-n', 'team']],
];
const denied: Array<[string, string[]]> = [
  ['everything', ['*', '*']],
  ['everything in a namespace', ['*', '*', '-n', 'team']],
  ['create clusterrolebindings', ['create', 'clusterrolebindings.rbac.authorization.k8s.io']],
  ['escalate clusterroles', ['escalate', 'clusterroles.rbac.authorization.k8s.io']],
  ['bind clusterroles', ['bind', 'clusterroles.rbac.authorization.k8s.io']],
  ['delete nodes', ['delete', 'nodes']],
  ['create pods/exec', ['create', 'pods', '--subresource=exec', '-n', 'team']],
  ['impersonate users', ['impersonate', 'users']],
  ['impersonate groups', ['impersonate', 'groups']],
  ['create leases outside kclrun-system', ['create', 'leases.coordination.k8s.io', '-n', 'default']],
  ['delete customresourcedefinitions', ['delete', 'customresourcedefinitions.apiextensions.k8s.io']],
  ['update gitrepositories (sources are read-only)', ['update', 'gitrepositories.source.toolkit.fluxcd.io', '-n', 'team']],
  ['create serviceaccounts/token', ['create', 'serviceaccounts', '--subresource=token', '-n', 'team']],
];

for (const [what, args] of allowed) {
  test(`the controller's ServiceAccount can ${what}`, async (t) => {
    t.true(await canI(SA, ...args));
  });
}
for (const [what, args] of denied) {
  test(`the controller's ServiceAccount cannot ${what}`, async (t) => {
    t.false(await canI(SA, ...args));
  });
}

test('the default ServiceAccount of kclrun-system gets nothing', async (t) => {
  const dflt = 'system:serviceaccount:kclrun-system:default';
  for (const args of [
    ['get', 'kclruns.krm.kcl.dev.fluxcd', '-A'],
    ['list', 'secrets', '-n', 'kclrun-system'],
    ['create', 'leases.coordination.k8s.io', '-n', 'kclrun-system'],
    ['patch', 'deployments.apps', '-n', 'team'],
    ['list', 'gitrepositories.source.toolkit.fluxcd.io', '-A'],
    ['impersonate', 'serviceaccounts'],
    ['*', '*'],
  ]) {
    t.false(await canI(dflt, ...args), args.join(' '));
  }
});

test('the Deployment is non-root, read-only, probed on /healthz and /readyz, and tagged with kclrun --version', async (t) => {
  const d = (await getObject(cp(), '/apis/apps/v1/namespaces/kclrun-system/deployments/kclrun-controller'))!;
  const pod = d.spec.template.spec;
  const c = pod.containers[0];
  const { stdout } = await exec(process.execPath, [BIN, '--version']);
  const version = /^kclrun (\S+)$/m.exec(stdout)?.[1];
  t.truthy(version);
  t.is(c.image.split(':').at(-1), version);
  t.is(d.metadata.labels['app.kubernetes.io/version'], version);
  t.is(pod.serviceAccountName, 'kclrun-controller');
  t.true(pod.securityContext.runAsNonRoot);
  t.true(pod.securityContext.runAsUser > 0);
  t.is(pod.securityContext.seccompProfile.type, 'RuntimeDefault');
  t.true(c.securityContext.readOnlyRootFilesystem);
  t.false(c.securityContext.allowPrivilegeEscalation);
  t.deepEqual(c.securityContext.capabilities.drop, ['ALL']);
  t.deepEqual(c.livenessProbe.httpGet, { path: '/healthz', port: 'healthz', scheme: 'HTTP' });
  t.deepEqual(c.readinessProbe.httpGet, { path: '/readyz', port: 'healthz', scheme: 'HTTP' });
  t.deepEqual(c.ports.map((p: { name: string; containerPort: number }) => [p.name, p.containerPort]), [['http-prom', 8080], ['healthz', 9440]]);
  t.true(c.volumeMounts.some((m: { mountPath: string }) => m.mountPath === '/tmp'));
  t.deepEqual(c.env.find((e: { name: string }) => e.name === 'RUNTIME_NAMESPACE')?.valueFrom, { fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } });
  t.true(c.args.includes('--enable-leader-election'));
  // The pod template passes the namespace's `restricted` Pod Security level (dry-run through admission).
  const res = await cp().request<{ message?: string }>('POST', '/api/v1/namespaces/kclrun-system/pods', {
    query: { dryRun: 'All' },
    body: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'pss-check', labels: d.spec.template.metadata.labels }, spec: pod },
  });
  t.true(res.ok, res.text);
});

let controller: ControllerProcess | undefined;
test.after.always('stop the controller process', async () => {
  await controller?.stop('SIGKILL');
});

test('the controller, running as the install ServiceAccount with leader election, reconciles a KCLRun to Ready', async (t) => {
  t.timeout(60_000);
  const kubeconfig = await impersonatingKubeconfig(cp(), SA);
  // The impersonating kubeconfig is really that identity.
  const who = await exec(KUBECTL, ['--kubeconfig', kubeconfig, 'auth', 'can-i', 'create', 'clusterrolebindings']).catch((e: { stdout: string }) => e);
  t.is(who.stdout.trim(), 'no');

  const ns = await newNamespace(cp(), 'installed');
  const art = await gitSource(cp(), ns, 'repo', configMapsPackage({ hello: { greeting: 'hi' } }), 'main@sha1:1234567890123456789012345678901234567890');
  const [health, metrics] = [await freePort(), await freePort()];
  controller = startControllerProcess(
    ['--kubeconfig', kubeconfig, '--enable-leader-election', '--health-addr', `127.0.0.1:${health}`, '--metrics-addr', `127.0.0.1:${metrics}`, '--leader-election-retry-period', '1s'],
    { RUNTIME_NAMESPACE: 'kclrun-system', KUBECONFIG: '' },
  );
  await createKCLRun(cp(), ns, 'app', { sourceRef: { kind: 'GitRepository', name: 'repo' } });
  let k;
  try {
    k = await waitKCLRun(cp(), ns, 'app', readyAt(art.revision), 40_000);
  } catch (err) {
    t.log(controller.stderr().split('\n').slice(-20).join('\n'));
    throw err;
  }
  t.is(condition(k, 'Ready')?.reason, 'ReconciliationSucceeded');
  const cm = await getObject(cp(), `/api/v1/namespaces/${ns}/configmaps/hello`);
  t.deepEqual(cm?.data, { greeting: 'hi' });
  const lease = await getObject(cp(), '/apis/coordination.k8s.io/v1/namespaces/kclrun-system/leases/kclrun-controller-leader-election');
  t.truthy(lease?.spec.holderIdentity);
  // Every request was made as the ServiceAccount: the status and the objects' managers are the SA's.
  const logs = jsonLines(controller.stderr());
  t.false(logs.some((l) => l.level === 'error' && /forbidden/i.test(JSON.stringify(l))), controller.stderr());
  t.is((await httpGet(health, '/readyz')).status, 200);

  // And it is that identity, not the admin behind it: a kind the install does not grant is forbidden for it.
  await gitSource(cp(), ns, 'rbac', {
    'kcl.mod': '[package]\nname = "rbac"\nversion = "0.0.1"\n',
    'main.k': 'items = [{apiVersion = "rbac.authorization.k8s.io/v1", kind = "Role", metadata.name = "r", rules = []}]\n',
  }, 'main@sha1:abababababababababababababababababababab');
  await createKCLRun(cp(), ns, 'rbac', { sourceRef: { kind: 'GitRepository', name: 'rbac' } });
  const denied = await waitKCLRun(cp(), ns, 'rbac', (x) => condition(x, 'Ready')?.status === 'False', 30_000);
  t.log(`${condition(denied, 'Ready')?.reason}: ${condition(denied, 'Ready')?.message}`);
  t.regex(condition(denied, 'Ready')!.message, /forbidden/i);
  t.regex(condition(denied, 'Ready')!.message, /system:serviceaccount:kclrun-system:kclrun-controller/);
  t.is(await getObject(cp(), `/apis/rbac.authorization.k8s.io/v1/namespaces/${ns}/roles/r`), undefined);

  t.is(await controller.stop(), 0);
});
