/** The client-side token buckets behind --kube-api-qps / --kube-api-burst (one per API resource), on a fake clock. */
import test from 'ava';
import { RateLimiter, resourceKey, TokenBucket } from '../../../controller/kube/rate-limit.js';

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
  const path = '/api/v1/namespaces/a/configmaps';
  t.is(new RateLimiter({ qps: 0, burst: 10 }).for(path), undefined);
  t.is(new RateLimiter({ qps: -1, burst: 10 }).for(path), undefined);
  t.is(new RateLimiter(undefined).for(path), undefined);
  t.throws(() => new TokenBucket({ qps: 5, burst: 0 }), { instanceOf: RangeError });
});

test('one bucket per API resource, as controller-runtime gives each resource type its own REST client', (t) => {
  t.is(resourceKey('/api/v1/namespaces/team/configmaps/app'), 'v1/configmaps');
  t.is(resourceKey('api/v1/namespaces/team/configmaps?fieldManager=kclrun'), 'v1/configmaps');
  t.is(resourceKey('/api/v1/namespaces/team'), 'v1/namespaces');
  t.is(resourceKey('/api/v1/namespaces'), 'v1/namespaces');
  t.is(resourceKey('/apis/apps/v1/namespaces/team/deployments/web/status'), 'apps/v1/deployments');
  t.is(resourceKey('/apis/krm.kcl.dev.fluxcd/v1alpha1/namespaces/team/kclruns/app/status'), 'krm.kcl.dev.fluxcd/v1alpha1/kclruns');
  t.is(resourceKey('/apis/rbac.authorization.k8s.io/v1/clusterroles/view'), 'rbac.authorization.k8s.io/v1/clusterroles');
  t.is(resourceKey('/version'), 'nonresource');
  t.is(resourceKey('/apis'), 'nonresource');

  const limiter = new RateLimiter({ qps: 1, burst: 2 });
  const cm = limiter.for('/api/v1/namespaces/a/configmaps/x')!;
  t.is(limiter.for('/api/v1/namespaces/b/configmaps'), cm, 'the same resource in another namespace shares the bucket');
  t.deepEqual([cm.reserve(), cm.reserve()], [0, 0]);
  t.true(cm.reserve() > 0, 'ConfigMaps are out of tokens');
  t.is(limiter.for('/apis/krm.kcl.dev.fluxcd/v1alpha1/namespaces/a/kclruns/x/status')!.reserve(), 0, 'KCLRun status updates are not held up by them');
});
