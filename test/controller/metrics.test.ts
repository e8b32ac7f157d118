/**
 * The /metrics endpoint, scraped over HTTP as Prometheus does: Flux's series names and labels
 * (`gotk_reconcile_duration_seconds` with fluxcd/pkg's buckets, `gotk_reconcile_condition`, `gotk_suspend_status`,
 * `gotk_resource_info` as flux2-monitoring-example's kube-state-metrics configuration labels it), the Node process
 * metrics, label escaping, and removal of a deleted object's series.
 */
import test from 'ava';
import { DURATION_BUCKETS, MetricsRegistry } from '../../controller/metrics.js';
import { serve } from '../../controller/server.js';
import type { KCLRun, KCLRunStatus } from '../../controller/api/types.js';
import type { Condition } from '../../controller/api/conditions.js';

const k = (name: string, namespace = 'team', suspend?: boolean): KCLRun => ({
  apiVersion: 'krm.kcl.dev.fluxcd/v1alpha1',
  kind: 'KCLRun',
  metadata: { name, namespace },
  spec: { sourceRef: { kind: 'GitRepository', name: 'repo' }, ...(suspend === undefined ? {} : { suspend }) },
});
const cond = (type: string, status: Condition['status']): Condition => ({ type, status, reason: 'R', message: 'm', lastTransitionTime: '2030-01-01T00:00:00Z' });

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Parses exposition text, checking every line's syntax; returns the samples and the TYPE of each family. */
function parse(text: string): { samples: Sample[]; types: Map<string, string> } {
  const samples: Sample[] = [];
  const types = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const meta = /^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.+)$/.exec(line);
    if (meta) {
      if (meta[1] === 'TYPE') types.set(meta[2]!, meta[3]!);
      continue;
    }
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{((?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*",?)*)\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`bad exposition line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      labels[l[1]!] = l[2]!.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    }
    samples.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return { samples, types };
}

/** The samples of `name` whose labels include `labels`. */
function find(samples: Sample[], name: string, labels: Record<string, string> = {}): Sample[] {
  return samples.filter((s) => s.name === name && Object.entries(labels).every(([l, v]) => s.labels[l] === v));
}

/** Scrapes `m` through the same HTTP route the controller serves. */
async function scrape(m: MetricsRegistry): Promise<{ samples: Sample[]; types: Map<string, string>; contentType: string | null }> {
  const { server, port } = await serve('127.0.0.1:0', { '/metrics': async () => [200, await m.render()] });
  try {
    const res = await fetch(`http://127.0.0.1:${port}/metrics`);
    if (!res.ok) throw new Error(`scrape: HTTP ${res.status}`);
    return { ...parse(await res.text()), contentType: res.headers.get('content-type') };
  } finally {
    server.close();
  }
}

const ref = { kind: 'KCLRun', name: 'app', namespace: 'team' };

test("the duration histogram uses fluxcd/pkg's buckets, cumulative, with +Inf, sum and count", async (t) => {
  t.deepEqual(DURATION_BUCKETS.map((b) => Number(b.toPrecision(6))), [0.01, 0.0383636, 0.147176, 0.564622, 2.16609, 8.3099, 31.8798, 122.302, 469.195, 1800]);
  const m = new MetricsRegistry();
  m.duration(k('app'), 0.05);
  m.duration(k('app'), 0.5);
  m.duration(k('app'), 50);
  const { samples, types, contentType } = await scrape(m);
  t.regex(contentType ?? '', /^text\/plain; version=0\.0\.4/);
  t.is(types.get('gotk_reconcile_duration_seconds'), 'histogram');
  const bucket = (le: number | string) => find(samples, 'gotk_reconcile_duration_seconds_bucket', { ...ref, le: String(le) })[0]?.value;
  t.is(bucket(DURATION_BUCKETS[0]!), 0);
  t.is(bucket(DURATION_BUCKETS[2]!), 1);
  t.is(bucket(DURATION_BUCKETS[3]!), 2);
  t.is(bucket(DURATION_BUCKETS[6]!), 2);
  t.is(bucket(DURATION_BUCKETS[7]!), 3);
  t.is(bucket('+Inf'), 3);
  t.is(find(samples, 'gotk_reconcile_duration_seconds_count', ref)[0]?.value, 3);
  t.true(Math.abs(find(samples, 'gotk_reconcile_duration_seconds_sum', ref)[0]!.value - 50.55) < 1e-9);
  t.deepEqual(Object.keys(find(samples, 'gotk_reconcile_duration_seconds_count', ref)[0]!.labels).sort(), ['kind', 'name', 'namespace']);
});

test('gotk_resource_info carries the kube-state-metrics labels and follows the status', async (t) => {
  const m = new MetricsRegistry();
  const status: KCLRunStatus = { conditions: [cond('Ready', 'True')], lastAppliedRevision: 'main@sha1:abc' };
  m.status(k('app'), status);
  let info = find((await scrape(m)).samples, 'gotk_resource_info', { name: 'app' });
  t.is(info.length, 1);
  t.deepEqual(info[0]!.labels, {
    customresource_group: 'krm.kcl.dev.fluxcd',
    customresource_kind: 'KCLRun',
    customresource_version: 'v1alpha1',
    exported_namespace: 'team',
    name: 'app',
    ready: 'True',
    suspended: 'false',
    revision: 'main@sha1:abc',
    source_name: 'repo',
  });
  t.is(info[0]!.value, 1);

  m.status(k('app'), { ...status, conditions: [cond('Ready', 'False')] });
  m.suspended(k('app', 'team', true), true);
  info = find((await scrape(m)).samples, 'gotk_resource_info', { name: 'app' });
  t.is(info.length, 1, 'the series with the old label values is gone');
  t.is(info[0]!.labels.ready, 'False');
  t.is(info[0]!.labels.suspended, 'true');
});

test('condition gauges: one series per Flux status, 1 for the current one; a removed condition is dropped', async (t) => {
  const m = new MetricsRegistry();
  m.status(k('app'), { conditions: [cond('Ready', 'False'), cond('Reconciling', 'True'), cond('Stalled', 'True')] });
  const { samples, types } = await scrape(m);
  t.is(types.get('gotk_reconcile_condition'), 'gauge');
  const g = (s: Sample[], type: string, status: string) => find(s, 'gotk_reconcile_condition', { ...ref, type, status })[0]?.value;
  t.is(g(samples, 'Ready', 'False'), 1);
  t.is(g(samples, 'Ready', 'True'), 0);
  t.is(g(samples, 'Ready', 'Unknown'), 0);
  t.is(g(samples, 'Stalled', 'True'), 1);
  t.is(find(samples, 'gotk_reconcile_condition', { ...ref, type: 'Reconciling' }).length, 0, 'Reconciling is not exported');
  m.status(k('app'), { conditions: [cond('Ready', 'True')] });
  const after = (await scrape(m)).samples;
  t.is(g(after, 'Ready', 'True'), 1);
  t.is(find(after, 'gotk_reconcile_condition', { ...ref, type: 'Stalled' }).length, 0);
});

test("forget removes every series of a deleted object and leaves the others' alone", async (t) => {
  const m = new MetricsRegistry();
  for (const name of ['app', 'other']) {
    m.status(k(name), { conditions: [cond('Ready', 'True')] });
    m.suspended(k(name), false);
    m.duration(k(name), 1);
  }
  m.forget(k('app'));
  const { samples } = await scrape(m);
  t.deepEqual(samples.filter((s) => s.name.startsWith('gotk_') && (s.labels.name === 'app')), []);
  t.true(find(samples, 'gotk_resource_info', { name: 'other' }).length === 1);
  t.true(find(samples, 'gotk_suspend_status', { name: 'other' }).length === 1);
  t.true(find(samples, 'gotk_reconcile_duration_seconds_count', { name: 'other' }).length === 1);
});

test('process metrics are exported; label values are escaped', async (t) => {
  const m = new MetricsRegistry();
  m.suspended(k('a"b\\c\nd'), false);
  const { samples, types } = await scrape(m);
  t.is(find(samples, 'gotk_suspend_status', { name: 'a"b\\c\nd' })[0]?.value, 0);
  t.is(types.get('gotk_suspend_status'), 'gauge');
  t.true((find(samples, 'process_resident_memory_bytes')[0]?.value ?? 0) > 1_000_000);
  t.true(find(samples, 'process_cpu_seconds_total').length === 1);
  t.true(find(samples, 'nodejs_heap_size_used_bytes').length === 1);
});

test('an empty registry renders valid exposition text with the gotk families declared', async (t) => {
  const { types } = await scrape(new MetricsRegistry());
  t.true(types.size > 4);
  for (const f of ['gotk_reconcile_duration_seconds', 'gotk_reconcile_condition', 'gotk_suspend_status', 'gotk_resource_info']) {
    t.true(types.has(f), f);
  }
});
