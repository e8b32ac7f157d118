/**
 * Measured defects of the legacy TS SDK `kpt-functions@0.16.1` on the same
 * kpt input, next to this layer's behaviour. These assertions keep the
 * README's design note ("why not kpt-functions") true.
 */
import test from 'ava';
import { createRequire } from 'node:module';
import type * as KptFunctions from 'kpt-functions';
import { formatResourceList, parseInput } from '../../krm/index.js';
import { readFixture } from './fixtures.js';

const kf = createRequire(import.meta.url)('kpt-functions') as typeof KptFunctions;
const kpt = readFixture('kpt-eval-input.yaml');

function legacyRoundTrip(text: string): string {
  return kf.stringify(kf.parse(text, kf.FileFormat.YAML), kf.FileFormat.YAML);
}

function ours(text: string): string {
  const input = parseInput(text);
  return formatResourceList(input.items, { functionConfig: input.functionConfig, results: input.results });
}

test('kpt-functions loses data on a plain kpt round trip; krm/ does not', (t) => {
  const legacy = legacyRoundTrip(kpt);
  const mine = ours(kpt);
  t.is(mine, kpt);
  // functionConfig dropped, `metadata: {name: output}` added
  t.false(legacy.includes('functionConfig:'));
  t.true(legacy.includes('metadata:\n  name: output\n'));
  // two Services named web (svc.yaml, other/svc.yaml): one is silently dropped
  t.is(kf.parse(kpt, kf.FileFormat.YAML).getAll().length, 5);
  t.is(parseInput(kpt).items.length, 6);
  // items re-sorted: Deployment before Kptfile
  t.true(legacy.indexOf('kind: Deployment') < legacy.indexOf('kind: Kptfile'));
  // values and styles changed; comments gone
  t.regex(legacy, /defaultMode: 420\n/);
  t.regex(legacy, /date: 2024-01-02T00:00:00\.000Z/);
  t.regex(legacy, /empty: null/);
  t.regex(legacy, /- '-c'/);
  t.false(legacy.includes('# Web deployment'));
  t.regex(mine, /defaultMode: 0644\n/);
});

test('kpt-functions crashes on an item without metadata and on a YAML stream; krm/ reads both', (t) => {
  const noMetadata = 'apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n- kind: Service\n';
  t.throws(() => kf.parse(noMetadata, kf.FileFormat.YAML), { message: /reading 'namespace'/ });
  t.is(ours(noMetadata), noMetadata);
  const stream = 'kind: A\n---\nkind: B\n';
  // js-yaml's YAMLException does not extend Error, so catch it by hand
  const err = (() => {
    try {
      kf.parse(stream, kf.FileFormat.YAML);
      return undefined;
    } catch (e) {
      return e as { message?: string };
    }
  })();
  t.regex(err?.message ?? '', /expected a single document/);
  t.is(parseInput(stream).items.length, 2);
});
