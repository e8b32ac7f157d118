import test from 'ava';
import { formatResourceList, formatStream, Item, parseInput } from '../../krm/index.js';
import { readFixture } from './fixtures.js';

/** Parse and write back in the same shape. */
function roundTrip(text: string): string {
  const input = parseInput(text);
  return input.format === 'ResourceList'
    ? formatResourceList(input.items, { functionConfig: input.functionConfig, results: input.results })
    : formatStream(input.items);
}

test('a ResourceList captured from kpt fn eval round-trips byte-for-byte', (t) => {
  const text = readFixture('kpt-eval-input.yaml');
  const input = parseInput(text);
  t.is(input.format, 'ResourceList');
  t.is(input.items.length, 6);
  t.is(input.functionConfig?.kind, 'ConfigMap');
  t.deepEqual(input.functionConfig?.toObject().data, { a: '1', b: 'two' });
  t.is(roundTrip(text), text);
});

test('comments, quoting, flow style and key order survive', (t) => {
  const text = [
    'apiVersion: config.kubernetes.io/v1',
    'kind: ResourceList',
    'items:',
    '- # head comment of the item',
    '  kind: Deployment # trailing',
    '  apiVersion: apps/v1',
    '  metadata: {name: "web", labels: {app: web}}',
    '  spec:',
    '    # before replicas',
    '    replicas: 3',
    "    args: ['-c', \"x\", plain]",
    '    text: |',
    '      line one',
    '      line two',
    'functionConfig:',
    '  apiVersion: krm.kcl.dev/v1alpha1',
    '  kind: KCLRun',
    '  spec:',
    '    source: |',
    '      items = option("items")',
    '',
  ].join('\n');
  t.is(roundTrip(text), text);
});

test('0644 reads as octal 420 (yaml.v3) and is written back as 0644', (t) => {
  const text = 'apiVersion: v1\nkind: Pod\nspec:\n  mode: 0644\n  neg: -0644\n  hex: 0x1F\n  exp: 1e3\n  plus: +12\n  f: 1.50\n  o: 0o17\n  b: 0b101\n  s: "0644"\n';
  const [item] = parseInput(text).items;
  t.deepEqual(item?.toObject().spec, { mode: 420, neg: -420, hex: 31, exp: 1000, plus: 12, f: 1.5, o: 15, b: 5, s: '0644' });
  t.is(roundTrip(text), text);
});

test('yes/on stay strings like yaml.v3; new ones are written quoted', (t) => {
  const text = 'apiVersion: v1\nkind: ConfigMap\ndata:\n  a: yes\n  b: on\n  c: "no"\n  d: true\n';
  const [item] = parseInput(text).items;
  t.deepEqual(item?.toObject().data, { a: 'yes', b: 'on', c: 'no', d: true });
  t.is(roundTrip(text), text);
  const fresh = Item.fromObject({ data: { a: 'yes', b: 'on', c: '0644', d: 'true', e: 'plain', num: 420 } });
  t.is(fresh.toString(), 'data:\n  a: "yes"\n  b: "on"\n  c: "0644"\n  d: "true"\n  e: plain\n  num: 420\n');
  t.deepEqual(parseInput(fresh.toString()).items[0]?.toObject(), fresh.toObject());
});

test('items without metadata (and without apiVersion/kind) are kept', (t) => {
  const text = 'apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n- kind: Service\n- resources:\n  - deploy.yaml\n';
  const input = parseInput(text);
  t.is(input.items.length, 2);
  t.is(input.items[0]?.kind, 'Service');
  t.is(input.items[0]?.name, undefined);
  t.is(input.items[1]?.apiVersion, undefined);
  t.is(roundTrip(text), text);
});

test('duplicate names in different files both survive, in order', (t) => {
  const svc = (file: string, port: number): string =>
    `- apiVersion: v1\n  kind: Service\n  metadata:\n    name: web\n    annotations:\n      config.kubernetes.io/path: '${file}'\n  spec:\n    ports:\n    - port: ${port}\n`;
  const text = `apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n${svc('b.yaml', 81)}${svc('a.yaml', 80)}`;
  const input = parseInput(text);
  t.deepEqual(input.items.map((i) => i.getAnnotation('config.kubernetes.io/path')), ['b.yaml', 'a.yaml']);
  t.is(roundTrip(text), text);
});

test('a YAML stream is read item by item and written back as a stream', (t) => {
  const text = '# header\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n---\napiVersion: v1\nkind: List\nitems:\n- kind: Secret\n---\n# last\nkind: Service\n';
  const input = parseInput(text);
  t.is(input.format, 'stream');
  t.deepEqual(input.items.map((i) => i.kind), ['ConfigMap', 'List', 'Service']);
  t.is(input.functionConfig, undefined);
  t.is(formatStream(input.items), text);
  t.is(formatStream([]), '');
  t.deepEqual(parseInput('').items, []);
  t.deepEqual(parseInput('---\n').items, []);
});

test('stream items written into a ResourceList keep their head comments inside the item', (t) => {
  const input = parseInput('# header\napiVersion: v1\nkind: ConfigMap\n');
  const out = formatResourceList(input.items);
  t.is(out, 'apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n- # header\n  apiVersion: v1\n  kind: ConfigMap\n');
  // and the item itself is unchanged, so it still writes back as a stream
  t.is(formatStream(input.items), '# header\napiVersion: v1\nkind: ConfigMap\n');
  // a second pass does not duplicate the comment (kpt would, if it sat before the dash)
  const again = parseInput(out);
  t.is(formatResourceList(again.items), out);
});

test('a comment on the line before the first item stays with that item', (t) => {
  const text = 'apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n# the web deployment\n- apiVersion: v1\n  kind: ConfigMap\n';
  const out = roundTrip(text);
  t.is(out, 'apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n- # the web deployment\n  apiVersion: v1\n  kind: ConfigMap\n');
  t.is(roundTrip(out), out, 'a second pass writes the same');
});

test('empty ResourceList and items: null are accepted', (t) => {
  t.deepEqual(parseInput('apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems: null\n').items, []);
  const input = parseInput('apiVersion: config.kubernetes.io/v1\nkind: ResourceList\n');
  t.is(input.format, 'ResourceList');
  t.is(formatResourceList(input.items), 'apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems: []\n');
});
