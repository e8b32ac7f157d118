/**
 * Everything yaml.v3 writes is read, with the values PyYAML's libyaml loader reads from it. The fixtures are real
 * output: `kpt fn eval corpus-pkg --fn-config corpus-fn-config.yaml` captured at the exec function (multi-line
 * single-quoted scalars closed at column 0, a `---` inside a block scalar, anchors, tabs, long lines, folded and kept
 * block scalars), and `kustomize build` of the same files. The `.expected.json` files are PyYAML's (CSafeLoader) reading.
 */
import test from 'ava';
import { parseInput, formatResourceList, KrmInputError } from '../../krm/index.js';
import { readFixture } from './fixtures.js';

const BOM = '\uFEFF';

function expected(name: string): unknown[] {
  return JSON.parse(readFixture(name)) as unknown[];
}

test('kpt corpus: the ResourceList kpt sends is read with the values libyaml reads', (t) => {
  const [list] = expected('kpt-corpus.expected.json') as Array<{ items: unknown[]; functionConfig: unknown }>;
  const input = parseInput(readFixture('kpt-corpus.yaml'));
  t.is(input.format, 'ResourceList');
  t.deepEqual(input.items.map((i) => i.toObject()), list!.items);
  t.deepEqual(input.functionConfig?.toObject(), list!.functionConfig);
});

test('kpt corpus with CRLF line ends and a BOM: the same values (CRLF inside quoted scalars folds as LF)', (t) => {
  const [list] = expected('kpt-corpus.expected.json') as Array<{ items: unknown[] }>;
  const input = parseInput(BOM + readFixture('kpt-corpus.yaml').replace(/\n/g, '\r\n'));
  t.deepEqual(input.items.map((i) => i.toObject()), list!.items);
});

test('kustomize corpus: a kustomize build stream is read with the values libyaml reads', (t) => {
  const input = parseInput(readFixture('kustomize-corpus.yaml'));
  t.is(input.format, 'stream');
  t.deepEqual(input.items.map((i) => i.toObject()), expected('kustomize-corpus.expected.json'));
});

test('kpt corpus written back and read again: same values, the quoted source now valid YAML 1.2', (t) => {
  const input = parseInput(readFixture('kpt-corpus.yaml'));
  const text = formatResourceList(input.items, { functionConfig: input.functionConfig });
  const again = parseInput(text);
  t.deepEqual(again.items.map((i) => i.toObject()), input.items.map((i) => i.toObject()));
  t.deepEqual(again.functionConfig?.toObject(), input.functionConfig?.toObject());
});

test('the column-0 repair never hides a real error: an unterminated quote still fails with its position', (t) => {
  const err = t.throws(() => parseInput("apiVersion: v1\nkind: ConfigMap\ndata:\n  a: 'open\n\nb: 1\n"), { instanceOf: KrmInputError });
  t.truthy(err?.line);
});

test('a quote inside a plain scalar or a block scalar is not taken for a quoted scalar', (t) => {
  const text = [
    'apiVersion: v1',
    'kind: ConfigMap',
    'metadata:',
    "  name: don't",
    'data:',
    '  script: |',
    "    echo 'x",
    '  multi: "first',
    '    second',
    '"',
    "  after: it's",
    '',
  ].join('\n');
  const [item] = parseInput(text).items;
  t.deepEqual(item?.toObject(), {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: "don't" },
    data: { script: "echo 'x\n", multi: 'first second ', after: "it's" },
  });
});
