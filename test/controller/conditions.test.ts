/**
 * Condition setters (pure): lastTransitionTime moves only when the status changes, reasons the API would reject
 * throw, messages are clamped to the API's limit, and conditions are kept in Flux's order.
 */
import test from 'ava';
import { MAX_MESSAGE_LENGTH, REASON_PATTERN, REASONS, type Condition } from '../../controller/api/conditions.js';
import { clampMessage, deleteCondition, getCondition, isTrue, setCondition, sortConditions } from '../../controller/status/conditions.js';

const t0 = new Date('2030-01-01T00:00:00.123Z');
const t1 = new Date('2030-01-01T00:05:00.456Z');

test('a new condition gets the current time, without milliseconds', (t) => {
  const cs = setCondition(undefined, { type: 'Ready', status: 'Unknown', reason: 'Progressing', message: 'Reconciliation in progress' }, t0);
  t.deepEqual(cs, [{ type: 'Ready', status: 'Unknown', lastTransitionTime: '2030-01-01T00:00:00Z', reason: 'Progressing', message: 'Reconciliation in progress' }]);
});

const transitions: Array<[Condition['status'], Condition['status'], string]> = [
  ['True', 'True', '2030-01-01T00:00:00Z'],
  ['False', 'False', '2030-01-01T00:00:00Z'],
  ['Unknown', 'Unknown', '2030-01-01T00:00:00Z'],
  ['True', 'False', '2030-01-01T00:05:00Z'],
  ['False', 'True', '2030-01-01T00:05:00Z'],
  ['Unknown', 'True', '2030-01-01T00:05:00Z'],
];
for (const [from, to, expected] of transitions) {
  test(`lastTransitionTime ${from} → ${to}: ${expected === '2030-01-01T00:00:00Z' ? 'kept' : 'moved'}`, (t) => {
    const first = setCondition([], { type: 'Ready', status: from, reason: 'Progressing', message: 'a' }, t0);
    const second = setCondition(first, { type: 'Ready', status: to, reason: 'ReconciliationSucceeded', message: 'b', observedGeneration: 3 }, t1);
    const ready = getCondition(second, 'Ready')!;
    t.is(ready.lastTransitionTime, expected);
    t.is(ready.reason, 'ReconciliationSucceeded'); // reason and message always update
    t.is(ready.message, 'b');
    t.is(ready.observedGeneration, 3);
    t.is(second.length, 1);
  });
}

const badReasons = ['', 'has space', '1StartsWithDigit', 'Ends,', 'dash-ed', 'Ends:', 'Ünicode'];
for (const reason of badReasons) {
  test(`setCondition throws on invalid reason ${JSON.stringify(reason)}`, (t) => {
    t.throws(() => setCondition([], { type: 'Ready', status: 'False', reason, message: 'x' }), { message: /invalid condition reason/ });
  });
}

test('every declared reason matches the API pattern', (t) => {
  for (const r of Object.values(REASONS)) t.regex(r, REASON_PATTERN);
});

test('messages: empty becomes "No message", surrounding space is trimmed, long ones clamped to the API limit', (t) => {
  t.is(clampMessage(''), 'No message');
  t.is(clampMessage('  \n'), 'No message');
  t.is(clampMessage('  ok \n'), 'ok');
  const exact = 'x'.repeat(MAX_MESSAGE_LENGTH);
  t.is(clampMessage(exact), exact);
  const long = clampMessage('y'.repeat(MAX_MESSAGE_LENGTH * 3));
  t.true(long.length <= MAX_MESSAGE_LENGTH);
  t.true(long.endsWith('(truncated)'));
  const set = setCondition([], { type: 'Ready', status: 'False', reason: 'BuildFailed', message: 'z'.repeat(100_000) });
  t.true(set[0]!.message.length <= MAX_MESSAGE_LENGTH);
});

test('conditions are ordered Ready, Reconciling, Stalled, Healthy, then others; setters do not mutate their input', (t) => {
  let cs: Condition[] = [];
  for (const type of ['Healthy', 'Stalled', 'Reconciling', 'Ready'] as const) {
    cs = setCondition(cs, { type, status: 'True', reason: 'Succeeded', message: type }, t0);
  }
  t.deepEqual(cs.map((c) => c.type), ['Ready', 'Reconciling', 'Stalled', 'Healthy']);
  const frozen = Object.freeze([...cs]);
  const next = setCondition(frozen, { type: 'Ready', status: 'False', reason: 'BuildFailed', message: 'x' }, t1);
  t.is(getCondition(frozen, 'Ready')!.status, 'True');
  t.is(getCondition(next, 'Ready')!.status, 'False');
  const other = sortConditions([{ type: 'Zeta', status: 'True', lastTransitionTime: '', reason: 'R', message: 'm' }, ...cs]);
  t.is(other.at(-1)!.type, 'Zeta');
});

test('getCondition, isTrue and deleteCondition', (t) => {
  const cs = setCondition([], { type: 'Ready', status: 'True', reason: 'Succeeded', message: 'ok' });
  t.true(isTrue(cs, 'Ready'));
  t.false(isTrue(cs, 'Stalled'));
  t.false(isTrue(undefined, 'Ready'));
  t.is(getCondition(undefined, 'Ready'), undefined);
  t.deepEqual(deleteCondition(cs, 'Ready'), []);
  t.deepEqual(deleteCondition(undefined, 'Ready'), []);
  t.is(deleteCondition(cs, 'Stalled').length, 1);
});
