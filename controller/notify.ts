/**
 * Forwards the controller's events to Flux notification-controller's event receiver (`--events-addr`), with the
 * payload fluxcd/pkg/runtime/events' Recorder posts: an `event.toolkit.fluxcd.io/v1beta1` Event. Posting never
 * blocks a reconcile: `notify` returns at once, the POST runs in the background with a per-attempt timeout and
 * retries on connection errors and 5xx (not on 429, notification-controller's answer to a duplicate), as
 * go-retryablehttp does for Flux. The message is what the Kubernetes Event says (names and revisions only; failure
 * messages are redacted before they get here); metadata holds the revision, a token and the object's
 * `event.toolkit.fluxcd.io/*` annotations (Flux RFC-0008), nothing else.
 */
import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { CONTROLLER_NAME, GROUP } from './api/group.js';
import type { KCLRun } from './api/types.js';
import type { Logger } from './log.js';

/** fluxcd/pkg/apis/event/v1beta1.Group: object annotations with this prefix travel with every event. */
export const EVENT_GROUP = 'event.toolkit.fluxcd.io';

/** An `event.toolkit.fluxcd.io/v1beta1` Event, as notification-controller decodes it. */
export interface FluxEvent {
  /** A `corev1.ObjectReference` to the KCLRun. */
  involvedObject: { kind: string; namespace: string; name: string; uid?: string; apiVersion: string; resourceVersion?: string };
  severity: 'info' | 'error';
  /** RFC 3339, seconds precision (`metav1.Time`). */
  timestamp: string;
  message: string;
  reason: string;
  metadata?: Record<string, string>;
  reportingController: string;
  reportingInstance?: string;
}

/** notification-controller's limit on `message` (the Event API's MaxLength). */
const MAX_MESSAGE = 39_000;

/** Event metadata for a KCLRun, keyed as Flux controllers key it (`<group>/revision`, `<group>/token`). */
export function eventMetadata(k: KCLRun, revision?: string): Record<string, string> {
  const metadata: Record<string, string> = {};
  for (const [key, value] of Object.entries(k.metadata.annotations ?? {})) {
    if (key.startsWith(`${EVENT_GROUP}/`)) metadata[key] = value;
  }
  if (revision) metadata[`${GROUP}/revision`] = revision;
  // The token tells notification-controller's duplicate filter that the same message for another generation of
  // the spec is a new event (fluxcd/pkg/apis/event: "it could be the generation of an object").
  if (k.metadata.generation !== undefined) metadata[`${GROUP}/token`] = String(k.metadata.generation);
  return metadata;
}

/** Builds the Event for an outcome of `k`. */
export function fluxEvent(
  k: KCLRun,
  type: 'Normal' | 'Warning',
  reason: string,
  message: string,
  metadata: Record<string, string>,
  instance: string,
): FluxEvent {
  return {
    involvedObject: {
      kind: k.kind,
      namespace: k.metadata.namespace,
      name: k.metadata.name,
      uid: k.metadata.uid,
      apiVersion: k.apiVersion,
      resourceVersion: k.metadata.resourceVersion,
    },
    severity: type === 'Warning' ? 'error' : 'info',
    timestamp: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    message: message.length > MAX_MESSAGE ? `${message.slice(0, MAX_MESSAGE - 20)}… (truncated)` : message,
    reason,
    ...(Object.keys(metadata).length ? { metadata } : {}),
    reportingController: CONTROLLER_NAME,
    reportingInstance: instance,
  };
}

/** A POST that failed for good: `status` is the last HTTP status (0 for a connection error or timeout). */
export class EventPostError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly attempts: number,
  ) {
    super(message);
    this.name = 'EventPostError';
  }
}

/** Settings of {@link EventNotifier}. */
export interface NotifierOptions {
  /** The event receiver's URL, e.g. `http://notification-controller.flux-system.svc.cluster.local./`. */
  address: string;
  log: Logger;
  /** Per-attempt timeout (Flux: 5s). */
  timeoutMs?: number;
  /** Retries after the first attempt (go-retryablehttp's default: 4). */
  retries?: number;
  /** First retry delay, doubled each time up to {@link maxRetryDelayMs} (go-retryablehttp: 1s..30s). */
  retryDelayMs?: number;
  maxRetryDelayMs?: number;
  /** Posts in flight beyond which new events are dropped (and logged), so a dead receiver cannot pile up memory. */
  maxInFlight?: number;
  /** `reportingInstance`; default the host name (the Pod name). */
  instance?: string;
}

/** Posts events to notification-controller in the background. */
export class EventNotifier {
  readonly #opts: Required<Omit<NotifierOptions, 'instance'>> & { instance: string };
  readonly #inFlight = new Set<Promise<void>>();
  readonly #stop = new AbortController();

  constructor(opts: NotifierOptions) {
    this.#opts = {
      timeoutMs: 5_000,
      retries: 4,
      retryDelayMs: 1_000,
      maxRetryDelayMs: 30_000,
      maxInFlight: 256,
      instance: hostname(),
      ...opts,
    };
  }

  /** Queues the event for `k`; returns at once. Failures are logged, never thrown. */
  notify(k: KCLRun, type: 'Normal' | 'Warning', reason: string, message: string, metadata: Record<string, string>): void {
    if (this.#stop.signal.aborted) return;
    const log = this.#opts.log.with({ kclrun: { name: k.metadata.name, namespace: k.metadata.namespace }, reason });
    if (this.#inFlight.size >= this.#opts.maxInFlight) {
      log.error('unable to record event', { error: `${this.#inFlight.size} events are already waiting for the event receiver; dropped` });
      return;
    }
    const p = this.post(fluxEvent(k, type, reason, message, metadata, this.#opts.instance)).then(
      () => undefined,
      (err: unknown) => log.error('unable to record event', { error: (err as Error).message }),
    );
    this.#inFlight.add(p);
    void p.finally(() => this.#inFlight.delete(p));
  }

  /** POSTs one event with retries; resolves when the receiver accepted it (2xx) or reported a duplicate (429). */
  async post(event: FluxEvent): Promise<void> {
    const body = JSON.stringify(event);
    const { retries, timeoutMs } = this.#opts;
    let last = { status: 0, message: '' };
    let attempts = 0;
    for (let attempt = 0; attempt <= retries; attempt++) {
      if (attempt > 0) {
        try {
          await sleep(this.#delay(attempt), undefined, { signal: this.#stop.signal });
        } catch {
          throw new EventPostError(`event receiver: ${last.message}; retries abandoned at shutdown`, last.status, attempts);
        }
      }
      attempts++;
      try {
        // Only the timeout cuts an attempt short: on close, the attempt under way still delivers the last events.
        const signal = AbortSignal.timeout(timeoutMs);
        const res = await fetch(this.#opts.address, { method: 'POST', headers: { 'content-type': 'application/json' }, body, signal });
        await res.body?.cancel();
        if (res.ok || res.status === 429) return;
        last = { status: res.status, message: `HTTP ${res.status} ${res.statusText}`.trim() };
        if (res.status < 500 || res.status === 501) break;
      } catch (err) {
        const cause = (err as { cause?: { code?: string; message?: string } }).cause;
        last = { status: 0, message: (err as Error).name === 'TimeoutError' ? `no answer within ${timeoutMs}ms` : cause?.code ?? cause?.message ?? (err as Error).message };
      }
    }
    throw new EventPostError(`event receiver: ${last.message} (${attempts} attempt${attempts > 1 ? 's' : ''})`, last.status, attempts);
  }

  #delay(attempt: number): number {
    return Math.min(this.#opts.retryDelayMs * 2 ** (attempt - 1), this.#opts.maxRetryDelayMs);
  }

  /** Number of events still being posted. */
  get pending(): number {
    return this.#inFlight.size;
  }

  /** Stops: abandons retries and waits (at most one timeout) for the attempts under way. Idempotent. */
  async close(): Promise<void> {
    this.#stop.abort();
    await Promise.allSettled([...this.#inFlight]);
  }
}
