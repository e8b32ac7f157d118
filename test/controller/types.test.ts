/**
 * The API's defaulting getters and duration parsing (pure): Go durations, the walk-through defaults (interval 10m,
 * prune true) and the timeout derivation (interval − 30s, clamped to 30s..5m).
 */
import test from 'ava';
import { DEFAULTS, getInterval, getPrune, getRetryInterval, getTimeout, parseDuration, sourceNamespace, type KCLRun, type KCLRunSpec } from '../../controller/api/types.js';

const kclrun = (spec: Partial<KCLRunSpec> = {}): KCLRun => ({
  apiVersion: 'krm.kcl.dev.fluxcd/v1alpha1',
  kind: 'KCLRun',
  metadata: { name: 'app', namespace: 'team' },
  spec: { sourceRef: { kind: 'GitRepository', name: 'flask-demo' }, ...spec },
});

const durations: Array<[string | undefined, number | undefined]> = [
  ['500ms', 500],
  ['1s', 1000],
  ['1.5s', 1500],
  ['10m', 600_000],
  ['1h', 3_600_000],
  ['1h2m3s', 3_723_000],
  ['2m30s', 150_000],
  ['0s', 0],
  [undefined, undefined],
  ['', undefined],
  ['10', undefined],
  ['m', undefined],
  ['10x', undefined],
  ['10m ', undefined],
  [' 10m', undefined],
  ['-1s', undefined],
  ['1d', undefined],
  ['10mins', undefined],
];

for (const [input, expected] of durations) {
  test(`parseDuration(${JSON.stringify(input)}) = ${expected}`, (t) => {
    t.is(parseDuration(input), expected);
  });
}

test('the walk-through KCLRun (only sourceRef) gets the documented defaults', (t) => {
  const k = kclrun();
  t.is(DEFAULTS.interval, '10m');
  t.is(getInterval(k), 600_000);
  t.is(getRetryInterval(k), 600_000);
  t.is(getPrune(k), true);
  t.is(getTimeout(k), 5 * 60_000); // 10m − 30s, clamped to 5m
  t.is(sourceNamespace(k), 'team');
});

const timeouts: Array<[Partial<KCLRunSpec>, number, string]> = [
  [{}, 300_000, 'default interval → clamped to 5m'],
  [{ interval: '1m' }, 30_000, '1m − 30s'],
  [{ interval: '2m' }, 90_000, '2m − 30s'],
  [{ interval: '10s' }, 30_000, 'short interval → at least 30s'],
  [{ interval: '1h' }, 300_000, 'long interval → at most 5m'],
  [{ interval: '1m', timeout: '7s' }, 7_000, 'explicit timeout wins'],
  [{ interval: '1m', timeout: '20m' }, 1_200_000, 'explicit timeout is not clamped'],
  [{ timeout: 'bogus' }, 300_000, 'invalid timeout falls back to derivation'],
];
for (const [spec, expected, what] of timeouts) {
  test(`getTimeout: ${what}`, (t) => {
    t.is(getTimeout(kclrun(spec)), expected);
  });
}

test('retryInterval defaults to interval; explicit values win; invalid interval falls back to 10m', (t) => {
  t.is(getRetryInterval(kclrun({ interval: '5m' })), 300_000);
  t.is(getRetryInterval(kclrun({ interval: '5m', retryInterval: '30s' })), 30_000);
  t.is(getInterval(kclrun({ interval: 'nonsense' })), 600_000);
});

test('prune can be turned off; sourceRef.namespace overrides the KCLRun namespace', (t) => {
  t.false(getPrune(kclrun({ prune: false })));
  t.true(getPrune(kclrun({ prune: true })));
  t.is(sourceNamespace(kclrun({ sourceRef: { kind: 'GitRepository', name: 'x', namespace: 'flux-system' } })), 'flux-system');
});
