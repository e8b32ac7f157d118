import test from 'ava';
import {
  OWNER_NAME_LABEL,
  OWNER_NAMESPACE_LABEL,
  PRUNE_ANNOTATION,
  RECONCILE_ANNOTATION,
  SSA_ANNOTATION,
} from '../../../controller/api/group.js';
import { hasDrifted, isImmutableError, pruneExclusion, shouldSkip } from '../../../controller/ssa/index.js';
import type { JsonObject } from '../../../controller/ssa/index.js';

const cm = (annotations: Record<string, string> = {}, labels: Record<string, string> = {}, data: JsonObject = {}): JsonObject => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name: 'c', namespace: 'n', annotations, labels },
  data,
});

test('skip rules', (t) => {
  t.false(shouldSkip(cm(), undefined));
  t.false(shouldSkip(cm(), cm()));
  t.true(shouldSkip(cm({ [RECONCILE_ANNOTATION]: 'disabled' }), undefined));
  t.true(shouldSkip(cm({ [SSA_ANNOTATION]: 'Ignore' }), undefined));
  t.true(shouldSkip(cm(), cm({ [RECONCILE_ANNOTATION]: 'disabled' })), 'disabled on the live object');
  t.false(shouldSkip(cm({ [SSA_ANNOTATION]: 'IfNotPresent' }), undefined), 'IfNotPresent creates');
  t.true(shouldSkip(cm({ [SSA_ANNOTATION]: 'IfNotPresent' }), cm()), 'IfNotPresent leaves existing objects');
  t.false(shouldSkip(cm({ [SSA_ANNOTATION]: 'Merge' }), cm()));
});

test('immutable errors', (t) => {
  t.true(isImmutableError({ status: 422, message: 'x' }));
  t.true(isImmutableError({ status: 409, message: 'x' }));
  t.true(isImmutableError({ status: 400, message: 'admission webhook: field is immutable' }));
  t.true(isImmutableError({ status: 403, message: 'denied: immutable field spec.x' }));
  t.false(isImmutableError({ status: 403, message: 'forbidden' }));
});

test('prune exclusions', (t) => {
  const owner = { [OWNER_NAME_LABEL]: 'app', [OWNER_NAMESPACE_LABEL]: 'flux' };
  t.is(pruneExclusion(cm({}, owner), owner), undefined);
  t.truthy(pruneExclusion(cm({}, { [OWNER_NAME_LABEL]: 'app' }), owner), 'one label missing');
  t.truthy(pruneExclusion(cm({}, { ...owner, [OWNER_NAME_LABEL]: 'other' }), owner), 'another owner');
  t.truthy(pruneExclusion(cm({ [PRUNE_ANNOTATION]: 'disabled' }, owner), owner));
  t.truthy(pruneExclusion(cm({ [RECONCILE_ANNOTATION]: 'disabled' }, owner), owner));
  t.truthy(pruneExclusion(cm({ [SSA_ANNOTATION]: 'Ignore' }, owner), owner));
  t.truthy(pruneExclusion(cm({}, owner), {}), 'an empty selector prunes nothing');
});

test('drift ignores server-maintained metadata and status', (t) => {
  const live = cm({}, {}, { a: '1' });
  const md = live['metadata'] as JsonObject;
  Object.assign(md, { uid: 'u1', resourceVersion: '5', generation: 1, creationTimestamp: 'x', managedFields: [{ manager: 'a' }] });
  live['status'] = { phase: 'x' };
  const dry = cm({}, {}, { a: '1' });
  Object.assign(dry['metadata'] as JsonObject, { uid: 'u1', resourceVersion: '6', managedFields: [{ manager: 'b' }] });
  t.false(hasDrifted(live, dry));
  t.true(hasDrifted(live, cm({}, {}, { a: '2' })));
  t.true(hasDrifted(live, cm({}, { x: 'y' }, { a: '1' })), 'labels count');
  t.true(hasDrifted(live, cm({ x: 'y' }, {}, { a: '1' })), 'annotations count');
});
