/**
 * Notifications through the real Flux notification-controller: KCLRun → `kclrun controller --events-addr` →
 * notification-controller's event receiver → an Alert selecting KCLRun events → a `generic` Provider posting to a
 * loopback HTTP receiver in this test. The receiver gets reason, message, severity and `metadata.revision` (and the
 * KCLRun's `event.toolkit.fluxcd.io/*` annotations); a failure that prints a Secret value arrives redacted. The
 * Alert CRD's kind enum gets `KCLRun` the way Flux documents for third-party controllers. The same run scrapes the
 * controller's /metrics for `gotk_resource_info`.
 */
import test from 'ava';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { newNamespace } from '../harness/ava.js';
import { startControlPlane, type ControlPlane } from '../harness/control-plane.js';
import { installFluxNotificationCRDs, installFluxSourceCRDs } from '../harness/flux-crds.js';
import { startNotificationController, type NotificationController } from '../harness/notification-controller.js';
import { freePort, waitFor } from '../harness/processes.js';
import {
  configMapsPackage, createKCLRun, createObject, failedWith, gitRef, gitSource, installKCLRunCRD, kclPackage, readyAt,
  setArtifact, startControllerProcess, waitKCLRun, type ControllerProcess,
} from './suite.js';

/** What the generic Provider posts: the Event after notification-controller's metadata processing. */
interface Delivered {
  /** The request path: the Provider's address path. */
  path: string;
  headers: IncomingHttpHeaders;
  event: {
    involvedObject: { kind: string; namespace: string; name: string; apiVersion: string; uid?: string };
    severity: string;
    reason: string;
    message: string;
    metadata?: Record<string, string>;
    reportingController: string;
  };
}

let cp: ControlPlane | undefined;
let nc: NotificationController | undefined;
let controller: ControllerProcess | undefined;
let receiver: Server | undefined;
let metricsPort = 0;
const delivered: Delivered[] = [];
let receiverUrl = '';

test.before('control plane, CRDs, notification-controller, receiver, kclrun controller --events-addr', async (t) => {
  t.timeout(180_000);
  cp = await startControlPlane();
  await installFluxSourceCRDs(cp);
  await installFluxNotificationCRDs(cp);
  await installKCLRunCRD(cp);
  nc = await startNotificationController(cp);
  receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      delivered.push({ path: req.url ?? '', headers: req.headers, event: JSON.parse(body) as Delivered['event'] });
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((r) => receiver!.listen(0, '127.0.0.1', r));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
  metricsPort = await freePort();
  controller = startControllerProcess([
    '--kubeconfig', cp.kubeconfigPath, '--events-addr', nc.eventsUrl,
    '--health-addr', '127.0.0.1:0', '--metrics-addr', `127.0.0.1:${metricsPort}`,
    '--requeue-dependency', '1s', '--min-retry-delay', '200ms', '--max-retry-delay', '2s',
  ]);
  await waitFor(async () => controller!.stderr().includes('"controller started"'), { what: 'kclrun controller started', timeoutMs: 60_000 });
});

test.after.always('stop everything', async (t) => {
  if (controller && !controller.done) t.log(`controller exit: ${await controller.stop()}`);
  await nc?.stop();
  receiver?.closeAllConnections();
  receiver?.close();
  await cp?.stop();
});

/** A generic Provider to the loopback receiver and an Alert selecting every KCLRun in `ns`. */
async function alertFor(ns: string): Promise<void> {
  await createObject(cp!, `/apis/notification.toolkit.fluxcd.io/v1beta3/namespaces/${ns}/providers`, {
    apiVersion: 'notification.toolkit.fluxcd.io/v1beta3', kind: 'Provider',
    metadata: { name: 'loopback' }, spec: { type: 'generic', address: receiverUrl },
  });
  await createObject(cp!, `/apis/notification.toolkit.fluxcd.io/v1beta3/namespaces/${ns}/alerts`, {
    apiVersion: 'notification.toolkit.fluxcd.io/v1beta3', kind: 'Alert',
    metadata: { name: 'kclruns' },
    spec: { providerRef: { name: 'loopback' }, eventSeverity: 'info', eventSources: [{ kind: 'KCLRun', name: '*' }] },
  });
}

/** Waits for a delivered event about `ns`/`name` matching `check`. */
async function receivedFor(ns: string, name: string, check: (e: Delivered['event']) => boolean, what: string): Promise<Delivered> {
  let found: Delivered | undefined;
  try {
    await waitFor(async () => {
      found = delivered.find((d) => d.event.involvedObject.namespace === ns && d.event.involvedObject.name === name && check(d.event));
      return !!found;
    }, { what, timeoutMs: 30_000, intervalMs: 100 });
  } catch (err) {
    throw new Error(`${(err as Error).message}; delivered: ${JSON.stringify(delivered.map((d) => d.event))}\nnotification-controller:\n${nc!.logTail(30)}\nkclrun:\n${controller!.stderr().split('\n').slice(-20).join('\n')}`);
  }
  return found!;
}

test('success and failure events of a KCLRun reach a generic Provider with reason, message and revision', async (t) => {
  const ns = await newNamespace(cp!, 'notify');
  await alertFor(ns);
  const r1 = 'main@sha1:1111111111111111111111111111111111111111';
  await gitSource(cp!, ns, 'repo', configMapsPackage({ cfg: { v: '1' } }), r1);
  const res = await cp!.request('POST', `/apis/krm.kcl.dev.fluxcd/v1alpha1/namespaces/${ns}/kclruns`, {
    body: {
      apiVersion: 'krm.kcl.dev.fluxcd/v1alpha1', kind: 'KCLRun',
      metadata: { name: 'app', namespace: ns, annotations: { 'event.toolkit.fluxcd.io/env': 'e2e' } },
      spec: { sourceRef: gitRef('repo') },
    },
  });
  t.true(res.ok, res.text);
  await waitKCLRun(cp!, ns, 'app', readyAt(r1));

  const ok = await receivedFor(ns, 'app', (e) => e.reason === 'ReconciliationSucceeded', 'ReconciliationSucceeded notification');
  t.is(ok.event.message, `Applied revision: ${r1}`);
  t.is(ok.event.severity, 'info');
  t.is(ok.event.involvedObject.kind, 'KCLRun');
  t.is(ok.event.involvedObject.apiVersion, 'krm.kcl.dev.fluxcd/v1alpha1');
  t.truthy(ok.event.involvedObject.uid);
  t.is(ok.event.reportingController, 'kclrun-controller');
  t.is(ok.headers['gotk-component'], 'kclrun-controller');
  t.is(ok.path, '/hook');
  // notification-controller strips `krm.kcl.dev.fluxcd/` and `event.toolkit.fluxcd.io/` and drops the token.
  t.deepEqual(ok.event.metadata, { revision: r1, env: 'e2e' });
  const applied = await receivedFor(ns, 'app', (e) => e.reason === 'Progressing', 'apply change-set notification');
  t.is(applied.event.message, `ConfigMap/${ns}/cfg created`);

  const r2 = 'main@sha1:2222222222222222222222222222222222222222';
  await setArtifact(cp!, ns, 'repo', kclPackage('items = [{apiVersion = "v1", kind = "ConfigMap", metadata.name = 1 + "x"}]\n'), r2);
  await waitKCLRun(cp!, ns, 'app', (k) => failedWith('BuildFailed')(k) && k.status?.lastAttemptedRevision === r2);
  const failed = await receivedFor(ns, 'app', (e) => e.reason === 'BuildFailed', 'BuildFailed notification');
  t.is(failed.event.severity, 'error');
  t.is(failed.event.metadata?.revision, r2);
  t.regex(failed.event.message, /main\.k/);
});

test('an Alert for another kind gets nothing, and a failure printing a Secret value arrives redacted', async (t) => {
  const ns = await newNamespace(cp!, 'notifysecret');
  const token = 'tok-Notify-8Kq3-Vv7x';
  await createObject(cp!, `/api/v1/namespaces/${ns}/secrets`, { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'creds' }, stringData: { token } });
  // Positive control in the same namespace: the KCLRun Alert; negative: an Alert for Kustomizations only.
  await alertFor(ns);
  await createObject(cp!, `/apis/notification.toolkit.fluxcd.io/v1beta3/namespaces/${ns}/providers`, {
    apiVersion: 'notification.toolkit.fluxcd.io/v1beta3', kind: 'Provider',
    metadata: { name: 'kustomizations-only' }, spec: { type: 'generic', address: `${receiverUrl}/kustomizations` },
  });
  await createObject(cp!, `/apis/notification.toolkit.fluxcd.io/v1beta3/namespaces/${ns}/alerts`, {
    apiVersion: 'notification.toolkit.fluxcd.io/v1beta3', kind: 'Alert',
    metadata: { name: 'kustomizations' },
    spec: { providerRef: { name: 'kustomizations-only' }, eventSources: [{ kind: 'Kustomization', name: '*' }] },
  });
  const rev = 'main@sha1:3333333333333333333333333333333333333333';
  await gitSource(cp!, ns, 'repo', kclPackage(`assert option("token") == "expected", "unexpected token " + option("token")\nitems = []\n`), rev);
  await createKCLRun(cp!, ns, 'app', { sourceRef: gitRef('repo'), argumentsReferences: [{ kind: 'Secret', name: 'creds' }] });
  await waitKCLRun(cp!, ns, 'app', failedWith('BuildFailed'));
  const failed = await receivedFor(ns, 'app', (e) => e.reason === 'BuildFailed', 'BuildFailed notification');
  t.regex(failed.event.message, /unexpected token/);
  const mine = delivered.filter((d) => d.event.involvedObject.namespace === ns);
  for (const d of mine) {
    t.false(JSON.stringify(d).includes(token), 'the Secret value is not in the notification');
    t.false(JSON.stringify(d).includes(Buffer.from(token).toString('base64')));
  }
  t.true(mine.every((d) => d.path === '/hook'), `only the KCLRun Alert's Provider was called: ${mine.map((d) => d.path).join(', ')}`);
});

test('the controller exports gotk_resource_info for the KCLRuns it reconciled', async (t) => {
  const ns = await newNamespace(cp!, 'notifymetrics');
  const rev = 'main@sha1:4444444444444444444444444444444444444444';
  await gitSource(cp!, ns, 'repo', configMapsPackage({ m: { v: '1' } }), rev);
  await createKCLRun(cp!, ns, 'app', { sourceRef: gitRef('repo') });
  await waitKCLRun(cp!, ns, 'app', readyAt(rev));
  let text = '';
  await waitFor(async () => {
    text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    // The duration is observed when the reconcile returns, just after the status write; an earlier reconcile may
    // have ended before Ready=True (its info line says Unknown), so wait for the line of the one that made it Ready.
    const info = text.split('\n').find((l) => l.startsWith('gotk_resource_info{') && l.includes(`exported_namespace="${ns}"`));
    return !!info?.includes('ready="True"') && text.includes(`gotk_reconcile_duration_seconds_count{kind="KCLRun",name="app",namespace="${ns}"}`);
  }, { what: 'gotk_resource_info and the duration for the KCLRun', timeoutMs: 10_000, intervalMs: 200 });
  const line = text.split('\n').find((l) => l.startsWith('gotk_resource_info{') && l.includes(`exported_namespace="${ns}"`));
  t.truthy(line);
  for (const label of ['customresource_kind="KCLRun"', 'name="app"', 'ready="True"', 'suspended="false"', `revision="${rev}"`, 'source_name="repo"']) {
    t.true(line!.includes(label), `${label} in ${line}`);
  }
  t.true(line!.endsWith(' 1'));
  t.regex(text, new RegExp(`^gotk_reconcile_duration_seconds_count\\{kind="KCLRun",name="app",namespace="${ns}"\\} [1-9]`, 'm'));
  t.regex(text, /^process_resident_memory_bytes \d+/m);
});
