/**
 * Small helpers on manifests and promises shared by the verbs. Pure except {@link sleep}.
 */
import { isJsonObject } from '../../krm/index.js';
import type { JsonObject, JsonValue } from '../kube/types.js';

/** A plain-object view of `v`, or undefined. */
export function asObject(v: JsonValue | undefined): JsonObject | undefined {
  return isJsonObject(v) ? v : undefined;
}

/** `metadata.annotations[key]` or `metadata.labels[key]` (Flux's `AnyInMetadata`), as a string. */
export function metadataValue(obj: JsonObject | undefined, key: string): string | undefined {
  const md = asObject(obj?.['metadata']);
  const a = asObject(md?.['annotations'])?.[key];
  if (typeof a === 'string') return a;
  const l = asObject(md?.['labels'])?.[key];
  return typeof l === 'string' ? l : undefined;
}

/**
 * A copy with `labels` merged into `metadata.labels`. Only the top level, `metadata` and its labels are copied (a
 * deep copy per object showed in the apply profile); the rest is shared with `obj`, so do not mutate it.
 */
export function withLabels(obj: JsonObject, labels: Record<string, string> | undefined): JsonObject {
  const md: JsonObject = { ...(asObject(obj['metadata']) ?? {}) };
  if (labels && Object.keys(labels).length > 0) md['labels'] = { ...(asObject(md['labels']) ?? {}), ...labels };
  return { ...obj, metadata: md };
}

/** True when `obj` carries every label of `labels` (false for an empty selector). */
export function hasLabels(obj: JsonObject, labels: Record<string, string>): boolean {
  const entries = Object.entries(labels);
  const have = asObject(asObject(obj['metadata'])?.['labels']) ?? {};
  return entries.length > 0 && entries.every(([k, v]) => have[k] === v);
}

/** Resolves after `ms`, or early (with false) when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve(false);
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    const onAbort = (): void => {
      clearTimeout(t);
      resolve(false);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Maps `items` with at most `limit` calls in flight, keeping order. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return out;
}
