/**
 * Faults under the controller: kube-apiserver, then etcd, stopped while a 200-object KCLRun is being applied and
 * started again on the same port and data. The controller reconnects (its watches resume or relist) and converges
 * within two intervals to exactly what Git says, inventory exact; a later source change is picked up by the watch
 * (well before the interval), so the watches are live again.
 *
 * Own control plane: restarts affect every test sharing it. Serial: one restart at a time.
 */
import test from 'ava';
import { newNamespace } from '../harness/ava.js';
import type { Component } from '../harness/control-plane.js';
import { configMapsPackage, createKCLRun, delay, gitRef, gitSource, readyAt, setArtifact, useController, waitKCLRun } from './suite.js';
import { assertExact, maps, names, waitSomeApplied } from './faults.js';

const suite = useController(test, { concurrent: 2 });
const INTERVAL_MS = 60_000;
let revs = 0;
const rev = () => `main@sha1:${(++revs).toString(16).padStart(40, 'a')}`;

async function restartMidApply(t: import('ava').ExecutionContext, which: Component) {
  t.timeout(4 * INTERVAL_MS);
  const { cp } = suite();
  const ns = await newNamespace(cp, `restart-${which}`);
  const all = names('cm', 200);
  const r1 = await gitSource(cp, ns, 'repo', configMapsPackage(maps(all, '1')), rev());
  await createKCLRun(cp, ns, 'app', { sourceRef: gitRef('repo'), interval: `${INTERVAL_MS / 1000}s` });
  const applied = await waitSomeApplied(cp, ns, 10);
  await cp.stopComponent(which, 'SIGKILL');
  const down = Date.now();
  t.log(`${which} killed with ${applied} of 200 ConfigMaps applied`);
  await delay(2000);
  await cp.startComponent(which);
  const up = Date.now();
  await waitKCLRun(cp, ns, 'app', readyAt(r1.revision), 2 * INTERVAL_MS);
  t.log(`${which} down ${up - down} ms; converged ${Date.now() - up} ms after it was back`);
  await assertExact(t, cp, ns, 'app', all, '1');

  // The watches are live: a new revision (150 objects, new data) lands well before the periodic requeue would.
  const kept = all.slice(0, 150);
  const changed = Date.now();
  const r2 = await setArtifact(cp, ns, 'repo', configMapsPackage(maps(kept, '2')), rev());
  await waitKCLRun(cp, ns, 'app', readyAt(r2.revision), INTERVAL_MS / 2);
  t.log(`next revision applied and 50 objects pruned ${Date.now() - changed} ms after the source changed`);
  await assertExact(t, cp, ns, 'app', kept, '2');
}

test.serial('kube-apiserver killed mid-apply and restarted: converges, nothing missing, inventory exact', (t) => restartMidApply(t, 'apiserver'));
test.serial('etcd killed under the API server mid-apply and restarted: converges, nothing missing, inventory exact', (t) => restartMidApply(t, 'etcd'));
