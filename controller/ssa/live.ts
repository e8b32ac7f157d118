/**
 * The live objects of an apply stage, read with one LIST per kind and namespace instead of one GET per object
 * (fluxcd/pkg/ssa GETs each object). Only kinds with at least {@link LIST_MIN} objects in one namespace are listed;
 * a LIST that fails (no list permission, a kind not served yet) or that finds the namespace holding many more
 * objects of the kind than the stage applies (pages beyond {@link maxListed}) leaves its objects to per-object GETs.
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

/** Fewer objects of one kind in one namespace are read one by one. */
export const LIST_MIN = 8;
const PAGE = 500;
/** LIST pages are read until this many objects; a namespace holding more falls back to GETs. */
export const maxListed = (wanted: number): number => Math.max(PAGE, 4 * wanted);

const groupKey = (apiVersion: string, kind: string, namespace: string | undefined): string => `${apiVersion}|${kind}|${namespace ?? ''}`;

/** Lists the kinds/namespaces of `objects` that have at least {@link LIST_MIN} objects; see the module comment. */
export async function listLive(client: KubeClient, objects: readonly JsonObject[], opts: { signal?: AbortSignal } = {}): Promise<LiveLookup> {
  const groups = new Map<string, { apiVersion: string; kind: string; namespace?: string; names: Set<string> }>();
  for (const o of objects) {
    const ref = refOf(o);
    if (!ref.apiVersion || !ref.kind || !ref.name) continue;
    const key = groupKey(ref.apiVersion, ref.kind, ref.namespace);
    const g = groups.get(key) ?? { apiVersion: ref.apiVersion, kind: ref.kind, namespace: ref.namespace, names: new Set<string>() };
    g.names.add(ref.name);
    groups.set(key, g);
  }
  // Keyed by the object's ref as applyObject sees it (no namespace for cluster-scoped kinds).
  const known = new Map<string, Map<string, JsonObject | undefined>>();
  const listed = [...groups.values()].filter((g) => g.names.size >= LIST_MIN);
  await mapLimit(listed, 2, async (g) => {
    const m = await client.mapping(g.apiVersion, g.kind);
    if (!m || (m.namespaced && !g.namespace)) return;
    const namespace = m.namespaced ? g.namespace : undefined;
    const found = await listAll(client, client.objectPath(m, namespace), maxListed(g.names.size), opts.signal);
    if (!found) return;
    const byName = new Map<string, JsonObject | undefined>();
    for (const name of g.names) byName.set(name, found.get(name));
    known.set(groupKey(g.apiVersion, g.kind, namespace), byName);
  });
  return (ref) => {
    const byName = known.get(groupKey(ref.apiVersion, ref.kind, ref.namespace));
    return byName?.has(ref.name) ? { live: byName.get(ref.name) } : undefined;
  };
}

/** Every object of a collection by name, page by page; undefined on an error or past `max` objects. */
async function listAll(client: KubeClient, path: ReturnType<KubeClient['objectPath']>, max: number, signal?: AbortSignal): Promise<Map<string, JsonObject> | undefined> {
  const out = new Map<string, JsonObject>();
  let token: string | undefined;
  do {
    const res = await client.request<ObjectList>('GET', path, { query: { limit: String(PAGE), continue: token }, signal });
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
