/**
 * Prometheus text exposition: Flux's metric names (`gotk_reconcile_duration_seconds` histogram,
 * `gotk_reconcile_condition` and `gotk_suspend_status` gauges), label escaping, and the parse-ability of the output.
 */
import test from 'ava';
import { MetricsRegistry } from '../../controller/metrics.js';
import type { KCLRun } from '../../controller/api/types.js';
import type { Condition } from '../../controller/api/conditions.js';

const k = (name: string, namespace = 'team'): KCLRun => ({
  apiVersion: 'krm.kcl.dev.fluxcd/v1alpha1',
  kind: 'KCLRun',
  metadata: { name, namespace },
  spec: { sourceRef: { kind: 'GitRepository', name: 'repo' } },
});
const cond = (type: string, status: Condition['status']): Condition => ({ type, status, reason: 'R', message: 'm', lastTransitionTime: '2030-01-01T00:00:00Z' });

/** Parses exposition text into {name{labels}: value}, checking every line's syntax. */
function parse(text: string): Map<string, number> {
  const out = new Map<string, number>();
  const types = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const meta = /^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.+)$/.exec(line);
    if (meta) {
      if (meta[1] === 'TYPE') types.set(meta[2]!, meta[3]!);
      continue;
    }
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*",?)*\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`bad exposition line: ${line}`);
    out.set(`${m[1]}${m[2] ?? ''}`, Number(m[3]));
  }
  return out;
}

test('the duration histogram has cumulative buckets, +Inf, sum and count', (t) => {
  const m = new MetricsRegistry();
  m.duration(k('app'), 0.05);
  m.duration(k('app'), 0.5);
  m.duration(k('app'), 50);
  const text = m.render();
  t.regex(text, /^# TYPE gotk_reconcile_duration_seconds histogram$/m);
  const v = parse(text);
  const l = (le: string) => `gotk_reconcile_duration_seconds_bucket{kind="KCLRun",name="app",namespace="team",le="${le}"}`;
  t.is(v.get(l('0.01')), 0);
  t.is(v.get(l('0.1')), 1);
  t.is(v.get(l('1')), 2);
  t.is(v.get(l('10')), 2);
  t.is(v.get(l('100')), 3);
  t.is(v.get(l('+Inf')), 3);
  t.is(v.get('gotk_reconcile_duration_seconds_count{kind="KCLRun",name="app",namespace="team"}'), 3);
  t.true(Math.abs(v.get('gotk_reconcile_duration_seconds_sum{kind="KCLRun",name="app",namespace="team"}')! - 50.55) < 1e-9);
});

test('condition gauges: one series per status, 1 for the current one', (t) => {
  const m = new MetricsRegistry();
  m.conditions(k('app'), [cond('Ready', 'False'), cond('Reconciling', 'True'), cond('Stalled', 'True')]);
  const v = parse(m.render());
  const g = (type: string, status: string) => v.get(`gotk_reconcile_condition{kind="KCLRun",name="app",namespace="team",type="${type}",status="${status}"}`);
  t.is(g('Ready', 'False'), 1);
  t.is(g('Ready', 'True'), 0);
  t.is(g('Ready', 'Unknown'), 0);
  t.is(g('Ready', 'Deleted'), 0);
  t.is(g('Stalled', 'True'), 1);
  t.is(g('Reconciling', 'True'), undefined, 'Reconciling is not exported (as Flux)');
  m.conditions(k('app'), [cond('Ready', 'True')]);
  const after = parse(m.render());
  t.is(after.get('gotk_reconcile_condition{kind="KCLRun",name="app",namespace="team",type="Ready",status="True"}'), 1);
  t.is(after.get('gotk_reconcile_condition{kind="KCLRun",name="app",namespace="team",type="Stalled",status="True"}'), undefined);
});

test('forget reports Deleted and drops the suspend gauge', (t) => {
  const m = new MetricsRegistry();
  m.conditions(k('app'), [cond('Ready', 'True')]);
  m.suspended(k('app'), true);
  t.is(parse(m.render()).get('gotk_suspend_status{kind="KCLRun",name="app",namespace="team"}'), 1);
  m.forget(k('app'));
  const v = parse(m.render());
  t.is(v.get('gotk_reconcile_condition{kind="KCLRun",name="app",namespace="team",type="Ready",status="Deleted"}'), 1);
  t.is(v.get('gotk_suspend_status{kind="KCLRun",name="app",namespace="team"}'), undefined);
});

test('suspend gauge and process memory are exported; label values are escaped', (t) => {
  const m = new MetricsRegistry();
  m.suspended(k('a"b\\c'), false);
  const text = m.render();
  t.notThrows(() => parse(text));
  t.true(text.includes('gotk_suspend_status{kind="KCLRun",name="a\\"b\\\\c",namespace="team"} 0'));
  t.regex(text, /^# TYPE gotk_suspend_status gauge$/m);
  t.regex(text, /^# TYPE gotk_reconcile_condition gauge$/m);
  t.true((parse(text).get('process_resident_memory_bytes') ?? 0) > 1_000_000);
  t.true(text.endsWith('\n'));
});

test('an empty registry still renders valid exposition text with HELP/TYPE lines', (t) => {
  const text = new MetricsRegistry().render();
  t.notThrows(() => parse(text));
  t.regex(text, /# HELP gotk_reconcile_duration_seconds /);
});
