/**
 * Sharding pieces (pure): label selectors are checked like `labels.Parse`; the Lease name follows fluxcd/pkg
 * `GenerateID`; `kclrun install --shard` adds one Deployment per shard and narrows the main one.
 */
import test from 'ava';
import { createHash } from 'node:crypto';
import { labelSelectorError } from '../../controller/label-selector.js';
import { leaderElectionId } from '../../controller/run.js';
import { installManifests } from '../../controller/install.js';

for (const ok of ['sharding.fluxcd.io/key in (shard1)', '!sharding.fluxcd.io/key', 'a=b,c!=d', 'tier notin (x, y),env==prod', 'app', 'k in ()']) {
  test(`valid selector: ${ok}`, (t) => t.is(labelSelectorError(ok), undefined));
}
for (const bad of ['', 'k in (a', 'k=has space', 'Bad_Prefix!/k', '-k=v', 'k=v,', 'k=' + 'x'.repeat(64), 'k in (a b)', '!']) {
  test(`invalid selector: ${JSON.stringify(bad)}`, (t) => t.truthy(labelSelectorError(bad)));
}

test('the Lease name gets the first 8 hex of sha256(selector), as fluxcd/pkg GenerateID', (t) => {
  t.is(leaderElectionId('kclrun-controller-leader-election'), 'kclrun-controller-leader-election');
  const sel = 'sharding.fluxcd.io/key in (shard1)';
  t.is(leaderElectionId('kclrun-controller-leader-election', sel), `kclrun-controller-leader-election-${createHash('sha256').update(sel).digest('hex').slice(0, 8)}`);
});

type Deployment = { metadata: { name: string }; spec: { selector: { matchLabels: Record<string, string> }; template: { metadata: { labels: Record<string, string> }; spec: { serviceAccountName: string; containers: Array<{ args: string[] }> } } } };
const deployments = (shards?: string[]) => installManifests({ version: '1.0.0', shards }).filter((o) => o.kind === 'Deployment') as unknown as Deployment[];
const matches = (sel: Record<string, string>, labels: Record<string, string>) => Object.entries(sel).every(([k, v]) => labels[k] === v);

test('install without shards: one Deployment watching every KCLRun', (t) => {
  const [main, ...rest] = deployments();
  t.is(rest.length, 0);
  t.false(main!.spec.template.spec.containers[0]!.args.some((a) => a.startsWith('--watch-label-selector')));
  t.deepEqual(main!.spec.selector.matchLabels, { 'app.kubernetes.io/name': 'kclrun', 'app.kubernetes.io/component': 'controller' });
});

test('install --shard: one Deployment per shard, the main one takes KCLRuns without a shard label; pod selectors do not overlap', (t) => {
  const ds = deployments(['shard1', 'shard2']);
  t.deepEqual(ds.map((d) => d.metadata.name), ['kclrun-controller', 'kclrun-controller-shard1', 'kclrun-controller-shard2']);
  t.deepEqual(ds.map((d) => d.spec.template.spec.containers[0]!.args.find((a) => a.startsWith('--watch-label-selector'))), [
    '--watch-label-selector=!sharding.fluxcd.io/key',
    '--watch-label-selector=sharding.fluxcd.io/key in (shard1)',
    '--watch-label-selector=sharding.fluxcd.io/key in (shard2)',
  ]);
  for (const d of ds) {
    t.is(d.spec.template.spec.serviceAccountName, 'kclrun-controller');
    for (const other of ds) t.is(matches(d.spec.selector.matchLabels, other.spec.template.metadata.labels), d === other, `${d.metadata.name} selects ${other.metadata.name}`);
  }
  t.throws(() => installManifests({ version: '1.0.0', shards: ['Bad Name'] }), { instanceOf: RangeError });
});
