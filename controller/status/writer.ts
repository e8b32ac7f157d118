/**
 * Keeps a KCLRun's working status during one reconcile and writes it (server-side apply on `/status`), with Flux's
 * rules: Ready=Unknown + Reconciling while working; on failure Ready=False and Reconciling → ProgressingWithRetry
 * (or Stalled=True for configuration errors); on success Ready=True "Applied revision: …", observedGeneration set
 * and Reconciling removed. Events go out for each outcome (failures once per distinct message).
 */
import type { KubeClient } from '../kube/client.js';
import { REASONS, type ConditionType, type Reason } from '../api/conditions.js';
import type { InventoryEntry, KCLRun, KCLRunStatus } from '../api/types.js';
import { applyStatus, recordEvent } from '../store.js';
import { throwIfCancelled } from '../cancel.js';
import { jsonEqual, type JsonValue } from '../../krm/index.js';
import { deleteCondition, getCondition, setCondition } from './conditions.js';
import { upsertHistory } from './history.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import { eventMetadata, type EventNotifier } from '../notify.js';

/** The status of one KCLRun being reconciled. */
export class StatusWriter {
  readonly #client: KubeClient;
  readonly #k: KCLRun;
  readonly #log: Logger;
  readonly #metrics: Metrics;
  readonly #signal: AbortSignal;
  readonly #notifier: EventNotifier | undefined;
  readonly #previousReady: { reason?: string; message?: string; status?: string };
  #status: KCLRunStatus;
  readonly #started = Date.now();
  /** The objects' digest and metadata of this reconcile, once built: recorded in `history` with the outcome. */
  #history?: { digest: string; metadata: Record<string, string> };

  /**
   * `signal` is the reconcile's: once it is aborted nothing more is written (writes throw ReconcileCancelled).
   * `notifier` forwards events to notification-controller (`--events-addr`).
   */
  constructor(client: KubeClient, k: KCLRun, log: Logger, metrics: Metrics, signal: AbortSignal, notifier?: EventNotifier) {
    this.#client = client;
    this.#signal = signal;
    this.#notifier = notifier;
    this.#k = k;
    this.#log = log;
    this.#metrics = metrics;
    this.#status = structuredClone(k.status ?? {});
    const ready = getCondition(this.#status.conditions, 'Ready');
    this.#previousReady = { reason: ready?.reason, message: ready?.message, status: ready?.status };
  }

  /** The status as it stands. */
  get current(): KCLRunStatus {
    return this.#status;
  }

  #set(type: ConditionType, status: 'True' | 'False' | 'Unknown', reason: string, message: string): void {
    this.#status.conditions = setCondition(this.#status.conditions, {
      type,
      status,
      reason,
      message,
      observedGeneration: this.#k.metadata.generation,
    });
  }

  async #write(signal = this.#signal): Promise<void> {
    throwIfCancelled(signal);
    const res = await applyStatus(this.#client, this.#k, this.#status, signal);
    if (!res.ok) {
      throwIfCancelled(signal);
      if (res.status === 404) return;
      this.#log.error('status patch failed', { status: res.status, error: res.message });
      throw new Error(`status patch: ${res.message}`);
    }
    this.#metrics.status(this.#k, this.#status);
  }

  /** Marks progress (Reconciling=True, Ready=Unknown) and writes it. */
  async progressing(message: string): Promise<void> {
    this.#set('Reconciling', 'True', REASONS.Progressing, message);
    this.#set('Ready', 'Unknown', REASONS.Progressing, message);
    this.#status.conditions = deleteCondition(this.#status.conditions, 'Stalled');
    await this.#write();
  }

  /** Records the revision being attempted (written with the next patch). */
  attempt(revision: string): void {
    this.#status.lastAttemptedRevision = revision;
  }

  /** Sets the inventory (written with the next patch). */
  inventory(entries: InventoryEntry[]): void {
    this.#status.inventory = { entries };
  }

  /** True when the inventory differs from the one the reconcile started with. */
  get inventoryChanged(): boolean {
    const entries = (s: KCLRunStatus | undefined) => (s?.inventory?.entries ?? []) as unknown as JsonValue;
    return !jsonEqual(entries(this.#status), entries(this.#k.status));
  }

  /**
   * Writes the status as it stands under `signal` rather than the reconcile's: a reconcile cancelled for a newer
   * revision or a deletion still owns its objects and records the inventory of what it applied, so they are pruned.
   */
  async record(signal: AbortSignal): Promise<void> {
    await this.#write(signal);
  }

  /**
   * Notes the digest of the objects this reconcile applies; the final outcome (`succeed`/`fail`) is then recorded
   * in `status.history`. A reconcile that fails before (fetch, build) leaves the history alone, as in Flux.
   */
  recordHistory(digest: string, metadata: Record<string, string>): void {
    this.#history = { digest, metadata };
  }

  #upsertHistory(status: string): void {
    if (!this.#history) return;
    const now = new Date();
    this.#status.history = upsertHistory(this.#status.history, { ...this.#history, status, at: now, durationMs: now.getTime() - this.#started });
  }

  /** Sets Healthy (written with the next patch). */
  healthy(ok: boolean, message: string): void {
    this.#set('Healthy', ok ? 'True' : 'False', ok ? REASONS.Succeeded : REASONS.HealthCheckFailed, message);
  }

  /** Records an Event on the KCLRun (names and revisions only) and forwards it to notification-controller. */
  async event(type: 'Normal' | 'Warning', reason: string, message: string, revision?: string): Promise<void> {
    throwIfCancelled(this.#signal);
    const metadata = eventMetadata(this.#k, revision);
    this.#notifier?.notify(this.#k, type, reason, message, metadata);
    try {
      await recordEvent(this.#client, this.#k, type, reason, message, metadata, this.#signal);
    } catch (err) {
      this.#log.error('cannot record event', { error: (err as Error).message });
    }
  }

  #handled(): void {
    const requested = this.#k.metadata.annotations?.['reconcile.fluxcd.io/requestedAt'];
    if (requested) this.#status.lastHandledReconcileAt = requested;
  }

  /** Marks failure: Ready=False (+ Stalled for configuration errors), logs, emits a Warning event, writes. */
  async fail(reason: Reason, message: string, stalled: boolean): Promise<void> {
    this.#set('Ready', 'False', reason, message);
    if (stalled) {
      this.#status.conditions = deleteCondition(this.#status.conditions, 'Reconciling');
      this.#set('Stalled', 'True', reason, message);
    } else {
      this.#status.conditions = deleteCondition(this.#status.conditions, 'Stalled');
      this.#set('Reconciling', 'True', REASONS.ProgressingWithRetry, message);
    }
    this.#handled();
    this.#upsertHistory(reason);
    await this.#write();
    this.#log.error('reconciliation failed', { reason, error: message, revision: this.#status.lastAttemptedRevision });
    const prev = this.#previousReady;
    if (prev.status !== 'False' || prev.reason !== reason || prev.message !== message) {
      await this.event('Warning', reason, message, this.#status.lastAttemptedRevision);
    }
  }

  /** Marks success for `revision` and writes it. */
  async succeed(revision: string, requestedAt?: string): Promise<void> {
    const message = `Applied revision: ${revision}`;
    const wasReady = this.#previousReady.status === 'True' && this.#status.lastAppliedRevision === revision;
    this.#set('Ready', 'True', REASONS.ReconciliationSucceeded, message);
    this.#status.conditions = deleteCondition(deleteCondition(this.#status.conditions, 'Reconciling'), 'Stalled');
    this.#status.lastAppliedRevision = revision;
    this.#status.lastAttemptedRevision = revision;
    this.#status.observedGeneration = this.#k.metadata.generation;
    if (requestedAt) this.#status.lastHandledReconcileAt = requestedAt;
    this.#upsertHistory(REASONS.ReconciliationSucceeded);
    await this.#write();
    this.#log.info(message, { revision });
    if (!wasReady) await this.event('Normal', REASONS.ReconciliationSucceeded, message, revision);
  }
}
