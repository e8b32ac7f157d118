/**
 * The leader's renew deadline as a fence: a process frozen past it (here: a busy loop, as under SIGSTOP or a long
 * pause) learns it lost leadership synchronously, on its next check, before any timer or I/O callback runs — so the
 * controller's client, which checks as each request is about to be sent, sends nothing more as leader.
 */
import test from 'ava';
import { LeaderElector } from '../../controller/leader.js';
import { silentLogger } from '../../controller/log.js';
import type { KubeClient, KubeResult } from '../../controller/kube/client.js';

/** A Lease API that grants the lease, then (when `frozen`) never answers again. */
function leaseApi() {
  let lease: unknown;
  const state = { frozen: false };
  const client = {
    async request(method: string, _path: string, opts: { body?: unknown } = {}): Promise<KubeResult<unknown>> {
      if (state.frozen) return new Promise(() => undefined);
      if (method === 'GET') return lease ? { ok: true, status: 200, body: lease } : { ok: false, status: 404, reason: 'NotFound', message: 'not found' };
      lease = opts.body;
      return { ok: true, status: 200, body: lease };
    },
  };
  return { client: client as unknown as KubeClient, state };
}

const busy = (ms: number) => {
  for (const until = Date.now() + ms; Date.now() < until; );
};

test('past the renew deadline, checkRenewDeadline ends leadership at once and calls onLost once', async (t) => {
  const api = leaseApi();
  const elector = new LeaderElector(api.client, silentLogger, { namespace: 'ns', name: 'lease', identity: 'me', leaseDurationMs: 2000, renewDeadlineMs: 300, retryPeriodMs: 100 });
  let lost = 0;
  await elector.acquire(() => lost++);
  t.true(elector.leading);
  t.true(elector.checkRenewDeadline(), 'fresh: still leading');

  api.state.frozen = true; // no renewal succeeds from here on
  busy(400); // frozen past the renew deadline: no timer has had a chance to run
  t.false(elector.checkRenewDeadline());
  t.false(elector.leading);
  t.is(lost, 1, 'onLost ran synchronously');
  t.false(elector.checkRenewDeadline());
  await new Promise((r) => setTimeout(r, 450)); // the renew and deadline timers find nothing left to do
  t.is(lost, 1, 'onLost ran once');
  await elector.release();
});

test('without a check, the deadline timer ends leadership while a renewal hangs', async (t) => {
  const api = leaseApi();
  const elector = new LeaderElector(api.client, silentLogger, { namespace: 'ns', name: 'lease', identity: 'me', leaseDurationMs: 2000, renewDeadlineMs: 300, retryPeriodMs: 100 });
  const lost = new Promise<void>((resolve) => void elector.acquire(resolve));
  await new Promise((r) => setTimeout(r, 50));
  t.true(elector.leading);
  api.state.frozen = true; // the next renewal never answers
  await lost;
  t.false(elector.leading);
  await elector.release();
});

test('timings left undefined take Flux\'s defaults (an elector given only a retry period keeps leading)', async (t) => {
  const api = leaseApi();
  const elector = new LeaderElector(api.client, silentLogger, {
    namespace: 'ns',
    name: 'lease',
    identity: 'me',
    leaseDurationMs: undefined,
    renewDeadlineMs: undefined,
    retryPeriodMs: 100,
  });
  let lost = 0;
  await elector.acquire(() => lost++);
  await new Promise((r) => setTimeout(r, 250)); // two renewals, and any deadline timer armed from undefined would have fired
  t.true(elector.leading);
  t.true(elector.checkRenewDeadline());
  t.is(lost, 0);
  await elector.release();
});
