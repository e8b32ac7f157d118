/**
 * The work queue: keys are deduplicated, one worker per key at a time, a key added while running runs once more
 * after, addAfter keeps the earliest deadline, errors back off exponentially (capped), and stop waits for running
 * handlers and drops everything else.
 */
import test from 'ava';
import { WorkQueue, type HandlerResult } from '../../controller/queue.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A handler that records calls and can be held open until released. */
function recorder(opts: { holdMs?: number; result?: HandlerResult; fail?: (key: string, n: number) => boolean } = {}) {
  const calls: Array<{ key: string; at: number }> = [];
  let active = 0;
  let maxActive = 0;
  const activeKeys = new Set<string>();
  let overlap = false;
  const handler = async (key: string): Promise<HandlerResult> => {
    calls.push({ key, at: Date.now() });
    if (activeKeys.has(key)) overlap = true;
    activeKeys.add(key);
    active++;
    maxActive = Math.max(maxActive, active);
    try {
      if (opts.holdMs) await sleep(opts.holdMs);
      const n = calls.filter((c) => c.key === key).length;
      if (opts.fail?.(key, n)) throw new Error(`fail ${key} #${n}`);
      return opts.result ?? {};
    } finally {
      active--;
      activeKeys.delete(key);
    }
  };
  return { handler, calls, get maxActive() { return maxActive; }, get overlap() { return overlap; }, count: (k: string) => calls.filter((c) => c.key === k).length };
}

async function settle(q: WorkQueue, ms = 2000): Promise<void> {
  const deadline = Date.now() + ms;
  await sleep(5);
  while (q.length > 0 && Date.now() < deadline) await sleep(5);
}

test('keys added several times before they run are processed once', async (t) => {
  const r = recorder({ holdMs: 30 });
  const q = new WorkQueue(r.handler, { concurrency: 1 });
  q.add('blocker');
  for (let i = 0; i < 5; i++) q.add('a');
  for (let i = 0; i < 3; i++) q.add('b');
  await settle(q);
  t.is(r.count('a'), 1);
  t.is(r.count('b'), 1);
  await q.stop();
});

test('a key is never processed by two workers at once; an add while running re-runs it once after', async (t) => {
  const r = recorder({ holdMs: 50 });
  const q = new WorkQueue(r.handler, { concurrency: 4 });
  q.add('k');
  await sleep(10);
  q.add('k');
  q.add('k');
  q.add('k');
  await settle(q);
  t.false(r.overlap);
  t.is(r.count('k'), 2);
  t.true(r.calls[1]!.at - r.calls[0]!.at >= 45);
  await q.stop();
});

test('concurrency bounds the number of parallel handlers', async (t) => {
  const r = recorder({ holdMs: 30 });
  const q = new WorkQueue(r.handler, { concurrency: 3 });
  for (let i = 0; i < 10; i++) q.add(`k${i}`);
  t.is(q.length, 10);
  await settle(q);
  t.is(r.calls.length, 10);
  t.is(r.maxActive, 3);
  await q.stop();
});

test('addAfter: the earliest pending deadline wins; add() replaces a pending timer', async (t) => {
  const r = recorder();
  const q = new WorkQueue(r.handler);
  const start = Date.now();
  q.addAfter('a', 400);
  q.addAfter('a', 60); // earlier wins
  q.addAfter('a', 1000); // later is ignored
  await sleep(250);
  t.is(r.count('a'), 1);
  t.true(r.calls[0]!.at - start >= 55 && r.calls[0]!.at - start < 250);
  await sleep(300);
  t.is(r.count('a'), 1, 'the replaced 400ms timer did not fire');

  q.addAfter('b', 200);
  q.add('b'); // runs now, and the timer is dropped
  await sleep(350);
  t.is(r.count('b'), 1);
  q.addAfter('c', 0); // zero delay is an immediate add
  await settle(q);
  t.is(r.count('c'), 1);
  await q.stop();
});

test('requeueAfterMs from the handler schedules the next run', async (t) => {
  let runs = 0;
  const q = new WorkQueue(async () => (++runs < 3 ? { requeueAfterMs: 30 } : {}));
  q.add('k');
  await sleep(300);
  t.is(runs, 3);
  await q.stop();
});

test('errors back off exponentially from minRetryDelay, capped at maxRetryDelay; success resets', async (t) => {
  const errors: string[] = [];
  const r = recorder({ fail: (_k, n) => n <= 4 });
  const q = new WorkQueue(r.handler, { minRetryDelayMs: 40, maxRetryDelayMs: 100, onError: (key, err) => errors.push(`${key}: ${(err as Error).message}`) });
  q.add('k');
  await sleep(800);
  t.is(r.count('k'), 5);
  const gaps = r.calls.slice(1).map((c, i) => c.at - r.calls[i]!.at);
  // 40, 80, 100 (capped), 100
  t.true(gaps[0]! >= 35 && gaps[0]! < 75, `gap0 ${gaps[0]}`);
  t.true(gaps[1]! >= 75 && gaps[1]! < 130, `gap1 ${gaps[1]}`);
  t.true(gaps[2]! >= 95 && gaps[2]! < 160, `gap2 ${gaps[2]}`);
  t.true(gaps[3]! >= 95 && gaps[3]! < 160, `gap3 ${gaps[3]}`);
  t.deepEqual(errors, ['k: fail k #1', 'k: fail k #2', 'k: fail k #3', 'k: fail k #4']);
  await q.stop();
});

test('forget drops a pending retry', async (t) => {
  const r = recorder({ fail: () => true });
  const q = new WorkQueue(r.handler, { minRetryDelayMs: 50 });
  q.add('k');
  await sleep(20);
  q.forget('k');
  await sleep(150);
  t.is(r.count('k'), 1);
  await q.stop();
});

test('stop waits for running handlers, cancels timers and queued keys, and ignores later adds', async (t) => {
  const r = recorder({ holdMs: 80 });
  const q = new WorkQueue(r.handler, { concurrency: 1 });
  q.add('running');
  q.add('queued');
  q.addAfter('timer', 30);
  await sleep(10);
  const t0 = Date.now();
  await q.stop();
  t.true(Date.now() - t0 >= 60, 'stop waited for the running handler');
  q.add('late');
  q.addAfter('late2', 1);
  await sleep(100);
  t.deepEqual(r.calls.map((c) => c.key), ['running']);
  t.is(q.length, 0);
});

test('stop on an idle queue resolves at once', async (t) => {
  const q = new WorkQueue(async () => ({}));
  await q.stop();
  t.pass();
});

test('cancel aborts only that key\'s running handler, with the reason; an add meanwhile re-runs it at once, without backoff', async (t) => {
  const seen: Array<{ key: string; reason?: unknown; ownerAborted: boolean }> = [];
  const errors: string[] = [];
  let runs = 0;
  const q = new WorkQueue(
    async (key, { signal, owner }) => {
      runs++;
      if (key === 'a' && runs === 1) {
        // Held until cancelled; then fails, as a stage whose request was aborted would.
        await new Promise<void>((r) => signal.addEventListener('abort', () => r(), { once: true }));
        seen.push({ key, reason: signal.reason, ownerAborted: owner.aborted });
        throw new Error('request aborted');
      }
      seen.push({ key, ownerAborted: owner.aborted });
      return {};
    },
    { minRetryDelayMs: 60_000, onError: (key) => errors.push(key) },
  );
  q.add('a');
  await sleep(20);
  t.false(q.cancel('b', 'nothing runs'), 'no handler for b');
  const reason = new Error('newer revision');
  t.true(q.cancel('a', reason));
  q.add('a');
  await settle(q);
  t.deepEqual(seen, [
    { key: 'a', reason, ownerAborted: false },
    { key: 'a', ownerAborted: false },
  ]);
  t.deepEqual(errors, [], 'a cancelled handler is no failure');
  await q.stop();
});

test('stop aborts every running handler (signal and owner) before it returns, and resolves when they have', async (t) => {
  const reasons: unknown[] = [];
  const q = new WorkQueue(async (_key, { signal, owner }) => {
    await new Promise<void>((r) => owner.addEventListener('abort', () => r(), { once: true }));
    reasons.push(signal.reason);
    return { requeueAfterMs: 1 };
  });
  q.add('a');
  q.add('b');
  await sleep(20);
  const reason = new Error('lease lost');
  const stopped = q.stop(reason);
  t.is(q.length, 2, 'both still running');
  await stopped;
  t.deepEqual(reasons, [reason, reason]);
  t.is(q.length, 0);
});
