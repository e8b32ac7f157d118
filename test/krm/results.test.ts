import test from 'ava';
import { exitCodeFor, formatResourceList, Item, parseInput, resourceRefOf } from '../../krm/index.js';
import type { Result } from '../../krm/index.js';

test('exit code is 1 exactly when some result is an error', (t) => {
  t.is(exitCodeFor([]), 0);
  t.is(exitCodeFor([{ message: 'a', severity: 'info' }, { message: 'b', severity: 'warning' }]), 0);
  t.is(exitCodeFor([{ message: 'a', severity: 'info' }, { message: 'b', severity: 'error' }]), 1);
});

test('resourceRefOf has only the fields the item has', (t) => {
  t.deepEqual(resourceRefOf(Item.fromObject({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: 'ns' } })), {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    name: 'web',
    namespace: 'ns',
  });
  t.deepEqual(resourceRefOf(Item.fromObject({ kind: 'Service' })), { kind: 'Service' });
});

test('results are written after items and functionConfig, in the Go SDK shape', (t) => {
  const deploy = Item.fromObject({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web' } });
  const results: Result[] = [
    { message: 'too many replicas', severity: 'error', resourceRef: resourceRefOf(deploy), field: { path: 'spec.replicas', currentValue: 6, proposedValue: 5 }, file: { path: 'deploy.yaml', index: 0 }, tags: { rule: 'limits' } },
    { message: 'fyi', severity: 'warning', file: { path: '' }, resourceRef: {} },
  ];
  const out = formatResourceList([deploy], { functionConfig: Item.fromObject({ kind: 'KCLRun' }), results });
  t.is(
    out,
    [
      'apiVersion: config.kubernetes.io/v1',
      'kind: ResourceList',
      'items:',
      '- apiVersion: apps/v1',
      '  kind: Deployment',
      '  metadata:',
      '    name: web',
      'functionConfig:',
      '  kind: KCLRun',
      'results:',
      '- message: too many replicas',
      '  severity: error',
      '  resourceRef:',
      '    apiVersion: apps/v1',
      '    kind: Deployment',
      '    name: web',
      '  field:',
      '    path: spec.replicas',
      '    currentValue: 6',
      '    proposedValue: 5',
      '  file:',
      '    path: deploy.yaml',
      '    index: 0',
      '  tags:',
      '    rule: limits',
      '- message: fyi',
      '  severity: warning',
      '',
    ].join('\n'),
  );
  t.is(exitCodeFor(results), 1);
  // results read back (e.g. from a previous function in a pipe)
  t.deepEqual(parseInput(out).results, [results[0], { message: 'fyi', severity: 'warning' }]);
});
