/**
 * The alias budget (krm/yaml-limits.ts): YAML alias bombs are refused while parsing, with a YamlAliasError naming
 * line and column, before anything expands them; documents that use aliases the ordinary way still read as before.
 */
import test from 'ava';
import { parseDocument } from 'yaml';
import { aliasBudgetProblem, formatResourceList, KrmInputError, parseInput, YamlAliasError } from '../../krm/index.js';
import { allowedAliasRatio } from '../../krm/yaml-limits.js';
import { readFixture } from './fixtures.js';

function refused(text: string): YamlAliasError {
  const err = (() => {
    try {
      parseInput(text);
    } catch (e) {
      return e;
    }
    return undefined;
  })();
  if (!(err instanceof YamlAliasError)) throw new Error(`expected YamlAliasError, got ${String(err)}`);
  return err;
}

/** `levels` anchors, each a list of nine aliases of the one before: 9^levels scalars once expanded. */
function laughs(levels: number, indent = ''): string {
  const names = 'abcdefghijklmnopqrstuvwxyz';
  const lines = [`${indent}a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]`];
  for (let i = 1; i < levels; i++) lines.push(`${indent}${names[i]}: &${names[i]} [${Array(9).fill(`*${names[i - 1]}`).join(', ')}]`);
  return lines.join('\n') + '\n';
}

test('the 730-byte ResourceList bomb (an item, 9^8 strings) is refused with its line and column', (t) => {
  const text = readFixture('alias-bomb.yaml');
  t.true(text.length < 800);
  const err = refused(text);
  t.true(err instanceof KrmInputError, 'a KrmInputError, so every caller that handles bad input handles it');
  t.is(err.line, 13, 'the first alias past the budget, on the fourth level');
  t.regex(err.message, /^invalid KRM input at line 13, column \d+: document contains excessive aliasing: .*yaml\.v3/);
});

test('a nine-level bomb in the functionConfig is refused', (t) => {
  const err = refused(readFixture('alias-bomb-nine-levels.yaml'));
  t.regex(err.message, /excessive aliasing/);
  t.is(err.line, 20);
});

test('a nine-level bomb in a plain YAML stream is refused, and so is one spread over many documents', (t) => {
  t.regex(refused(`kind: A\nmetadata:\n  name: a\ndata:\n${laughs(9, '  ')}`).message, /excessive aliasing/);
  // Three levels per document pass alone (as in yaml.v3, which counts per document); a thousand of them do not:
  // the budget counts the whole text, so the ratio allowed falls as the expansion grows.
  const doc = (i: number) => `kind: A\nmetadata:\n  name: a${i}\ndata:\n${laughs(3, '  ')}`;
  t.notThrows(() => parseInput(doc(0)));
  t.regex(refused(Array.from({ length: 1000 }, (_, i) => doc(i)).join('---\n')).message, /excessive aliasing/);
});

test('aliases that repeat one long string are refused by the text budget', (t) => {
  const long = 'x'.repeat(100_000);
  const text = `kind: A\nmetadata: {name: a}\nlong: &s ${long}\ncopies: [${Array(200).fill('*s').join(', ')}]\n`;
  t.regex(refused(text).message, /repeat more than 16777216 characters/);
});

test('an alias inside its own anchor, and an alias without an anchor, are refused', (t) => {
  t.regex(refused('kind: A\nmetadata: {name: a}\nloop: &a [x, *a]\n').message, /inside the node anchored &a \(a cycle\)/);
  const e = refused('kind: A\nmetadata: {name: a}\nx: *nowhere\n');
  t.is(e.line, 3);
  t.regex(e.message, /alias \*nowhere has no anchor &nowhere before it/);
});

test('an item using an anchor of another item is refused (it could not stand alone)', (t) => {
  const e = refused(`apiVersion: config.kubernetes.io/v1
kind: ResourceList
items:
- {apiVersion: v1, kind: ConfigMap, metadata: {name: a}, data: &d {k: v}}
- {apiVersion: v1, kind: ConfigMap, metadata: {name: b}, data: *d}
`);
  t.is(e.line, 5);
  t.regex(e.message, /items\[1\] uses the alias \*d of an anchor outside it/);
});

test('ordinary aliases still read: expanded in the object, kept as aliases in the YAML written back', (t) => {
  const text = `apiVersion: config.kubernetes.io/v1
kind: ResourceList
items:
- apiVersion: apps/v1
  kind: Deployment
  metadata:
    name: web
    labels: &labels {app: web, team: payments}
  spec:
    selector:
      matchLabels: *labels
    template:
      metadata:
        labels: *labels
      spec:
        containers:
${Array.from({ length: 150 }, (_, i) => `        - {name: c${i}, image: nginx, resources: &r${i} {limits: {cpu: 100m}}}\n        - {name: d${i}, image: nginx, resources: *r${i}}`).join('\n')}
`;
  const input = parseInput(text);
  const obj = input.items[0]!.toObject() as any;
  t.deepEqual(obj.spec.template.metadata.labels, { app: 'web', team: 'payments' });
  t.deepEqual(obj.spec.selector.matchLabels, { app: 'web', team: 'payments' });
  t.deepEqual(obj.spec.template.spec.containers[299].resources, { limits: { cpu: '100m' } });
  t.true(formatResourceList(input.items).includes('matchLabels: *labels'));
  // 150 uses of one anchor: more than the `yaml` package's own default (100) allows, well within yaml.v3's rule.
  const many = `kind: A\nmetadata: {name: a}\nbase: &r {cpu: 1}\nlist:\n${Array(150).fill('- *r').join('\n')}\n`;
  t.is((parseInput(many).items[0]!.toObject().list as unknown[]).length, 150);
  // 1,000 uses of a scalar and 500 of a list holding it: within yaml.v3's rule (the `yaml` package's own count,
  // 501 × 1,001, would refuse it).
  const nested = `kind: A\nmetadata: {name: a}\ny: &y v\nys: [${Array(1000).fill('*y').join(', ')}]\nx: &x [*y]\nxs:\n${Array(500).fill('- *x').join('\n')}\n`;
  t.deepEqual((parseInput(nested).items[0]!.toObject().xs as unknown[])[499], ['v']);
});

test('the ratio is yaml.v3’s: 99% up to 400,000 decodes, down to 10% at 4,000,000', (t) => {
  t.is(allowedAliasRatio(1000), 0.99);
  t.is(allowedAliasRatio(400_000), 0.99);
  t.is(allowedAliasRatio(4_000_000), 0.1);
  t.true(Math.abs(allowedAliasRatio(2_200_000) - 0.545) < 1e-9);
  // Below 1,000 decodes (or 100 alias-driven ones) nothing is refused, however high the share from aliases.
  t.is(aliasBudgetProblem([parseDocument(laughs(3))], 100), undefined);
  t.truthy(aliasBudgetProblem([parseDocument(laughs(4))], 100));
});
