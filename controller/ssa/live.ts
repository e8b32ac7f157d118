/**
 * The live objects of an apply stage, read with LISTs per kind and namespace instead of one GET per object
 * (fluxcd/pkg/ssa GETs each object):
 *   1. with the owner labels as label selector, where a kind has at least {@link OWNED_LIST_MIN} objects in one
 *      namespace: the objects this KCLRun applied before, however crowded the namespace (a re-apply reads just
 *      them);
 *   2. without a selector, for the objects step 1 did not find, where at least {@link LIST_MIN} remain (a first
 *      apply): unless the namespace holds many more objects of the kind than the stage applies (pages beyond
 *      {@link maxListed}), then they are read one by one.
 * A LIST that fails (no list permission, a kind not served yet) leaves its objects to per-object GETs.
 */
import type { KubeClient } from '../kube/client.js';
import { refOf } from '../kube/client.js';
import type { ObjectList } from '../kube/types.js';
import { asObject, mapLimit } from './meta.js';
import type { JsonObject, ObjectRef } from './types.js';

/** What a stage's LISTs found for one object: `live` undefined means it does not exist. */
export interface KnownLive {
  live: JsonObject | undefined;
}

/** The live state of `ref` when a LIST covered it; undefined when it must be read with a GET. */
export type LiveLookup = (ref: ObjectRef) => KnownLive | undefined;

/** Fewer objects of one kind in one namespace, not found by the owner-label LIST, are read one by one. */
export const LIST_MIN = 8;
/** Fewer objects of one kind in one namespace are read one by one. */
export const OWNED_LIST_MIN = 2;
const PAGE = 500;
/** LIST pages are read until this many objects; a namespace holding more falls back to GETs. */
export const maxListed = (wanted: number): number => Math.max(PAGE, 4 * wanted);

const groupKey = (apiVersion: string, kind: string, namespace: string | undefined): string => `${apiVersion}|${kind}|${namespace ?? ''}`;

/** Options of {@link listLive}. */
export interface ListLiveOptions {
  signal?: AbortSignal;
  /** The labels every object applied by this owner carries (step 1's selector; without them, step 2 only). */
  ownerLabels?: Record<string, string>;
}

/** Lists the live objects of `objects` where LISTs save GETs; see the module comment. */
export async function listLive(client: KubeClient, objects: readonly JsonObject[], opts: ListLiveOptions = {}): Promise<LiveLookup> {
  const groups = new Map<string, { apiVersion: string; kind: string; namespace?: string; names: Set<string> }>();
  for (const o of objects) {
    const ref = refOf(o);
    if (!ref.apiVersion || !ref.kind || !ref.name) continue;
    const key = groupKey(ref.apiVersion, ref.kind, ref.namespace);
    const g = groups.get(key) ?? { apiVersion: ref.apiVersion, kind: ref.kind, namespace: ref.namespace, names: new Set<string>() };
    g.names.add(ref.name);
    groups.set(key, g);
  }
  const selector = Object.entries(opts.ownerLabels ?? {}).map(([k, v]) => `${k}=${v}`).join(',');
  // Keyed by the object's ref as applyObject sees it (no namespace for cluster-scoped kinds).
  const known = new Map<string, Map<string, JsonObject | undefined>>();
  const listed = [...groups.values()].filter((g) => g.names.size >= (selector ? OWNED_LIST_MIN : LIST_MIN));
  await mapLimit(listed, 2, async (g) => {
    const m = await client.mapping(g.apiVersion, g.kind);
    if (!m || (m.namespaced && !g.namespace)) return;
    const namespace = m.namespaced ? g.namespace : undefined;
    const path = client.objectPath(m, namespace);
    const byName = new Map<string, JsonObject | undefined>();
    const owned = selector ? await listAll(client, path, maxListed(g.names.size), opts.signal, selector) : undefined;
    for (const [name, live] of owned ?? []) if (g.names.has(name)) byName.set(name, live);
    const rest = [...g.names].filter((n) => !byName.has(n));
    if (rest.length >= LIST_MIN) {
      const found = await listAll(client, path, maxListed(rest.length), opts.signal);
      if (found) for (const name of rest) byName.set(name, found.get(name));
    }
    known.set(groupKey(g.apiVersion, g.kind, namespace), byName);
  });
  return (ref) => {
    const byName = known.get(groupKey(ref.apiVersion, ref.kind, ref.namespace));
    return byName?.has(ref.name) ? { live: byName.get(ref.name) } : undefined;
  };
}

/** Every object of a collection (matching `labelSelector`) by name, page by page; undefined on an error or past `max` objects. */
async function listAll(
  client: KubeClient,
  path: ReturnType<KubeClient['objectPath']>,
  max: number,
  signal?: AbortSignal,
  labelSelector?: string,
): Promise<Map<string, JsonObject> | undefined> {
  const out = new Map<string, JsonObject>();
  let token: string | undefined;
  do {
    const res = await client.request<ObjectList>('GET', path, { query: { limit: String(PAGE), continue: token, labelSelector }, signal });
    if (!res.ok || !Array.isArray(res.body?.items)) return undefined;
    const list = res.body;
    for (const item of list.items) {
      const name = asObject(item['metadata'])?.['name'];
      // A list's items carry no apiVersion/kind; add them so the object reads like a GET's.
      if (typeof name === 'string') out.set(name, { apiVersion: list.apiVersion ?? '', kind: (list.kind ?? '').replace(/List$/, ''), ...item });
    }
    if (out.size > max) return undefined;
    token = list.metadata?.continue || undefined;
  } while (token);
  return out;
}
