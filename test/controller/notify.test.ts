/**
 * The event forwarder against a loopback receiver: Flux's payload shape and metadata keys, retries on 5xx and
 * connection errors, no retry on 429 (duplicate) or 4xx, a hung receiver never blocking `notify`, and close.
 * The real notification-controller accepting this payload is tested in notifications.e2e.test.ts.
 */
import test from 'ava';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { EventNotifier, EventPostError, eventMetadata, fluxEvent, type FluxEvent } from '../../controller/notify.js';
import { silentLogger, type Logger } from '../../controller/log.js';
import type { KCLRun } from '../../controller/api/types.js';

const k: KCLRun = {
  apiVersion: 'krm.kcl.dev.fluxcd/v1alpha1',
  kind: 'KCLRun',
  metadata: {
    name: 'app',
    namespace: 'team',
    uid: '0b7c0b9e-1111-2222-3333-444455556666',
    generation: 3,
    resourceVersion: '42',
    annotations: { 'event.toolkit.fluxcd.io/env': 'prod', 'other.io/x': 'not sent' },
  },
  spec: { sourceRef: { kind: 'GitRepository', name: 'repo' } },
};

/** A receiver answering with `statuses` in turn (the last one repeats); records every body. */
async function receiver(statuses: number[], onRequest?: (req: IncomingMessage, res: ServerResponse) => boolean) {
  const bodies: FluxEvent[] = [];
  let i = 0;
  const server = createServer((req, res) => {
    let text = '';
    req.on('data', (c: Buffer) => (text += c.toString()));
    req.on('end', () => {
      bodies.push(JSON.parse(text) as FluxEvent);
      if (onRequest?.(req, res)) return;
      res.writeHead(statuses[Math.min(i++, statuses.length - 1)]!).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  return { url, bodies, close: () => (server.closeAllConnections(), new Promise((r) => server.close(r))) };
}

/** A logger that keeps error lines. */
function recordingLogger(): Logger & { errors: string[] } {
  const errors: string[] = [];
  const l: Logger & { errors: string[] } = { ...silentLogger, errors, error: (m, kv) => errors.push(`${m}: ${JSON.stringify(kv)}`), with: () => l };
  return l;
}

test("the payload is fluxcd/pkg/runtime/events' Event with <group>/revision, <group>/token and event.toolkit annotations", (t) => {
  const e = fluxEvent(k, 'Warning', 'BuildFailed', 'build failed', eventMetadata(k, 'main@sha1:abc'), 'pod-1');
  t.deepEqual(e.involvedObject, {
    kind: 'KCLRun',
    namespace: 'team',
    name: 'app',
    uid: '0b7c0b9e-1111-2222-3333-444455556666',
    apiVersion: 'krm.kcl.dev.fluxcd/v1alpha1',
    resourceVersion: '42',
  });
  t.is(e.severity, 'error');
  t.is(fluxEvent(k, 'Normal', 'R', 'm', {}, 'p').severity, 'info');
  t.regex(e.timestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  t.deepEqual(e.metadata, {
    'krm.kcl.dev.fluxcd/revision': 'main@sha1:abc',
    'krm.kcl.dev.fluxcd/token': '3',
    'event.toolkit.fluxcd.io/env': 'prod',
  });
  t.is(e.reportingController, 'kclrun-controller');
  t.is(e.reportingInstance, 'pod-1');
  t.is(fluxEvent(k, 'Normal', 'R', 'x'.repeat(50_000), {}, 'p').message.length <= 39_000, true);
});

test('retries 5xx and connection errors, then delivers', async (t) => {
  const r = await receiver([503, 500, 202]);
  const n = new EventNotifier({ address: r.url, log: silentLogger, retryDelayMs: 5 });
  await n.post(fluxEvent(k, 'Normal', 'ReconciliationSucceeded', 'Applied revision: x', {}, 'p'));
  t.is(r.bodies.length, 3);
  t.is(r.bodies[2]!.reason, 'ReconciliationSucceeded');
  await r.close();

  const dead = new EventNotifier({ address: r.url, log: silentLogger, retries: 2, retryDelayMs: 5 });
  const err = await t.throwsAsync(dead.post(fluxEvent(k, 'Normal', 'R', 'm', {}, 'p')), { instanceOf: EventPostError });
  t.is(err?.status, 0);
  t.is(err?.attempts, 3);
});

test('429 (a duplicate for notification-controller) is done; other 4xx fail at once', async (t) => {
  const dup = await receiver([429]);
  await new EventNotifier({ address: dup.url, log: silentLogger, retryDelayMs: 5 }).post(fluxEvent(k, 'Normal', 'R', 'm', {}, 'p'));
  t.is(dup.bodies.length, 1);
  await dup.close();
  const bad = await receiver([400]);
  const err = await t.throwsAsync(new EventNotifier({ address: bad.url, log: silentLogger, retryDelayMs: 5 }).post(fluxEvent(k, 'Normal', 'R', 'm', {}, 'p')), { instanceOf: EventPostError });
  t.is(err?.status, 400);
  t.is(bad.bodies.length, 1);
  await bad.close();
});

test('notify never waits for a hung receiver; the timeout ends the attempt and the failure is logged', async (t) => {
  const r = await receiver([202], () => true); // never answers
  const log = recordingLogger();
  const n = new EventNotifier({ address: r.url, log, timeoutMs: 200, retries: 1, retryDelayMs: 5 });
  const before = Date.now();
  n.notify(k, 'Warning', 'BuildFailed', 'build failed', {});
  t.true(Date.now() - before < 100, 'notify returned at once');
  t.is(n.pending, 1);
  await n.close();
  t.is(n.pending, 0);
  t.is(log.errors.length, 1);
  t.regex(log.errors[0]!, /unable to record event.*no answer within 200ms/);
  await r.close();
});

test('past maxInFlight, events are dropped and logged instead of piling up', async (t) => {
  const r = await receiver([202], () => true);
  const log = recordingLogger();
  const n = new EventNotifier({ address: r.url, log, timeoutMs: 300, retries: 0, maxInFlight: 2 });
  for (let i = 0; i < 3; i++) n.notify(k, 'Normal', 'R', `m${i}`, {});
  t.is(n.pending, 2);
  t.true(log.errors.some((e) => e.includes('dropped')));
  await n.close();
  await r.close();
});
