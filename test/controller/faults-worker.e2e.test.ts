/**
 * An engine worker killed from outside: `bin/kclrun controller --render-workers 2`, a slow KCL program rendering,
 * its worker (`kclrun-engine-host` in `ps`, a child of the controller, started on demand) SIGKILLed mid-render. That
 * KCLRun fails with the crash named, retries on its own (in a new worker) and succeeds; the other KCLRuns are
 * unaffected (Ready, no failure). The controller process itself never maps the engine.
 */
import test from 'ava';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { newNamespace, useControlPlane } from '../harness/ava.js';
import { freePort, waitFor } from '../harness/processes.js';
import {
  condition, configMapsPackage, createKCLRun, gitRef, gitSource, installKCLRunCRD, kclPackage, listEvents, readyAt, startControllerProcess, waitKCLRun,
  type ControllerProcess,
} from './suite.js';
import { maps } from './faults.js';

const cp = useControlPlane(test, { fluxSourceCrds: true });
test.before('install the KCLRun CRD', async () => installKCLRunCRD(await cp.ready()));
let proc: ControllerProcess | undefined;
test.after.always('stop the controller', async () => void (await proc?.stop('SIGKILL')));

/** The controller's engine workers (the native host, or Node workers without it): pid → CPU ticks so far. */
function workers(parent: number): Map<number, number> {
  const out = new Map<number, number>();
  for (const line of execFileSync('ps', ['-o', 'pid=,args=', '--ppid', String(parent)], { encoding: 'utf8' }).split('\n')) {
    const m = /^\s*(\d+)\s+\S*kclrun-engine-(host|worker)\b/.exec(line);
    if (!m) continue;
    const pid = Number(m[1]);
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      out.set(pid, Number(stat[11]) + Number(stat[12])); // utime + stime
    } catch {
      /* exited meanwhile */
    }
  }
  return out;
}

test('a render worker SIGKILLed mid-render: that KCLRun retries and succeeds, the others are unaffected', async (t) => {
  t.timeout(240_000);
  const [health, metrics] = [await freePort(), await freePort()];
  proc = startControllerProcess(
    ['--kubeconfig', cp().kubeconfigPath, '--health-addr', `127.0.0.1:${health}`, '--metrics-addr', `127.0.0.1:${metrics}`, '--render-workers', '2', '--min-retry-delay', '200ms', '--max-retry-delay', '2s', '--log-level', 'error'],
    { KUBECONFIG: '' },
  );
  const ns = await newNamespace(cp(), 'worker');
  const slowMain = `_s = sum([i * 2 for i in range(1500000)])\nitems = [{apiVersion = "v1", kind = "ConfigMap", metadata.name = "slow", data.sum = str(_s)}]\n`;
  const slow = await gitSource(cp(), ns, 'slow', kclPackage(slowMain), 'main@sha1:' + 'f'.repeat(40));
  const idle = workers(proc.pid);
  await createKCLRun(cp(), ns, 'slow', { sourceRef: gitRef('slow'), interval: '10m', retryInterval: '1s' });

  // The worker whose CPU time grows is rendering the slow program.
  let victim = 0;
  await waitFor(async () => {
    const now = workers(proc!.pid);
    victim = [...now].find(([pid, ticks]) => ticks - (idle.get(pid) ?? 0) >= 20)?.[0] ?? 0; // 200 ms of CPU
    return victim > 0;
  }, { what: 'a worker rendering the slow program', timeoutMs: 60_000, intervalMs: 100 }).catch((err: Error) => {
    throw new Error(`${err.message}\n--- controller stderr\n${proc!.stderr().slice(-2000)}`);
  });
  process.kill(victim, 'SIGKILL');
  const killedAt = Date.now();

  const others = [];
  for (let i = 0; i < 3; i++) {
    const art = await gitSource(cp(), ns, `repo-${i}`, configMapsPackage(maps([`other-${i}`], '1')), `main@sha1:${String(i).repeat(40)}`);
    await createKCLRun(cp(), ns, `other-${i}`, { sourceRef: gitRef(`repo-${i}`), interval: '10m' });
    others.push(art.revision);
  }
  const k = await waitKCLRun(cp(), ns, 'slow', readyAt(slow.revision), 180_000);
  t.log(`slow KCLRun Ready ${Date.now() - killedAt} ms after its worker was killed`);
  t.truthy(condition(k, 'Ready'));
  const events = await listEvents(cp(), ns, 'slow');
  t.true(events.some((e) => e.type === 'Warning' && /the KCL engine was killed \(SIGKILL\)/.test(e.message)), `the crash was reported: ${JSON.stringify(events.map((e) => e.message))}`);
  for (let i = 0; i < 3; i++) {
    await waitKCLRun(cp(), ns, `other-${i}`, readyAt(others[i]!), 60_000);
    t.deepEqual((await listEvents(cp(), ns, `other-${i}`)).filter((e) => e.type === 'Warning'), [], `other-${i} never failed`);
  }
  t.false(workers(proc.pid).has(victim), 'the killed worker is gone');
  t.true(workers(proc.pid).size <= 2, 'no more workers than --render-workers');
  // The controller (bin/kclrun, its bundle) never loads the engine or koffi itself; its workers do (the check sees it).
  const mapped = (pid: number) => readFileSync(`/proc/${pid}/maps`, 'utf8');
  t.notRegex(mapped(proc.pid), /libkcl\.so|koffi/);
  const [worker] = workers(proc.pid).keys();
  t.truthy(worker, 'a worker is still up (30 s idle time)');
  t.regex(mapped(worker!), /libkcl\.so/);
});
