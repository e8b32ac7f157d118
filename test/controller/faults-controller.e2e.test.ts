/**
 * Faults of the controller process itself (`bin/kclrun controller`):
 * - SIGKILL mid-apply of a 200-object KCLRun, Git then drops 50 objects, a new process starts: it converges to
 *   exactly what Git says — the objects the killed run applied are in the inventory or pruned, never orphaned, and
 *   no still-rendered object is deleted.
 * - Leader failover under load: two replicas, 50 KCLRuns reconciling, the leader SIGKILLed; the follower takes the
 *   Lease once it expires and finishes every KCLRun.
 *
 * Own control plane; serial (every controller here watches the whole cluster).
 */
import test from 'ava';
import { newNamespace, useControlPlane } from '../harness/ava.js';
import { freePort, waitFor } from '../harness/processes.js';
import {
  configMapsPackage, createKCLRun, getObject, gitRef, gitSource, installKCLRunCRD, readyAt, setArtifact, startControllerProcess, waitKCLRun,
  type ControllerProcess,
} from './suite.js';
import { assertExact, configMapId, configMapNames, maps, names, waitSomeApplied } from './faults.js';
import type { KCLRun } from '../../controller/api/types.js';

const cp = useControlPlane(test, { fluxSourceCrds: true });
test.before('install the KCLRun CRD', async () => installKCLRunCRD(await cp.ready()));

const running = new Set<ControllerProcess>();
test.afterEach.always('stop controller processes', async () => {
  await Promise.all([...running].map((p) => p.stop('SIGKILL')));
  running.clear();
});

async function controller(args: string[] = []): Promise<ControllerProcess> {
  const [health, metrics] = [await freePort(), await freePort()];
  const proc = startControllerProcess(
    ['--kubeconfig', cp().kubeconfigPath, '--health-addr', `127.0.0.1:${health}`, '--metrics-addr', `127.0.0.1:${metrics}`, '--min-retry-delay', '200ms', '--max-retry-delay', '2s', '--http-retry', '1', '--log-level', 'error', ...args],
    { KUBECONFIG: '' },
  );
  running.add(proc);
  return proc;
}

let revs = 0;
const rev = () => `main@sha1:${(++revs).toString(16).padStart(40, 'd')}`;

test.serial('controller SIGKILLed mid-apply, Git drops 50 objects, restart: converges, nothing orphaned, nothing rendered deleted', async (t) => {
  t.timeout(240_000);
  const ns = await newNamespace(cp(), 'kill');
  const all = names('cm', 200);
  const first = await controller();
  await gitSource(cp(), ns, 'repo', configMapsPackage(maps(all, '1')), rev());
  await createKCLRun(cp(), ns, 'app', { sourceRef: gitRef('repo'), interval: '60s' });
  const applied = await waitSomeApplied(cp(), ns, 10);
  await first.stop('SIGKILL');
  const orphansIfLost = await configMapNames(cp(), ns);
  t.log(`controller killed with ${applied} (finally ${orphansIfLost.length}) of 200 ConfigMaps applied`);

  // Git moves on without 50 of them, among them ones the killed run applied (it applies in name order).
  const droppedApplied = orphansIfLost.filter((_, i) => i % 2 === 1);
  const kept = all.filter((n) => !droppedApplied.includes(n)).slice(0, 150);
  const r2 = await setArtifact(cp(), ns, 'repo', configMapsPackage(maps(kept, '2')), rev());
  const restarted = Date.now();
  await controller();
  // While converging, no still-rendered object ever disappears.
  let deletedRendered: string[] = [];
  let done = false;
  const watchRendered = (async () => {
    const seen = new Set<string>();
    while (!done) {
      const now = new Set(await configMapNames(cp(), ns));
      for (const n of seen) if (kept.includes(n) && !now.has(n)) deletedRendered.push(n);
      for (const n of now) seen.add(n);
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  await waitKCLRun(cp(), ns, 'app', readyAt(r2.revision), 120_000).finally(() => (done = true));
  await watchRendered;
  t.log(`converged ${Date.now() - restarted} ms after the restart`);
  t.deepEqual(deletedRendered, [], 'no still-rendered object was deleted');
  await assertExact(t, cp(), ns, 'app', kept, '2');
  t.true(droppedApplied.length > 0, 'Git dropped objects the killed run had applied');
  t.log(`${droppedApplied.length} objects the killed run applied were dropped by Git and pruned`);
});

const LEASE_MS = 4000;
const LEASE_FLAGS = ['--leader-election-lease-duration', '4s', '--leader-election-renew-deadline', '3s', '--leader-election-retry-period', '1s'];

test.serial('leader SIGKILLed while 50 KCLRuns reconcile: the follower takes over within the lease duration and finishes them', async (t) => {
  t.timeout(300_000);
  const leaseNs = await newNamespace(cp(), 'lease');
  const ns = await newNamespace(cp(), 'failover');
  const leasePath = `/apis/coordination.k8s.io/v1/namespaces/${leaseNs}/leases/kclrun-controller-leader-election`;
  const args = ['--enable-leader-election', '--leader-election-namespace', leaseNs, ...LEASE_FLAGS];
  const a = await controller(args);
  const b = await controller(args);
  const holder = async () => String((await getObject(cp(), leasePath))?.spec?.holderIdentity ?? '');
  const byPid = (h: string) => [a, b].find((p) => h.split('_')[1] === String(p.pid));
  await waitFor(async () => !!byPid(await holder()), { what: 'a lease holder', timeoutMs: 30_000 });
  const leader = byPid(await holder())!;
  const follower = leader === a ? b : a;

  const count = 50;
  const revisions: string[] = [];
  for (let i = 0; i < count; i++) {
    revisions.push((await gitSource(cp(), ns, `repo-${i}`, configMapsPackage(maps(names(`app-${i}`, 4), '1')), rev())).revision);
    await createKCLRun(cp(), ns, `app-${i}`, { sourceRef: gitRef(`repo-${i}`), interval: '10m' });
  }
  const list = async () => (await getObject<{ items: KCLRun[] }>(cp(), `/apis/krm.kcl.dev.fluxcd/v1alpha1/namespaces/${ns}/kclruns`))?.items ?? [];
  const readyCount = async () => (await list()).filter((k) => readyAt(revisions[Number(k.metadata.name.split('-')[1])]!)(k)).length;
  await waitFor(async () => (await readyCount()) >= 3, { what: 'the leader reconciling', timeoutMs: 120_000 });
  const before = await readyCount();
  await leader.stop('SIGKILL');
  const killedAt = Date.now();
  t.true(before < count, `killed mid-way (${before} of ${count} Ready)`);
  await waitFor(async () => byPid(await holder()) === follower, { what: 'the follower to take the lease', timeoutMs: 30_000 });
  const takeover = Date.now() - killedAt;
  t.log(`killed with ${before}/${count} Ready; takeover after ${takeover} ms (lease ${LEASE_MS} ms)`);
  t.true(takeover <= LEASE_MS + 2000, `takeover ${takeover} ms is within the lease duration (+ a retry period and polling)`);
  await waitFor(async () => (await readyCount()) === count, { what: `all ${count} KCLRuns Ready`, timeoutMs: 180_000, intervalMs: 500 });
  t.log(`all ${count} Ready ${Date.now() - killedAt} ms after the kill`);
  const expected = Array.from({ length: count }, (_, i) => names(`app-${i}`, 4));
  t.deepEqual(await configMapNames(cp(), ns), expected.flat().sort(), 'the ConfigMaps are exactly the rendered ones');
  for (const k of await list()) {
    const ids = (k.status?.inventory?.entries ?? []).map((e) => e.id);
    const want = expected[Number(k.metadata.name.split('-')[1])]!.map((n) => configMapId(ns, n)).sort();
    t.deepEqual(ids, want, `${k.metadata.name}: inventory exact, no duplicates`);
  }
});
