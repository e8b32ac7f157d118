/**
 * `status.history` upsert rules (Flux's `meta.History.Upsert`): dedup by digest AND status, most recent first,
 * at most five entries; the digest ignores key order; durations print as Go does.
 */
import test from 'ava';
import { goDuration, objectsDigest, upsertHistory, type HistoryRecord } from '../../controller/status/history.js';
import type { HistorySnapshot } from '../../controller/api/types.js';

const rec = (digest: string, status: string, minute: number, revision = 'main@sha1:1'): HistoryRecord => ({
  digest,
  status,
  at: new Date(Date.UTC(2030, 0, 1, 0, minute)),
  durationMs: 45_000,
  metadata: { revision },
});

test('a new digest goes first with one reconciliation', (t) => {
  const h = upsertHistory(undefined, rec('sha256:a', 'ReconciliationSucceeded', 0));
  t.deepEqual(h, [{
    digest: 'sha256:a', firstReconciled: '2030-01-01T00:00:00Z', lastReconciled: '2030-01-01T00:00:00Z',
    lastReconciledDuration: '45s', lastReconciledStatus: 'ReconciliationSucceeded', totalReconciliations: 1, metadata: { revision: 'main@sha1:1' },
  }]);
});

test('the same digest and status is counted, updated and moved to the front; another status is a new entry', (t) => {
  let h: HistorySnapshot[] = [];
  h = upsertHistory(h, rec('sha256:a', 'ReconciliationSucceeded', 0));
  h = upsertHistory(h, rec('sha256:a', 'HealthCheckFailed', 1));
  h = upsertHistory(h, rec('sha256:b', 'ReconciliationSucceeded', 2));
  h = upsertHistory(h, rec('sha256:a', 'ReconciliationSucceeded', 3, 'main@sha1:2'));
  t.deepEqual(h.map((s) => [s.digest, s.lastReconciledStatus, s.totalReconciliations]), [
    ['sha256:a', 'ReconciliationSucceeded', 2],
    ['sha256:b', 'ReconciliationSucceeded', 1],
    ['sha256:a', 'HealthCheckFailed', 1],
  ]);
  t.is(h[0]!.firstReconciled, '2030-01-01T00:00:00Z');
  t.is(h[0]!.lastReconciled, '2030-01-01T00:03:00Z');
  t.deepEqual(h[0]!.metadata, { revision: 'main@sha1:2' });
});

test('history keeps the five most recent entries', (t) => {
  let h: HistorySnapshot[] = [];
  for (let i = 0; i < 7; i++) h = upsertHistory(h, rec(`sha256:${i}`, 'ReconciliationSucceeded', i));
  t.deepEqual(h.map((s) => s.digest), ['sha256:6', 'sha256:5', 'sha256:4', 'sha256:3', 'sha256:2']);
});

test('the digest depends on the objects, not on key order', (t) => {
  const a = objectsDigest([{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a', labels: { x: '1', y: '2' } } }]);
  const b = objectsDigest([{ kind: 'ConfigMap', metadata: { labels: { y: '2', x: '1' }, name: 'a' }, apiVersion: 'v1' }]);
  const c = objectsDigest([{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'b' } }]);
  t.is(a, b);
  t.not(a, c);
  t.regex(a, /^sha256:[0-9a-f]{64}$/);
});

test('durations print as Go time.Duration', (t) => {
  t.is(goDuration(0), '0s');
  t.is(goDuration(812), '812ms');
  t.is(goDuration(2818), '2.818s');
  t.is(goDuration(45_000), '45s');
  t.is(goDuration(62_500), '1m2.5s');
  t.is(goDuration(3_600_000), '1h0m0s');
});
