/**
 * Leader election with a `coordination.k8s.io/v1` Lease (client-go's algorithm, in small): acquire when the lease
 * is free or expired, renew every retry period, give up leadership when renewals fail past the renew deadline,
 * and release the lease on shutdown so a successor takes over at once.
 *
 * Leadership ends locally at the renew deadline, measured from the start of the last successful renewal — by a
 * timer, and by {@link LeaderElector.checkRenewDeadline}, which the controller's client calls as each request is about to be sent:
 * a process that was frozen (SIGSTOP, a long pause) notices before it sends anything, whatever its timers do.
 * Since the lease lasts longer than the renew deadline, a successor can only take over after this replica has
 * stopped.
 */
import type { KubeClient } from './kube/client.js';
import type { ApiPath } from './kube/paths.js';
import type { Logger } from './log.js';

/** Lease settings (Flux's defaults: 35s / 30s / 5s). */
export interface LeaderElectionOptions {
  namespace: string;
  name: string;
  identity: string;
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
}

interface Lease {
  metadata: { name: string; namespace: string; resourceVersion?: string };
  spec: { holderIdentity?: string; leaseDurationSeconds?: number; acquireTime?: string; renewTime?: string; leaseTransitions?: number };
}

const microTime = (d = new Date()) => d.toISOString().replace('Z', '000Z');

/** Campaigns for and holds a Lease. */
export class LeaderElector {
  #stopped = false;
  #leading = false;
  #timer?: NodeJS.Timeout;
  #deadline?: NodeJS.Timeout;
  #wake?: () => void;
  /** When the last successful acquire/renew attempt started (its renewTime). */
  #lastRenew = 0;
  #onLost: () => void = () => undefined;
  readonly #o: Required<LeaderElectionOptions>;

  constructor(
    readonly client: KubeClient,
    readonly log: Logger,
    opts: LeaderElectionOptions,
  ) {
    // Flux's defaults for every timing the caller leaves unset (an explicit `undefined` included).
    this.#o = {
      ...opts,
      leaseDurationMs: opts.leaseDurationMs ?? 35_000,
      renewDeadlineMs: opts.renewDeadlineMs ?? 30_000,
      retryPeriodMs: opts.retryPeriodMs ?? 5_000,
    };
  }

  /** True while this process holds the lease. */
  get leading(): boolean {
    return this.#leading;
  }

  #path(name?: string): ApiPath {
    return { group: 'coordination.k8s.io', version: 'v1', namespace: this.#o.namespace, resource: 'leases', ...(name !== undefined ? { name } : {}) };
  }

  async #tryAcquireOrRenew(): Promise<boolean> {
    const now = new Date();
    const spec = (prev?: Lease['spec']): Lease['spec'] => ({
      holderIdentity: this.#o.identity,
      leaseDurationSeconds: Math.round(this.#o.leaseDurationMs / 1000),
      acquireTime: prev?.holderIdentity === this.#o.identity && prev.acquireTime ? prev.acquireTime : microTime(now),
      renewTime: microTime(now),
      leaseTransitions: (prev?.leaseTransitions ?? 0) + (prev?.holderIdentity && prev.holderIdentity !== this.#o.identity ? 1 : 0),
    });
    const got = await this.client.request<Lease>('GET', this.#path(this.#o.name));
    if (!got.ok) {
      if (got.status !== 404) return false;
      const created = await this.client.request<Lease>('POST', this.#path(), {
        body: { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: this.#o.name, namespace: this.#o.namespace }, spec: spec() },
      });
      return created.ok;
    }
    const lease = got.body;
    const holder = lease.spec.holderIdentity;
    const renewed = lease.spec.renewTime ? Date.parse(lease.spec.renewTime) : 0;
    const expired = renewed + (lease.spec.leaseDurationSeconds ?? 0) * 1000 < now.getTime();
    if (holder && holder !== this.#o.identity && !expired) return false;
    const updated = await this.client.request<Lease>('PUT', this.#path(this.#o.name), {
      body: { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: lease.metadata, spec: spec(lease.spec) },
    });
    return updated.ok;
  }

  /** Resolves once this process leads; then keeps renewing and calls `onLost` if leadership is lost. */
  async acquire(onLost: () => void): Promise<void> {
    this.#onLost = onLost;
    this.log.info('attempting to acquire leader lease', { lease: `${this.#o.namespace}/${this.#o.name}`, identity: this.#o.identity });
    while (!this.#stopped) {
      const attempt = Date.now();
      if (await this.#tryAcquireOrRenew().catch(() => false)) {
        this.#leading = true;
        this.#renewed(attempt);
        break;
      }
      // A cancellable wait: release() must not have to wait for the next attempt.
      await new Promise<void>((r) => {
        this.#wake = r;
        this.#timer = setTimeout(r, this.#o.retryPeriodMs);
      });
    }
    if (this.#stopped) {
      // Won just as release() ran: give the lease back so a successor need not wait for it to expire.
      if (this.#leading) await this.#giveBack().catch(() => undefined);
      this.#leading = false;
      return;
    }
    this.log.info('successfully acquired lease', { lease: `${this.#o.namespace}/${this.#o.name}`, identity: this.#o.identity });
    const renew = async () => {
      if (this.#stopped || !this.#leading) return;
      const attempt = Date.now();
      const renewed = await this.#tryAcquireOrRenew().catch(() => false);
      // Released or lost while renewing: schedule nothing that keeps the process alive.
      if (this.#stopped || !this.#checkRenewDeadline(renewed ? attempt : this.#lastRenew)) return;
      if (renewed) this.#renewed(attempt);
      this.#timer = setTimeout(renew, this.#o.retryPeriodMs);
    };
    this.#timer = setTimeout(renew, this.#o.retryPeriodMs);
  }

  /**
   * Ends leadership (once: logs, calls `onLost`) if the renew deadline has passed since the last successful
   * renewal. Synchronous, so it can guard every request; false once this process no longer leads.
   */
  checkRenewDeadline(): boolean {
    return this.#checkRenewDeadline(this.#lastRenew);
  }

  #checkRenewDeadline(lastRenew: number): boolean {
    if (!this.#leading || this.#stopped) return false;
    if (Date.now() - lastRenew <= this.#o.renewDeadlineMs) return true;
    this.#leading = false;
    clearTimeout(this.#deadline);
    this.log.error('leader lease lost', { lease: `${this.#o.namespace}/${this.#o.name}`, lastRenewal: new Date(lastRenew).toISOString() });
    this.#onLost();
    return false;
  }

  /** Records a successful renewal that started at `at`, and arms the timer of its deadline. */
  #renewed(at: number): void {
    this.#lastRenew = at;
    clearTimeout(this.#deadline);
    this.#deadline = setTimeout(() => this.checkRenewDeadline(), at + this.#o.renewDeadlineMs + 1 - Date.now());
    this.#deadline.unref?.();
  }

  /** Stops renewing and releases the lease if held. */
  async release(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    clearTimeout(this.#deadline);
    this.#wake?.();
    if (!this.#leading) return;
    this.#leading = false;
    await this.#giveBack();
  }

  /** Clears the holder (retrying a conflict with a renewal that was in flight). */
  async #giveBack(): Promise<void> {
    for (let attempt = 0; attempt < 3; attempt++) {
      const got = await this.client.request<Lease>('GET', this.#path(this.#o.name));
      if (!got.ok || got.body.spec.holderIdentity !== this.#o.identity) return;
      const put = await this.client.request('PUT', this.#path(this.#o.name), {
        body: { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: got.body.metadata, spec: { ...got.body.spec, holderIdentity: '', leaseDurationSeconds: 1 } },
      });
      if (put.ok || put.status !== 409) return;
    }
  }
}
