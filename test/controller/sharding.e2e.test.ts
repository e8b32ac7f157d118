/**
 * Sharding as Flux documents it: two `kclrun controller` processes on `sharding.fluxcd.io/key in (shardN)` and the
 * main one on `!sharding.fluxcd.io/key`. Each reconciles only its own KCLRuns (the JSON log of each process names
 * exactly the KCLRuns it applied; the others' never appear). The Lease name per selector is unit-tested
 * (sharding.test.ts); leader election is left out here so that a slow machine's lease timing cannot fail the test.
 */
import test from 'ava';
import { newNamespace, useControlPlane } from '../harness/ava.js';
import { freePort, waitFor } from '../harness/processes.js';
import { leaderElectionId } from '../../controller/run.js';
import { createObject, getObject, gitRef, gitSource, installKCLRunCRD, jsonLines, kclPackage, readyAt, startControllerProcess, waitKCLRun, type ControllerProcess } from './suite.js';

const cp = useControlPlane(test, { fluxSourceCrds: true });
test.before('install the KCLRun CRD', async () => installKCLRunCRD(await cp.ready()));

const running: ControllerProcess[] = [];
test.after.always('stop controller processes', async () => {
  await Promise.all(running.map((p) => p.stop('SIGKILL')));
});

async function controller(selector: string, runtimeNs: string): Promise<ControllerProcess> {
  const [health, metrics] = [await freePort(), await freePort()];
  const proc = startControllerProcess(
    ['--kubeconfig', cp().kubeconfigPath, '--health-addr', `127.0.0.1:${health}`, '--metrics-addr', `127.0.0.1:${metrics}`,
      '--min-retry-delay', '200ms', '--http-retry', '1', '--render-workers', '1', `--watch-label-selector=${selector}`],
    { KUBECONFIG: '', RUNTIME_NAMESPACE: runtimeNs },
  );
  running.push(proc);
  return proc;
}

/** Names of the KCLRuns a controller's log says it applied. */
function applied(proc: ControllerProcess): string[] {
  return jsonLines(proc.stderr())
    .filter((l) => typeof l.msg === 'string' && l.msg.startsWith('Applied revision'))
    .map((l) => (l.kclrun as { name: string }).name)
    .filter((n, i, all) => all.indexOf(n) === i)
    .sort();
}

test('two shards and the unsharded instance each reconcile only their own KCLRuns', async (t) => {
  const system = await newNamespace(cp(), 'kclrun-system');
  const ns = await newNamespace(cp(), 'shards');
  const art = await gitSource(cp(), ns, 'repo', kclPackage('items = [{apiVersion = "v1", kind = "ConfigMap", metadata.name = option("params").name, data.v = "1"}]\n'), 'main@sha1:5151515151515151515151515151515151515151');
  const selectors = { shard1: 'sharding.fluxcd.io/key in (shard1)', shard2: 'sharding.fluxcd.io/key in (shard2)', main: '!sharding.fluxcd.io/key' };
  const procs = {
    shard1: await controller(selectors.shard1, system),
    shard2: await controller(selectors.shard2, system),
    main: await controller(selectors.main, system),
  };
  const runs: Array<[string, string | undefined]> = [['a1', 'shard1'], ['b1', 'shard1'], ['a2', 'shard2'], ['plain', undefined]];
  for (const [name, shard] of runs) {
    await createObject(cp(), `/apis/krm.kcl.dev.fluxcd/v1alpha1/namespaces/${ns}/kclruns`, {
      apiVersion: 'krm.kcl.dev.fluxcd/v1alpha1',
      kind: 'KCLRun',
      metadata: { name, ...(shard ? { labels: { 'sharding.fluxcd.io/key': shard } } : {}) },
      spec: { sourceRef: gitRef('repo'), params: { name: `cm-${name}` } },
    });
  }
  for (const [name] of runs) await waitKCLRun(cp(), ns, name, readyAt(art.revision), 60_000);
  const seen = () => applied(procs.shard1).length + applied(procs.shard2).length + applied(procs.main).length;
  // Logs may trail the status by a moment; the assertions below report what was seen if they never come.
  await waitFor(async () => seen() >= runs.length, { timeoutMs: 10_000, what: "apply logs" }).catch(() => undefined);
  t.log(JSON.stringify({ shard1: applied(procs.shard1), shard2: applied(procs.shard2), main: applied(procs.main) }));
  t.deepEqual(applied(procs.shard1), ['a1', 'b1']);
  t.deepEqual(applied(procs.shard2), ['a2']);
  t.deepEqual(applied(procs.main), ['plain']);

  t.is(new Set(Object.values(selectors).map((s) => leaderElectionId('kclrun-controller-leader-election', s))).size, 3);
  for (const [name] of runs) t.truthy(await getObject(cp(), `/api/v1/namespaces/${ns}/configmaps/cm-${name}`));
  for (const p of Object.values(procs)) t.true(jsonLines(p.stderr()).some((l) => l.msg === 'controller started'));
});
