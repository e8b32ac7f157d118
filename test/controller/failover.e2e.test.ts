/**
 * Failover without overlapping writes, on the real API server: two `kclrun controller` processes with leader
 * election, each authenticating as its own user, so the API server's audit log tells their writes apart by the
 * server's clock. The leader is frozen (SIGSTOP) in the middle of a reconcile — objects applied, health check
 * running — the follower takes the lease and redoes the work, then the old leader is thawed (SIGCONT): it must
 * notice it lost the lease before it sends anything, cancel its reconcile without writing a verdict, and exit 1.
 * Every write of the old leader precedes, in an earlier second, every write of the new one; the new one finishes.
 */
import test from 'ava';
import { auditLog, type AuditedWrite } from '../harness/audit.js';
import { newNamespace, useControlPlane } from '../harness/ava.js';
import { freePort, waitFor } from '../harness/processes.js';
import {
  condition,
  configMapsPackage,
  createObject,
  createKCLRun,
  getKCLRun,
  getObject,
  gitRef,
  gitSource,
  installKCLRunCRD,
  jsonLines,
  readyAt,
  startControllerProcess,
  waitKCLRun,
  type ControllerProcess,
} from './suite.js';

const audit = auditLog();
const cp = useControlPlane(test, { fluxSourceCrds: true, apiServerArgs: audit.apiServerArgs });
test.before('install the KCLRun CRD', async () => installKCLRunCRD(await cp.ready()));

const running = new Set<ControllerProcess>();
test.after.always('stop controller processes and remove the audit log', async () => {
  for (const p of running) if (!p.done) process.kill(p.pid, 'SIGCONT');
  await Promise.all([...running].map((p) => p.stop('SIGKILL')));
  audit.remove();
});

const LEASE = ['--leader-election-lease-duration', '4s', '--leader-election-renew-deadline', '3s', '--leader-election-retry-period', '1s'];
const OBJECTS = 40;

/** A replica authenticating as `user` (a client certificate in system:masters). */
async function replica(user: string, leaseNs: string): Promise<{ user: string; proc: ControllerProcess }> {
  const kubeconfig = await cp().userKubeconfig(user, ['system:masters']);
  const [health, metrics] = [await freePort(), await freePort()];
  const proc = startControllerProcess(
    ['--kubeconfig', kubeconfig, '--health-addr', `127.0.0.1:${health}`, '--metrics-addr', `127.0.0.1:${metrics}`, '--enable-leader-election', '--leader-election-namespace', leaseNs, ...LEASE],
    { KUBECONFIG: '' },
  );
  running.add(proc);
  return { user, proc };
}

const fmt = (ms: number) => new Date(ms).toISOString();

test('a leader frozen mid-reconcile: the follower takes over, the old leader never writes again, and no second holds writes of both', async (t) => {
  t.timeout(150_000);
  const leaseNs = await newNamespace(cp(), 'failover-lease');
  const ns = await newNamespace(cp(), 'failover');
  const leasePath = `/apis/coordination.k8s.io/v1/namespaces/${leaseNs}/leases/kclrun-controller-leader-election`;
  const replicas = [await replica('replica-a', leaseNs), await replica('replica-b', leaseNs)];
  const holder = async () => {
    const id = (await getObject(cp(), leasePath))?.spec?.holderIdentity as string | undefined;
    return replicas.find((r) => id?.split('_')[1] === String(r.proc.pid));
  };
  await waitFor(async () => !!(await holder()), { what: 'a lease holder', timeoutMs: 30_000 });
  const leader = (await holder())!;
  const follower = replicas.find((r) => r !== leader)!;

  // Many objects, then a health check on a ConfigMap "gate" that only this test creates. Writes from here on count
  // (before, the two replicas raced to create the Lease).
  const since = Date.now();
  const maps = Object.fromEntries(Array.from({ length: OBJECTS }, (_, i) => [`cm-${i}`, { v: '1' }]));
  const art = await gitSource(cp(), ns, 'repo', configMapsPackage(maps), 'main@sha1:7777777777777777777777777777777777777777');
  await createKCLRun(cp(), ns, 'app', { sourceRef: gitRef('repo'), timeout: '6s', retryInterval: '1s', healthChecks: [{ kind: 'ConfigMap', name: 'gate' }] });
  const inHealthCheck = (k: Awaited<ReturnType<typeof getKCLRun>>) => !!condition(k, 'Ready')?.message.startsWith(`Running health checks for revision ${art.revision}`);
  await waitKCLRun(cp(), ns, 'app', inHealthCheck, 60_000);
  const writesOf = async (r: { user: string }) => (await audit.writes()).filter((w) => w.user === r.user && w.receivedMs >= since);
  t.true((await writesOf(leader)).some((w) => w.resource === 'configmaps' && w.namespace === ns), 'the leader applied objects');

  // Freeze the leader mid-reconcile. The follower takes the lease once it expires, and redoes the reconcile up to
  // its own health check (four progress writes: fetching, building, detecting drift, running health checks).
  process.kill(leader.proc.pid, 'SIGSTOP');
  await waitFor(async () => (await holder()) === follower, { what: 'the follower to take the lease', timeoutMs: 30_000 });
  const statusWrites = async () => (await writesOf(follower)).filter((w) => w.resource === 'kclruns/status' && w.namespace === ns).length;
  await waitFor(async () => (await statusWrites()) >= 4, { what: 'the follower to reach its health check', timeoutMs: 60_000 });

  // Thaw the old leader, by now past its renew deadline and its health-check timeout: it must stop, not write.
  process.kill(leader.proc.pid, 'SIGCONT');
  const code = await Promise.race([leader.proc.exited, new Promise((r) => setTimeout(() => r('still running'), 20_000).unref())]);
  t.is(code, 1, `the old leader exits 1; its log:\n${leader.proc.stderr().slice(-3000)}`);
  const logs = jsonLines(leader.proc.stderr());
  t.true(logs.some((l) => l.msg === 'leader lease lost'));
  t.true(
    logs.some((l) => l.msg === 'reconciliation cancelled' && l.cause === 'LeaseLost' && (l.kclrun as { name?: string } | undefined)?.name === 'app'),
    'its running reconcile was cancelled',
  );
  t.false(logs.some((l) => l.msg === 'reconciliation failed'), 'no verdict from a replica that lost its lease');

  // The new leader finishes the work once the gate exists.
  await createObject(cp(), `/api/v1/namespaces/${ns}/configmaps`, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'gate' } });
  await waitKCLRun(cp(), ns, 'app', readyAt(art.revision), 60_000);
  for (let i = 0; i < OBJECTS; i++) t.truthy(await getObject(cp(), `/api/v1/namespaces/${ns}/configmaps/cm-${i}`), `cm-${i}`);

  // The audit log: every write of the old leader (its lease included) completed before the first write of the new
  // leader arrived, in an earlier second.
  const old = await writesOf(leader);
  const next = await writesOf(follower);
  const lastOld = Math.max(...old.map((w) => w.completedMs));
  const firstNew = Math.min(...next.map((w) => w.receivedMs));
  const show = (w: AuditedWrite | undefined) => (w ? `${w.verb} ${w.resource} ${w.namespace ?? ''}/${w.name ?? ''} at ${fmt(w.receivedMs)}` : 'none');
  t.log(`old leader: ${old.length} writes, last ${show(old.find((w) => w.completedMs === lastOld))}`);
  t.log(`new leader: ${next.length} writes, first ${show(next.find((w) => w.receivedMs === firstNew))}`);
  t.log(`gap ${Math.round(firstNew - lastOld)} ms`);
  t.true(lastOld < firstNew, 'no write of the old leader after the new leader started writing');
  t.true(Math.floor(lastOld / 1000) < Math.floor(firstNew / 1000), 'not in the same second');
  t.true(next.filter((w) => w.resource === 'configmaps' && w.namespace === ns).length > 0, 'the new leader applied');
});
