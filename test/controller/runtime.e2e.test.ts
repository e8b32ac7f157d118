/**
 * `kclrun controller` as a process against the real API server: health and readiness endpoints, Prometheus metrics
 * after a reconcile, JSON-lines logs on stderr, a prompt exit 0 on SIGTERM; leader election between two processes
 * (exactly one holds the Lease and reconciles; killing it hands over to the other; a leader frozen mid-reconcile
 * never writes again once the other took over, as the API server's audit log shows); `--watch-all-namespaces=false`
 * restricted to RUNTIME_NAMESPACE; bad flags exit 1 with a clear message.
 *
 * Tests are serial: every controller here watches the whole cluster, so two at once would both reconcile.
 */
import test from 'ava';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { auditLog, type AuditedWrite } from '../harness/audit.js';
import { newNamespace, useControlPlane } from '../harness/ava.js';
import { freePort, waitFor } from '../harness/processes.js';
import { repoRoot } from '../harness/tools.js';
import {
  condition,
  configMapsPackage,
  createKCLRun,
  createObject,
  getKCLRun,
  getObject,
  gitSource,
  httpGet,
  installKCLRunCRD,
  jsonLines,
  readyAt,
  startControllerProcess,
  waitKCLRun,
  type ControllerProcess,
} from './suite.js';

const exec = promisify(execFile);
// The audit log tells the replicas' writes apart (each authenticates as its own user) by the server's clock.
const audit = auditLog();
const cp = useControlPlane(test, { fluxSourceCrds: true, apiServerArgs: audit.apiServerArgs });
test.after.always('remove the audit log', () => audit.remove());
test.before('install the KCLRun CRD', async () => installKCLRunCRD(await cp.ready()));

const running = new Set<ControllerProcess>();
// Each test leaves no controller behind (a leftover one would reconcile the next test's objects).
test.afterEach.always('stop controller processes', async () => {
  await Promise.all([...running].map((p) => p.stop('SIGKILL')));
  running.clear();
});

async function controller(args: string[], env: NodeJS.ProcessEnv = {}) {
  const [health, metrics] = [await freePort(), await freePort()];
  const proc = startControllerProcess(
    ['--kubeconfig', cp().kubeconfigPath, '--health-addr', `127.0.0.1:${health}`, '--metrics-addr', `127.0.0.1:${metrics}`, '--min-retry-delay', '200ms', '--http-retry', '1', ...args],
    { KUBECONFIG: '', ...env },
  );
  running.add(proc);
  return { proc, health, metrics };
}

/** Waits for `path` on the health port to answer 200; fails at once, with the log, if the process exits. */
async function waitHttp(proc: ControllerProcess, port: number, path: string): Promise<void> {
  await waitFor(async () => {
    if (proc.done) throw new Error(`controller exited: ${proc.stderr()}`);
    return (await httpGet(port, path)).status === 200;
  }, { what: path, timeoutMs: 30_000 }).catch((err: Error) => {
    throw new Error(`${err.message}\n--- controller stderr\n${proc.stderr().slice(-3000)}`);
  });
}

/** `p`'s value, or 'still running' after `ms` (the timer is cleared, so it never holds the worker open). */
async function within<T>(p: Promise<T>, ms: number): Promise<T | 'still running'> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'still running'>((r) => (timer = setTimeout(() => r('still running'), ms)));
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

const sourceRef = (name: string) => ({ kind: 'GitRepository' as const, name });
let revs = 0;
const rev = () => `main@sha1:${(++revs).toString(16).padStart(40, '0')}`;

/** Waits until `proc` has logged about KCLRun `ns/name` (its stderr arrives asynchronously). */
const waitMention = (proc: ControllerProcess, ns: string, name: string) =>
  waitFor(async () => mentions(proc, ns, name).length > 0, { what: `a log line about ${ns}/${name}`, timeoutMs: 5000 }).then(() => true, () => false);

/** Lines of `proc`'s log that mention KCLRun `ns/name` (the reconciler's log context). */
const mentions = (proc: ControllerProcess, ns: string, name: string) =>
  jsonLines(proc.stderr()).filter((l) => {
    const k = l.kclrun as { name?: string; namespace?: string } | string | undefined;
    return (typeof k === 'object' && k?.name === name && k.namespace === ns) || k === `${ns}/${name}`;
  });

test.serial('health, readiness, metrics after a reconcile, JSON logs, and a prompt exit 0 on SIGTERM', async (t) => {
  const { proc, health, metrics } = await controller([]);
  await waitHttp(proc, health, '/healthz');
  await waitHttp(proc, health, '/readyz');
  t.is((await httpGet(health, '/healthz')).body, 'ok\n');
  t.is((await httpGet(health, '/nope')).status, 404);

  const ns = await newNamespace(cp(), 'rt');
  const art = await gitSource(cp(), ns, 'repo', configMapsPackage({ a: { v: '1' } }), rev());
  await createKCLRun(cp(), ns, 'app', { sourceRef: sourceRef('repo') });
  await waitKCLRun(cp(), ns, 'app', readyAt(art.revision));

  let text = '';
  // A reconcile started by the source's status change may still be running (Ready=Unknown): wait for the end state.
  const readyTrue = `gotk_reconcile_condition{kind="KCLRun",name="app",namespace="${ns}",type="Ready",status="True"} 1`;
  await waitFor(async () => {
    text = (await httpGet(metrics, '/metrics')).body;
    return text.includes(`gotk_reconcile_duration_seconds_count{kind="KCLRun",name="app",namespace="${ns}"}`) && text.includes(readyTrue);
  }, { what: 'metrics for the KCLRun', timeoutMs: 10_000 }).catch(() => undefined);
  t.regex(text, /^# TYPE gotk_reconcile_duration_seconds histogram$/m);
  t.regex(text, new RegExp(`^gotk_reconcile_duration_seconds_count\\{kind="KCLRun",name="app",namespace="${ns}"\\} [1-9]`, 'm'));
  t.regex(text, new RegExp(`^gotk_reconcile_condition\\{kind="KCLRun",name="app",namespace="${ns}",type="Ready",status="True"\\} 1$`, 'm'));
  t.regex(text, /^process_resident_memory_bytes \d+$/m);

  const stopped = Date.now();
  t.is(await proc.stop('SIGTERM'), 0);
  t.true(Date.now() - stopped < 5000, `exit took ${Date.now() - stopped} ms`);
  t.is(proc.stdout(), '', 'nothing on stdout');
  const logs = jsonLines(proc.stderr()); // throws on any non-JSON line
  t.true(logs.length > 0);
  for (const l of logs) {
    t.is(typeof l.msg, 'string');
    t.regex(String(l.level), /^(debug|info|error)$/);
    t.false(Number.isNaN(Date.parse(String(l.ts))));
  }
  t.true(logs.some((l) => l.msg === 'controller started'));
  t.true(mentions(proc, ns, 'app').length > 0);
  t.is(logs.at(-1)?.msg, 'controller stopped');
  t.log(text.split('\n').filter((l) => l.includes(ns)).slice(0, 3).join('\n'));
});

test.serial('SIGINT also exits 0, and an idle controller stops promptly', async (t) => {
  const { proc, health } = await controller([]);
  await waitHttp(proc, health, '/readyz');
  const stopped = Date.now();
  t.is(await proc.stop('SIGINT'), 0);
  t.true(Date.now() - stopped < 5000);
});

const LEASE_FLAGS = ['--leader-election-lease-duration', '4s', '--leader-election-renew-deadline', '3s', '--leader-election-retry-period', '1s'];

test.serial('leader election: one of two replicas holds the Lease and reconciles; killing it hands over', async (t) => {
  t.timeout(80_000);
  const leaseNs = await newNamespace(cp(), 'lease');
  const ns = await newNamespace(cp(), 'le');
  const leasePath = `/apis/coordination.k8s.io/v1/namespaces/${leaseNs}/leases/kclrun-controller-leader-election`;
  const args = ['--enable-leader-election', '--leader-election-namespace', leaseNs, ...LEASE_FLAGS];
  const a = await controller(args);
  const b = await controller(args);
  const holder = async () => (await getObject(cp(), leasePath))?.spec?.holderIdentity as string | undefined;
  await waitFor(async () => !!(await holder()), { what: 'a lease holder', timeoutMs: 20_000 });
  const byPid = (h: string | undefined) => [a, b].find((r) => h?.split('_')[1] === String(r.proc.pid));
  const leader = byPid(await holder());
  t.truthy(leader, `holder ${await holder()} is one of the replicas (${a.proc.pid}, ${b.proc.pid})`);
  const follower = leader === a ? b : a;

  const art = await gitSource(cp(), ns, 'repo', configMapsPackage({ first: { v: '1' } }), rev());
  await createKCLRun(cp(), ns, 'first', { sourceRef: sourceRef('repo') });
  await waitKCLRun(cp(), ns, 'first', readyAt(art.revision));
  // Give the follower time to (wrongly) act, then compare.
  await new Promise((r) => setTimeout(r, 1500));
  t.is(byPid(await holder()), leader, 'leadership is stable while the leader renews');
  t.true(await waitMention(leader!.proc, ns, 'first'), 'the leader reconciled');
  t.deepEqual(mentions(follower.proc, ns, 'first'), [], 'the follower did not');
  t.true(jsonLines(leader!.proc.stderr()).some((l) => l.msg === 'successfully acquired lease'));
  t.false(jsonLines(follower.proc.stderr()).some((l) => l.msg === 'successfully acquired lease'));
  // Both replicas answer readiness (a standby is ready to take over).
  t.is((await httpGet(follower.health, '/readyz')).status, 200);

  // Kill the leader without a chance to release: the follower takes over once the lease expires.
  const killedAt = Date.now();
  await leader!.proc.stop('SIGKILL');
  await waitFor(async () => byPid(await holder()) === follower, { what: 'the follower to take the lease', timeoutMs: 20_000 });
  t.log(`takeover after ${Date.now() - killedAt} ms (lease duration 4s)`);
  const lease = await getObject(cp(), leasePath);
  t.true(lease?.spec.leaseTransitions >= 1);
  const art2 = await gitSource(cp(), ns, 'repo2', configMapsPackage({ second: { v: '2' } }), rev());
  await createKCLRun(cp(), ns, 'second', { sourceRef: sourceRef('repo2') });
  await waitKCLRun(cp(), ns, 'second', readyAt(art2.revision), 20_000);
  t.true(await waitMention(follower.proc, ns, 'second'), `the new leader reconciled; its log:\n${follower.proc.stderr().slice(-4000)}`);
  t.is(await follower.proc.stop('SIGTERM'), 0);
  // A clean shutdown releases the lease so a successor need not wait for it to expire.
  const released = await getObject(cp(), leasePath);
  t.falsy(released?.spec.holderIdentity);
});

test.serial('a leader that loses its lease exits 1 with a JSON log line; a standby stops promptly on SIGTERM', async (t) => {
  const leaseNs = await newNamespace(cp(), 'lost');
  const leasePath = `/apis/coordination.k8s.io/v1/namespaces/${leaseNs}/leases/kclrun-controller-leader-election`;
  const args = ['--enable-leader-election', '--leader-election-namespace', leaseNs, ...LEASE_FLAGS];
  const a = await controller(args);
  await waitFor(async () => String((await getObject(cp(), leasePath))?.spec?.holderIdentity).split('_')[1] === String(a.proc.pid), { what: 'a leads', timeoutMs: 20_000 });
  const b = await controller(args);
  await waitFor(async () => jsonLines(b.proc.stderr()).some((l) => l.msg === 'attempting to acquire leader lease'), { what: 'b campaigns', timeoutMs: 20_000 });
  const t0 = Date.now();
  t.is(await b.proc.stop('SIGTERM'), 0);
  t.true(Date.now() - t0 < 3000, `standby exit took ${Date.now() - t0} ms`);

  // Someone else takes the lease (as after a long network partition): the leader must stop leading and exit.
  const lease = (await getObject(cp(), leasePath))!;
  const now = new Date().toISOString().replace('Z', '000Z');
  const put = await cp().request('PUT', leasePath, { body: { ...lease, spec: { ...lease.spec, holderIdentity: 'thief', renewTime: now, acquireTime: now, leaseDurationSeconds: 60 } } });
  t.true(put.ok, put.text);
  const code = await within(a.proc.exited, 15_000);
  t.is(code, 1);
  const logs = jsonLines(a.proc.stderr());
  t.true(logs.some((l) => l.msg === 'leader lease lost'));
  t.true(logs.some((l) => l.msg === 'controller failed, exiting' && /leader election lost/.test(String(l.error))));
  t.is((await getObject(cp(), leasePath))?.spec.holderIdentity, 'thief', 'the lease was not taken back');
});

test.serial('a leader frozen mid-reconcile: the follower takes over, the old leader never writes again, and no second holds writes of both', async (t) => {
  t.timeout(150_000);
  const leaseNs = await newNamespace(cp(), 'failover-lease');
  const ns = await newNamespace(cp(), 'failover');
  const leasePath = `/apis/coordination.k8s.io/v1/namespaces/${leaseNs}/leases/kclrun-controller-leader-election`;
  // Each replica authenticates as its own user (a client certificate in system:masters).
  const replica = async (user: string) => {
    const { proc } = await controller(['--kubeconfig', await cp().userKubeconfig(user, ['system:masters']), '--enable-leader-election', '--leader-election-namespace', leaseNs, ...LEASE_FLAGS]);
    return { user, proc };
  };
  const replicas = [await replica('replica-a'), await replica('replica-b')];
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
  const objects = 40;
  const maps = Object.fromEntries(Array.from({ length: objects }, (_, i) => [`cm-${i}`, { v: '1' }]));
  const art = await gitSource(cp(), ns, 'repo', configMapsPackage(maps), rev());
  await createKCLRun(cp(), ns, 'app', { sourceRef: sourceRef('repo'), timeout: '6s', retryInterval: '1s', healthChecks: [{ kind: 'ConfigMap', name: 'gate' }] });
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
  t.is(await within(leader.proc.exited, 20_000), 1, `the old leader exits 1; its log:\n${leader.proc.stderr().slice(-3000)}`);
  const logs = jsonLines(leader.proc.stderr());
  t.true(logs.some((l) => l.msg === 'leader lease lost'));
  t.true(logs.some((l) => l.msg === 'reconciliation cancelled' && l.cause === 'LeaseLost' && (l.kclrun as { name?: string } | undefined)?.name === 'app'), 'its reconcile was cancelled');
  t.false(logs.some((l) => l.msg === 'reconciliation failed'), 'no verdict from a replica that lost its lease');

  // The new leader finishes the work once the gate exists.
  await createObject(cp(), `/api/v1/namespaces/${ns}/configmaps`, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'gate' } });
  await waitKCLRun(cp(), ns, 'app', readyAt(art.revision), 60_000);
  for (let i = 0; i < objects; i++) t.truthy(await getObject(cp(), `/api/v1/namespaces/${ns}/configmaps/cm-${i}`), `cm-${i}`);

  // The audit log: every write of the old leader (its lease included) completed before the first write of the new
  // leader arrived, in an earlier second.
  const old = await writesOf(leader);
  const next = await writesOf(follower);
  const lastOld = Math.max(...old.map((w) => w.completedMs));
  const firstNew = Math.min(...next.map((w) => w.receivedMs));
  const show = (w: AuditedWrite | undefined) => (w ? `${w.verb} ${w.resource} ${w.namespace ?? ''}/${w.name ?? ''} at ${new Date(w.receivedMs).toISOString()}` : 'none');
  t.log(`old leader: ${old.length} writes, last ${show(old.find((w) => w.completedMs === lastOld))}`);
  t.log(`new leader: ${next.length} writes, first ${show(next.find((w) => w.receivedMs === firstNew))}; gap ${Math.round(firstNew - lastOld)} ms`);
  const late = old.filter((w) => w.completedMs >= firstNew).map((w) => `${show(w)} (completed ${new Date(w.completedMs).toISOString()})`);
  t.deepEqual(late, [], 'no write of the old leader completed after the new leader started writing');
  t.true(lastOld < firstNew);
  t.true(Math.floor(lastOld / 1000) < Math.floor(firstNew / 1000), 'not in the same second');
  t.true(next.some((w) => w.resource === 'configmaps' && w.namespace === ns), 'the new leader applied');
});

test.serial('a controller that cannot start (no KCLRun API in a namespace it may not list) exits 1 with a JSON log line', async (t) => {
  // A user with no RBAC at all: the initial list of KCLRuns is forbidden, so the manager cannot start.
  const kubeconfig = await cp().userKubeconfig('nobody');
  const { proc } = await controller(['--kubeconfig', kubeconfig]);
  const code = await within(proc.exited, 30_000);
  t.is(code, 1);
  const logs = jsonLines(proc.stderr());
  t.regex(String(logs.at(-1)?.error ?? logs.find((l) => l.msg === 'unable to start the controller')?.error), /forbidden/);
});

test.serial('--watch-all-namespaces=false watches only RUNTIME_NAMESPACE', async (t) => {
  const mine = await newNamespace(cp(), 'mine');
  const other = await newNamespace(cp(), 'other');
  const artOther = await gitSource(cp(), other, 'repo', configMapsPackage({ o: { v: '1' } }), rev());
  const artMine = await gitSource(cp(), mine, 'repo', configMapsPackage({ m: { v: '1' } }), rev());
  await createKCLRun(cp(), other, 'app', { sourceRef: sourceRef('repo') });
  const { proc } = await controller(['--watch-all-namespaces=false'], { RUNTIME_NAMESPACE: mine });
  await createKCLRun(cp(), mine, 'app', { sourceRef: sourceRef('repo') });
  await waitKCLRun(cp(), mine, 'app', readyAt(artMine.revision));
  await new Promise((r) => setTimeout(r, 1000));
  const untouched = await getKCLRun(cp(), other, 'app');
  t.is(untouched?.status, undefined, 'no status in the other namespace');
  t.is(untouched?.metadata.finalizers, undefined);
  t.is(await getObject(cp(), `/api/v1/namespaces/${other}/configmaps/o`), undefined);
  t.not(artOther.revision, artMine.revision);
  t.true(jsonLines(proc.stderr()).some((l) => l.msg === 'controller started' && l.namespace === mine));
  t.is(await proc.stop(), 0);
});

const badFlags: Array<[string[], RegExp]> = [
  [['--concurrent', 'abc'], /--concurrent: expected a positive integer, got "abc"/],
  [['--concurrent', '0'], /--concurrent: expected a positive integer, got "0"/],
  [['--log-level', 'verbose'], /--log-level must be one of/],
  [['--bogus'], /Unknown option '--bogus'/],
  [['--leader-election-lease-duration', '5parsecs'], /--leader-election-lease-duration: invalid duration "5parsecs"/],
  [['--requeue-dependency', '10'], /--requeue-dependency: invalid duration "10"/],
  [['--http-timeout', '0s'], /--http-timeout: must be longer than 0s/],
  [['--health-addr', 'nonsense'], /--health-addr: invalid address "nonsense"/],
  [['--metrics-addr', '127.0.0.1:99999'], /--metrics-addr: invalid address "127\.0\.0\.1:99999"/],
  [['--watch-all-namespaces=maybe'], /--watch-all-namespaces/],
  [['--log-encoding', 'xml'], /--log-encoding must be one of json, console, got "xml"/],
  [['--kubeconfig', '/nonexistent/kubeconfig'], /--kubeconfig: cannot load \/nonexistent\/kubeconfig/],
  [['--enable-leader-election', '--leader-election-renew-deadline', '10s', '--leader-election-lease-duration', '5s'], /renew deadline .* must be shorter than the lease duration/],
  [['--watch-all-namespaces=false'], /RUNTIME_NAMESPACE, which is not set/],
  [['--render-memory-limit', 'lots'], /--render-memory-limit: invalid size "lots" \(e\.g\. 512Mi/],
  [['--render-timeout', '0s'], /--render-timeout: must be longer than 0s/],
  [['--watch-label-selector', 'sharding.fluxcd.io/key in (shard1'], /--watch-label-selector: invalid label selector "sharding\.fluxcd\.io\/key in \(shard1"/],
  [['--watch-label-selector', 'sharding.fluxcd.io/key=has space'], /--watch-label-selector: invalid label selector/],
];
for (const [args, message] of badFlags) {
  test(`bad flags exit 1 with a clear message: ${args.join(' ')}`, async (t) => {
    const bin = join(repoRoot(), 'bin', 'kclrun');
    const err = await exec(process.execPath, [bin, 'controller', ...args], { timeout: 15_000, env: { ...process.env, KUBECONFIG: cp().kubeconfigPath, RUNTIME_NAMESPACE: '' } }).then(
      () => undefined,
      (e: { code?: number; stderr?: string; killed?: boolean }) => e,
    );
    t.truthy(err, 'the command failed');
    t.false(err?.killed, 'exited by itself');
    t.is(err?.code, 1);
    t.regex(err?.stderr ?? '', message);
    t.is(err?.stderr?.trim().split('\n').length, 1, 'one line');
  });
}
