/**
 * CEL health (pure): RFC-0009 order (inProgress, failed, current; none true: InProgress), the observedGeneration
 * gate, evaluation errors as Unknown, keys by group/kind, and bad expressions reported by entry and field.
 */
import test from 'ava';
import { compileHealthExprs, computeStatus, InvalidHealthExpressionError, type JsonObject } from '../../../controller/ssa/index.js';

const widget = (status: JsonObject, generation = 1): JsonObject => ({ apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w', generation }, status });

const compiled = await compileHealthExprs([{
  apiVersion: 'example.com/v1',
  kind: 'Widget',
  inProgress: "status.phase == 'Working'",
  failed: "status.phase == 'Broken' || status.phase == 'Working'",
  current: "status.conditions.filter(e, e.type == 'Ready').all(e, e.status == 'True')",
}]);

test('expressions decide in RFC-0009 order; none true is InProgress', (t) => {
  if (!compiled.ok) return t.fail(compiled.error.message);
  const h = compiled.health;
  t.is(computeStatus(widget({ phase: 'Working', conditions: [] }), h).status, 'InProgress');
  t.is(computeStatus(widget({ phase: 'Broken', conditions: [] }), h).status, 'Failed');
  t.is(computeStatus(widget({ phase: 'Ok', conditions: [{ type: 'Ready', status: 'True' }] }), h).status, 'Current');
  t.is(computeStatus(widget({ phase: 'Ok', conditions: [{ type: 'Ready', status: 'False' }] }), h).status, 'InProgress');
  t.is(computeStatus(widget({ phase: 'Ok', observedGeneration: 1, conditions: [{ type: 'Ready', status: 'True' }] }, 2), h).status, 'InProgress');
  // Without the expressions, kstatus takes a Widget without conditions as Current.
  t.is(computeStatus(widget({ phase: 'Broken' })).status, 'Current');
  // The key is group/kind: another version of the same kind uses the same expressions.
  t.is(computeStatus({ ...widget({ phase: 'Broken' }), apiVersion: 'example.com/v2' }, h).status, 'Failed');
});

test('an expression that cannot be evaluated (missing field) or is not a boolean is Unknown', async (t) => {
  if (!compiled.ok) return t.fail(compiled.error.message);
  const r = computeStatus(widget({}), compiled.health);
  t.is(r.status, 'Unknown');
  t.regex(r.message, /No such key: phase/);
  const nb = await compileHealthExprs([{ apiVersion: 'example.com/v1', kind: 'Widget', current: 'status.phase' }]);
  if (!nb.ok) return t.fail();
  t.is(computeStatus(widget({ phase: 'x' }), nb.health).status, 'Unknown');
});

test('a bad expression names its entry and field', async (t) => {
  const bad = await compileHealthExprs([
    { apiVersion: 'example.com/v1', kind: 'Widget', current: 'true' },
    { apiVersion: 'example.com/v1', kind: 'Gadget', current: 'true', failed: 'status.(' },
  ]);
  t.false(bad.ok);
  if (bad.ok) return;
  t.true(bad.error instanceof InvalidHealthExpressionError);
  t.is(bad.error.index, 1);
  t.is(bad.error.which, 'failed');
  t.regex(bad.error.message, /^healthCheckExprs\[1\]\.failed: /);
  const huge = await compileHealthExprs([{ apiVersion: 'a/v1', kind: 'K', current: Array.from({ length: 3000 }, () => 'true').join(' && ') }]);
  t.false(huge.ok, 'an expression over the size limit is refused');
});
