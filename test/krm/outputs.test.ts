import test from 'ava';
import { formatResourceList, itemsFromOutputs, parseInput } from '../../krm/index.js';
import type { JsonObject } from '../../krm/index.js';
import { readFixture } from './fixtures.js';

test('unchanged plain outputs map back onto their inputs byte-for-byte', (t) => {
  const text = readFixture('kpt-eval-input.yaml');
  const input = parseInput(text);
  const items = itemsFromOutputs(input.items.map((i) => i.toObject()), input.items);
  t.is(formatResourceList(items, { functionConfig: input.functionConfig }), text);
});

test('outputs without bookkeeping match by apiVersion/kind/namespace/name; ids win; new objects are new', (t) => {
  const input = parseInput(
    [
      'kind: S',
      'metadata:',
      '  name: web # first',
      '  annotations:',
      "    config.kubernetes.io/path: 'a.yaml'",
      "    internal.config.kubernetes.io/id: '1'",
      '---',
      'kind: S',
      'metadata:',
      '  name: web # second',
      '  annotations:',
      "    config.kubernetes.io/path: 'b.yaml'",
      "    internal.config.kubernetes.io/id: '2'",
      '',
    ].join('\n'),
  );
  const plain = (extra: JsonObject = {}): JsonObject => ({ kind: 'S', metadata: { name: 'web', ...extra } });
  // KCL kept the id of the second and dropped all annotations of the first; it also added a new object
  const outputs = [
    plain({ annotations: { 'internal.config.kubernetes.io/id': '2', 'config.kubernetes.io/path': 'b.yaml', x: 'z' } }),
    plain({ labels: { a: 'b' } }),
    { kind: 'S', metadata: { name: 'new' } },
  ];
  const items = itemsFromOutputs(outputs, input.items);
  t.deepEqual(items.map((i) => i.getAnnotation('config.kubernetes.io/path')), ['b.yaml', 'a.yaml', undefined]);
  t.regex(items[0]?.toString() ?? '', /name: web # second\n/);
  t.regex(items[0]?.toString() ?? '', /x: z\n/);
  t.is(
    items[1]?.toString(),
    "kind: S\nmetadata:\n  name: web # first\n  annotations:\n    config.kubernetes.io/path: 'a.yaml'\n    internal.config.kubernetes.io/id: '1'\n  labels:\n    a: b\n",
  );
  t.is(items[2]?.toString(), 'kind: S\nmetadata:\n  name: new\n');
});
