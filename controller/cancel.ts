/**
 * Cancelling reconciles. Every reconcile runs under one `AbortSignal`, owned by the work queue that started it and
 * aborted with a {@link ReconcileCancelled} when this replica loses its lease, shuts down, the KCLRun is deleted or
 * its source has a newer revision. Every request of the reconcile carries the signal, so apply, prune, health
 * checks and status writes stop at their next request.
 */

/** Why a reconcile was cancelled. */
export type CancelCause = 'LeaseLost' | 'Shutdown' | 'Deleted' | 'NewRevision';

/** The abort reason of a reconcile's signal (`signal.reason`), and what a cancelled stage throws. */
export class ReconcileCancelled extends Error {
  constructor(
    readonly why: CancelCause,
    detail?: string,
  ) {
    super(`reconcile cancelled: ${why}${detail ? ` (${detail})` : ''}`);
    this.name = 'ReconcileCancelled';
  }

  /**
   * True when this replica no longer owns the objects (lease lost, or shutting down and about to release the
   * lease): it must write nothing more — another replica may already be reconciling them.
   */
  get ownershipLost(): boolean {
    return this.why === 'LeaseLost' || this.why === 'Shutdown';
  }
}

/** The signals a reconcile runs under. */
export interface ReconcileScope {
  /** Aborted for any {@link CancelCause}: the reconcile stops at its next request. */
  signal: AbortSignal;
  /**
   * Aborted only when this replica stops owning its objects (lease lost, shutdown). A reconcile cancelled for a
   * newer revision or a deletion still owns them, and uses this signal to record what it applied.
   */
  owner: AbortSignal;
}

/** A scope that is never cancelled (tests and one-off callers). */
export function uncancelled(): ReconcileScope {
  const signal = new AbortController().signal;
  return { signal, owner: signal };
}

/** Why `signal` was aborted, as a {@link ReconcileCancelled}; undefined while it is not. */
export function cancellation(signal: AbortSignal): ReconcileCancelled | undefined {
  if (!signal.aborted) return undefined;
  const reason: unknown = signal.reason;
  return reason instanceof ReconcileCancelled ? reason : new ReconcileCancelled('Shutdown', String(reason));
}

/** Throws the {@link ReconcileCancelled} of `signal` if it was aborted. */
export function throwIfCancelled(signal: AbortSignal): void {
  const c = cancellation(signal);
  if (c) throw c;
}
