import test from 'ava';
import { Item, parseInput } from '../../krm/index.js';
import type { JsonObject } from '../../krm/index.js';

const DEPLOY = [
  '# head',
  'apiVersion: apps/v1',
  'kind: Deployment',
  'metadata:',
  '  name: web # the name',
  '  labels: {app: web}',
  'spec:',
  '  # how many',
  '  replicas: 3 # three',
  '  template:',
  '    spec:',
  '      containers:',
  '      # sidecar first',
  '      - name: proxy',
  "        image: 'envoy:1'",
  '      - name: web # main',
  '        image: "nginx:1.25"',
  '      volumes:',
  '      - name: cfg',
  '        configMap: {name: cfg, defaultMode: 0644}',
  '',
].join('\n');

function item(text: string): Item {
  const [first] = parseInput(text).items;
  if (!first) throw new Error('no item');
  return first;
}

test('getters read apiVersion, kind, name and namespace', (t) => {
  const it = item(DEPLOY);
  t.is(it.apiVersion, 'apps/v1');
  t.is(it.kind, 'Deployment');
  t.is(it.name, 'web');
  t.is(it.namespace, undefined);
  t.is(Item.fromObject({ metadata: { name: 'x', namespace: 'ns' } }).namespace, 'ns');
  t.is(Item.fromObject({ metadata: null }).name, undefined);
});

test('withObject of the same object changes nothing', (t) => {
  const it = item(DEPLOY);
  t.is(it.withObject(it.toObject()).toString(), DEPLOY);
});

test('withObject keeps comments, quoting and order of untouched keys', (t) => {
  const it = item(DEPLOY);
  const next = it.toObject() as any;
  next.spec.replicas = 5;
  next.metadata.labels.tier = 'frontend';
  next.spec.template.spec.containers[1].image = 'nginx:1.26';
  next.spec.paused = false;
  delete next.spec.template.spec.volumes;
  const out = it.withObject(next as JsonObject);
  t.is(
    out.toString(),
    [
      '# head',
      'apiVersion: apps/v1',
      'kind: Deployment',
      'metadata:',
      '  name: web # the name',
      '  labels: {app: web, tier: frontend}',
      'spec:',
      '  # how many',
      '  replicas: 5 # three',
      '  template:',
      '    spec:',
      '      containers:',
      '      # sidecar first',
      '      - name: proxy',
      "        image: 'envoy:1'",
      '      - name: web # main',
      '        image: "nginx:1.26"',
      '  paused: false',
      '',
    ].join('\n'),
  );
  // the original item is untouched
  t.is(it.toString(), DEPLOY);
});

test('withObject matches list elements by name when KCL reorders them', (t) => {
  const it = item(DEPLOY);
  const next = it.toObject() as any;
  next.spec.template.spec.containers.reverse();
  const text = it.withObject(next as JsonObject).toString();
  // elements move with their own comments; a comment above the list stays above it
  t.regex(text, /containers:\n {6}# sidecar first\n {6}- name: web # main\n {8}image: "nginx:1.25"\n {6}- name: proxy\n {8}image: 'envoy:1'\n/);
});

test('withObject keeps 0644 when the mode is unchanged and writes a new value plainly', (t) => {
  const it = item(DEPLOY);
  t.regex(it.withObject(it.toObject()).toString(), /defaultMode: 0644/);
  const next = it.toObject() as any;
  next.spec.template.spec.volumes[0].configMap.defaultMode = 384;
  t.regex(it.withObject(next as JsonObject).toString(), /defaultMode: 384\}/);
});

test('withObject can replace the whole shape (scalar to map and back)', (t) => {
  const it = Item.fromObject({ a: 1, b: { c: 2 } });
  t.is(it.withObject({ a: { x: 1 }, b: 'flat' }).toString(), 'a:\n  x: 1\nb: flat\n');
});

test('annotations: read, set (creating metadata) and delete', (t) => {
  const bare = item('kind: Service\n');
  t.is(bare.getAnnotation('a'), undefined);
  bare.setAnnotation('a', 'x');
  bare.setAnnotation('config.kubernetes.io/index', '0');
  t.is(bare.toString(), 'kind: Service\nmetadata:\n  annotations:\n    a: x\n    config.kubernetes.io/index: "0"\n');
  t.deepEqual(bare.getAnnotations(), { a: 'x', 'config.kubernetes.io/index': '0' });
  t.true(bare.deleteAnnotation('a'));
  t.false(bare.deleteAnnotation('a'));

  const quoted = item("kind: A\nmetadata:\n  annotations:\n    k: 'old' # keep\n  name: n\n");
  quoted.setAnnotation('k', 'new');
  t.is(quoted.toString(), "kind: A\nmetadata:\n  annotations:\n    k: 'new' # keep\n  name: n\n");

  const nullMeta = item('kind: A\nmetadata:\n');
  nullMeta.setAnnotation('k', 'v');
  t.is(nullMeta.getAnnotation('k'), 'v');
});

test('toObject gives the plain JSON view', (t) => {
  t.deepEqual(item('kind: A\nx: 0644\ny: yes\nz: ~\nw: [1, "2"]\n').toObject(), { kind: 'A', x: 420, y: 'yes', z: null, w: [1, '2'] });
});
