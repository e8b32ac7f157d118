/** Managed-field takeover: which managers are foreign, and how their fields merge into ours. */
import test from 'ava';
import { isForeignManager, takeOverManagedFields } from '../../../controller/ssa/managers.js';
import type { JsonObject } from '../../../controller/kube/types.js';

for (const [manager, foreign] of [
  ['kubectl', true],
  ['kubectl-edit', true],
  ['kubectl-client-side-apply', true],
  ['before-first-apply', true],
  ['kclrun', false],
  ['kube-controller-manager', false],
  ['helm', false],
] as const) {
  test(`isForeignManager(${manager}) is ${foreign}`, (t) => t.is(isForeignManager(manager), foreign));
}

test('foreign entries merge into our Apply entry; status subresource entries and other managers are kept', (t) => {
  const live: JsonObject = {
    apiVersion: 'v1',
    metadata: {
      managedFields: [
        { manager: 'kclrun', operation: 'Apply', apiVersion: 'v1', fieldsType: 'FieldsV1', fieldsV1: { 'f:data': { 'f:mode': {} } } },
        { manager: 'kubectl-edit', operation: 'Update', apiVersion: 'v1', fieldsType: 'FieldsV1', fieldsV1: { 'f:data': { 'f:extra': {} } } },
        { manager: 'kubectl', operation: 'Update', apiVersion: 'v1', subresource: 'status', fieldsType: 'FieldsV1', fieldsV1: { 'f:status': {} } } as JsonObject,
        { manager: 'other', operation: 'Update', apiVersion: 'v1', fieldsType: 'FieldsV1', fieldsV1: { 'f:data': { 'f:theirs': {} } } },
      ],
    },
  };
  const out = takeOverManagedFields(live, 'kclrun', new Date('2026-01-02T03:04:05.678Z'))!;
  t.deepEqual(out.map((e) => `${e.manager}/${e.operation}${e.subresource ? `/${e.subresource}` : ''}`), ['kubectl/Update/status', 'other/Update', 'kclrun/Apply']);
  t.deepEqual(out[2], {
    manager: 'kclrun',
    operation: 'Apply',
    apiVersion: 'v1',
    time: '2026-01-02T03:04:05Z',
    fieldsType: 'FieldsV1',
    fieldsV1: { 'f:data': { 'f:mode': {}, 'f:extra': {} } },
  });
});

test('nothing to take over gives undefined', (t) => {
  t.is(takeOverManagedFields({ metadata: { managedFields: [{ manager: 'kclrun', operation: 'Apply' }] } }, 'kclrun'), undefined);
  t.is(takeOverManagedFields({ metadata: {} }, 'kclrun'), undefined);
});

test('--override-manager names more managers to take over (Apply and Update); our own entry is never foreign', (t) => {
  t.true(isForeignManager('helm', ['helm']));
  t.false(isForeignManager('helm', ['argocd']));
  const live: JsonObject = {
    apiVersion: 'v1',
    metadata: {
      managedFields: [
        { manager: 'helm', operation: 'Apply', apiVersion: 'v1', fieldsType: 'FieldsV1', fieldsV1: { 'f:data': { 'f:a': {} } } },
        { manager: 'argocd', operation: 'Update', apiVersion: 'v1', fieldsType: 'FieldsV1', fieldsV1: { 'f:data': { 'f:b': {} } } },
      ],
    },
  };
  t.is(takeOverManagedFields(live, 'kclrun'), undefined, 'without the flag nothing is taken over');
  const out = takeOverManagedFields(live, 'kclrun', new Date('2026-01-02T03:04:05Z'), ['helm', 'argocd', 'kclrun'])!;
  t.deepEqual(out.map((e) => e.manager), ['kclrun']);
  t.deepEqual(out[0]!.fieldsV1, { 'f:data': { 'f:a': {}, 'f:b': {} } });
});
