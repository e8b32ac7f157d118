/**
 * Waiting for objects to become Current (fluxcd/pkg/ssa `WaitForSet`, kstatus polling), and for deletions to finish.
 */
import type { KubeClient } from '../kube/client.js';
import { subjectOf } from './inventory.js';
import { sleep } from './meta.js';
import { computeStatus } from './status.js';
import type { CustomHealth } from './cel-health.js';
import type { HealthResult, HealthStatus, ObjectRef } from './types.js';

/** Options of {@link waitForReady}. */
export interface WaitOptions {
  /** Give up after this long. */
  timeoutMs: number;
  /** Poll interval; default 2000. */
  intervalMs?: number;
  /** Stop as soon as an object is Failed (Flux's default); default true. */
  failFast?: boolean;
  signal?: AbortSignal;
  /** Health from CEL expressions for custom kinds (`healthCheckExprs`). */
  custom?: CustomHealth;
}

/** An object that did not become ready. */
export interface NotReady {
  ref: ObjectRef;
  status: HealthStatus;
  message: string;
}

/**
 * The health of one object in the cluster (`NotFound` when it is absent, `Unknown` when the GET failed). Messages
 * do not repeat the object's subject; callers list them next to it.
 */
export async function objectStatus(client: KubeClient, ref: ObjectRef, signal?: AbortSignal, custom?: CustomHealth): Promise<HealthResult> {
  const res = await client.get(ref, { signal });
  if (res.ok) return computeStatus(res.body, custom);
  if (res.status === 404) return { status: 'NotFound', message: 'object not found' };
  return { status: 'Unknown', message: `status check failed: ${res.message}` };
}

/** Polls until every object is Current; on timeout (or a failure with failFast) reports the ones that are not. */
export async function waitForReady(
  client: KubeClient,
  refs: ObjectRef[],
  opts: WaitOptions,
): Promise<{ ok: boolean; notReady: NotReady[] }> {
  const deadline = Date.now() + opts.timeoutMs;
  const interval = opts.intervalMs ?? 2000;
  for (;;) {
    const results = await Promise.all(refs.map((ref) => objectStatus(client, ref, opts.signal, opts.custom)));
    const notReady = results.flatMap((r, i) => (r.status === 'Current' ? [] : [{ ref: refs[i] as ObjectRef, ...r }]));
    if (notReady.length === 0) return { ok: true, notReady };
    if ((opts.failFast ?? true) && notReady.some((n) => n.status === 'Failed')) return { ok: false, notReady };
    const left = deadline - Date.now();
    if (left <= 0 || opts.signal?.aborted) return { ok: false, notReady };
    if (!(await sleep(Math.min(interval, left), opts.signal))) return { ok: false, notReady };
  }
}

/** Polls until `ref` is gone (404). */
export async function waitForTermination(
  client: KubeClient,
  ref: ObjectRef,
  opts: { timeoutMs: number; intervalMs?: number; signal?: AbortSignal },
): Promise<{ ok: true } | { ok: false; message: string }> {
  const deadline = Date.now() + opts.timeoutMs;
  for (;;) {
    const res = await client.get(ref, { signal: opts.signal });
    if (!res.ok && res.status === 404) return { ok: true };
    if (!res.ok && res.status !== 0) return { ok: false, message: `${subjectOf(ref)} termination check failed: ${res.message}` };
    const left = deadline - Date.now();
    if (left <= 0 || !(await sleep(Math.min(opts.intervalMs ?? 500, left), opts.signal))) {
      return { ok: false, message: `${subjectOf(ref)} was not deleted within ${opts.timeoutMs}ms` };
    }
  }
}

/**
 * Polls until every object of `refs` is gone (fluxcd/pkg/ssa `WaitForSetTermination`); on timeout, reports the
 * ones still there.
 */
export async function waitForSetTermination(
  client: KubeClient,
  refs: ObjectRef[],
  opts: { timeoutMs: number; intervalMs?: number; signal?: AbortSignal },
): Promise<{ ok: true } | { ok: false; remaining: ObjectRef[]; message: string }> {
  const results = await Promise.all(refs.map((ref) => waitForTermination(client, ref, opts)));
  const remaining = refs.filter((_, i) => !results[i]!.ok);
  if (remaining.length === 0) return { ok: true };
  const messages = results.flatMap((r) => (r.ok ? [] : [r.message]));
  return { ok: false, remaining, message: messages.join('; ') };
}
