import test from 'ava';
import { carryInternalAnnotations, INTERNAL_ANNOTATION_KEYS, isInternalAnnotation, Item, parseInput } from '../../krm/index.js';
import { readFixture } from './fixtures.js';

test('internal annotation keys cover kpt and kustomize bookkeeping', (t) => {
  for (const k of ['config.kubernetes.io/path', 'config.kubernetes.io/index', 'config.k8s.io/id', 'kustomize.config.k8s.io/id']) {
    t.true((INTERNAL_ANNOTATION_KEYS as readonly string[]).includes(k), k);
  }
  t.true(isInternalAnnotation('internal.config.kubernetes.io/seqindent'));
  t.false(isInternalAnnotation('config.kubernetes.io/local-config'));
  t.false(isInternalAnnotation('app.kubernetes.io/name'));
});

test('items rebuilt from plain objects get their kpt annotations back, duplicates in order', (t) => {
  const input = parseInput(readFixture('kpt-eval-input.yaml'));
  // What KCL would return: plain objects without bookkeeping, order changed.
  const strip = (i: Item): Item => {
    const o = i.toObject() as any;
    if (o.metadata?.annotations) {
      for (const k of Object.keys(o.metadata.annotations)) if (isInternalAnnotation(k)) delete o.metadata.annotations[k];
    }
    return Item.fromObject(o);
  };
  const rebuilt = [...input.items].reverse().map(strip);
  rebuilt.push(Item.fromObject({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'new' } }));
  carryInternalAnnotations(rebuilt, input.items);
  const paths = rebuilt.map((i) => `${i.kind}/${i.name}@${i.getAnnotation('config.kubernetes.io/path')}#${i.getAnnotation('internal.config.kubernetes.io/id')}`);
  // the two Services named web (other/svc.yaml came first in the input) map in order
  t.deepEqual(paths, [
    'Service/web@other/svc.yaml#5',
    'Service/web@svc.yaml#6',
    'undefined/undefined@kustomization.yaml#4',
    'ConfigMap/cfg@deploy.yaml#3',
    'Deployment/web@deploy.yaml#2',
    'Kptfile/pkg@Kptfile#1',
    'ConfigMap/new@undefined#undefined',
  ]);
  t.is(rebuilt[4]?.getAnnotation('config.k8s.io/id'), '2');
  t.is(rebuilt[4]?.getAnnotation('internal.config.kubernetes.io/seqindent'), 'compact');
});

test('an output that kept its own annotations claims its input and is left alone', (t) => {
  const a = Item.fromObject({ kind: 'S', metadata: { name: 'x', annotations: { 'config.kubernetes.io/path': 'a.yaml', 'internal.config.kubernetes.io/id': '1' } } });
  const b = Item.fromObject({ kind: 'S', metadata: { name: 'x', annotations: { 'config.kubernetes.io/path': 'b.yaml', 'internal.config.kubernetes.io/id': '2' } } });
  const keptB = Item.fromObject(b.toObject());
  const rebuiltA = Item.fromObject({ kind: 'S', metadata: { name: 'x' } });
  carryInternalAnnotations([keptB, rebuiltA], [a, b]);
  t.is(keptB.getAnnotation('config.kubernetes.io/path'), 'b.yaml');
  t.is(rebuiltA.getAnnotation('config.kubernetes.io/path'), 'a.yaml');
});

test('kustomize ids are carried for YAML-stream input', (t) => {
  const input = parseInput('apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  annotations:\n    kustomize.config.k8s.io/id: |\n      kind: ConfigMap\n      name: c\n');
  const out = [Item.fromObject({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', labels: { a: 'b' } } })];
  carryInternalAnnotations(out, input.items);
  t.is(out[0]?.getAnnotation('kustomize.config.k8s.io/id'), 'kind: ConfigMap\nname: c\n');
});
