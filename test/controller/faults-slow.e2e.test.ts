/**
 * A slow API server: every request to it passes a loopback proxy that adds 500 ms. Reconciles still finish; an idle
 * controller makes (almost) no requests — no hot loop, counted at the proxy against the busy reconcile as a positive
 * control; a health-check timeout is honoured (the KCLRun fails after it, not before, and not never).
 */
import test from 'ava';
import { join } from 'node:path';
import { newNamespace, useControlPlane } from '../harness/ava.js';
import { writeKubeconfig } from '../harness/kubeconfig.js';
import { startSlowProxy, type SlowProxy } from '../harness/slow-proxy.js';
import { runController, type RunningController } from '../../controller/run.js';
import { silentLogger } from '../../controller/log.js';
import {
  condition, configMapsPackage, createKCLRun, delay, failedWith, gitRef, gitSource, installKCLRunCRD, kclPackage, readyAt, TEST_CONTROLLER_OPTIONS, waitKCLRun,
} from './suite.js';
import { assertExact, maps, names } from './faults.js';

const DELAY_MS = 500;
const cp = useControlPlane(test, { fluxSourceCrds: true });
let proxy: SlowProxy | undefined;
let controller: RunningController | undefined;
test.before('a controller behind a slow proxy', async () => {
  const plane = await cp.ready();
  await installKCLRunCRD(plane);
  proxy = await startSlowProxy({ host: '127.0.0.1', port: Number(new URL(plane.server).port) }, DELAY_MS);
  const kubeconfig = await writeKubeconfig(join(plane.dir, 'kubeconfig-slow'), {
    server: `https://127.0.0.1:${proxy.port}`, ca: plane.admin.ca, user: 'admin', credentials: { kind: 'token', token: plane.admin.token! },
  });
  controller = await runController({ ...TEST_CONTROLLER_OPTIONS, kubeconfig, logger: silentLogger });
});
test.after.always('stop', async () => {
  await controller?.stop();
  await proxy?.close();
});

let revs = 0;
const rev = () => `main@sha1:${(++revs).toString(16).padStart(40, 'e')}`;

test.serial('reconciles finish through a 500 ms API server; idle, the controller does not loop', async (t) => {
  t.timeout(180_000);
  const ns = await newNamespace(cp(), 'slow');
  const objects = names('cm', 10);
  const busyFrom = proxy!.chunks;
  const started = Date.now();
  const r1 = await gitSource(cp(), ns, 'repo', configMapsPackage(maps(objects, '1')), rev());
  await createKCLRun(cp(), ns, 'app', { sourceRef: gitRef('repo'), interval: '10m' });
  await waitKCLRun(cp(), ns, 'app', readyAt(r1.revision), 120_000);
  const busy = proxy!.chunks - busyFrom;
  t.log(`Ready after ${Date.now() - started} ms through the slow proxy; ${busy} client writes`);
  await assertExact(t, cp(), ns, 'app', objects, '1');
  t.true(busy >= 10, `the reconcile went through the proxy (${busy} client writes)`);

  await delay(2 * DELAY_MS); // the status write after Ready
  const idleFrom = proxy!.chunks;
  await delay(8000);
  const idle = proxy!.chunks - idleFrom;
  t.log(`idle for 8 s: ${idle} client writes`);
  t.true(idle <= 3, `no hot loop: ${idle} requests in 8 s idle (the reconcile made ${busy})`);
});

test.serial('a health-check timeout is honoured through a slow API server', async (t) => {
  t.timeout(180_000);
  const ns = await newNamespace(cp(), 'slow-timeout');
  // A Deployment never becomes ready here (no controller-manager).
  const deployment = `items = [{apiVersion = "apps/v1", kind = "Deployment", metadata.name = "web", spec = {selector.matchLabels.app = "web", template = {metadata.labels.app = "web", spec.containers = [{name = "web", image = "nginx"}]}}}]\n`;
  const r1 = await gitSource(cp(), ns, 'repo', kclPackage(deployment), rev());
  const started = Date.now();
  await createKCLRun(cp(), ns, 'app', { sourceRef: gitRef('repo'), interval: '10m', wait: true, timeout: '6s' });
  const k = await waitKCLRun(cp(), ns, 'app', failedWith('HealthCheckFailed'), 90_000);
  const took = Date.now() - started;
  t.log(`HealthCheckFailed after ${took} ms (timeout 6s)`);
  t.regex(condition(k, 'Ready')!.message, /health check failed after 6s/);
  t.is(k.status?.lastAttemptedRevision, r1.revision);
  t.true(took >= 6000, 'not before the timeout');
});
