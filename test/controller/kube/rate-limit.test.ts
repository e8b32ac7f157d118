/** The client-side token bucket behind --kube-api-qps / --kube-api-burst, on a fake clock. */
import test from 'ava';
import { TokenBucket, tokenBucket } from '../../../controller/kube/rate-limit.js';

test('a full bucket serves `burst` requests at once, then one per 1/qps seconds, in arrival order', (t) => {
  let now = 0;
  const b = new TokenBucket({ qps: 10, burst: 3 }, () => now);
  t.deepEqual([b.reserve(), b.reserve(), b.reserve()], [0, 0, 0]);
  t.deepEqual([b.reserve(), b.reserve()], [100, 200], 'waiters reserve successive tokens');
  now = 1000; // 10 tokens refilled, 2 were owed: 3 (the burst) available again at most
  t.deepEqual([b.reserve(), b.reserve(), b.reserve(), b.reserve()], [0, 0, 0, 100]);
});

test('an aborted wait gives its token back and rejects with the reason', async (t) => {
  let now = 0;
  const b = new TokenBucket({ qps: 1, burst: 1 }, () => now);
  await b.take();
  const ac = new AbortController();
  const waiting = b.take(ac.signal);
  ac.abort(new Error('stop'));
  await t.throwsAsync(waiting, { message: 'stop' });
  now = 1000;
  t.is(b.reserve(), 0, 'the token the aborted waiter reserved is available again');
});

test('qps <= 0 means no limit; an invalid burst is refused', (t) => {
  t.is(tokenBucket({ qps: 0, burst: 10 }), undefined);
  t.is(tokenBucket({ qps: -1, burst: 10 }), undefined);
  t.is(tokenBucket(undefined), undefined);
  t.throws(() => new TokenBucket({ qps: 5, burst: 0 }), { instanceOf: RangeError });
});
