/**
 * Discovery-based REST mapping with a per-group-version cache. A miss (unknown group-version or kind) re-discovers
 * that group-version, because CRDs appear at runtime; the refresh is rate-limited so polling callers do not hammer
 * the API server.
 */
import type { ApiPath } from './paths.js';
import type { KubeResult, ResourceMapping } from './types.js';
import { splitApiVersion } from './types.js';

/** The slice of an `APIResourceList` discovery reads. */
interface APIResourceList {
  resources?: { name: string; kind: string; namespaced: boolean }[];
}

/** GETs a discovery path (a group-version). */
export type DiscoveryGet = (path: ApiPath) => Promise<KubeResult<unknown>>;

/** Outcome of resolving a mapping: found, not served (`mapping` undefined), or discovery itself failed. */
export type MappingResult =
  | { ok: true; mapping: ResourceMapping | undefined }
  | { ok: false; status: number; reason: string; message: string };

interface Entry {
  at: number;
  kinds: Map<string, ResourceMapping> | undefined; // undefined: the group-version is not served
}

/** Minimum age of a cached group-version before a miss re-discovers it. */
const REFRESH_AFTER_MS = 200;

/** Cache of discovered group-versions. */
export class Discovery {
  readonly #cache = new Map<string, Entry>();

  /** Maps `apiVersion`/`kind` to its resource, re-discovering once on a miss. */
  async resolve(get: DiscoveryGet, apiVersion: string, kind: string): Promise<MappingResult> {
    const cached = this.#cache.get(apiVersion);
    const hit = cached?.kinds?.get(kind);
    if (hit) return { ok: true, mapping: hit };
    if (cached && Date.now() - cached.at < REFRESH_AFTER_MS) return { ok: true, mapping: undefined };
    const fresh = await this.#fetch(get, apiVersion);
    if (!fresh.ok) return fresh;
    return { ok: true, mapping: fresh.entry.kinds?.get(kind) };
  }

  /** Forgets everything (e.g. after CRDs were deleted). */
  invalidate(): void {
    this.#cache.clear();
  }

  async #fetch(get: DiscoveryGet, apiVersion: string): Promise<{ ok: true; entry: Entry } | Extract<MappingResult, { ok: false }>> {
    const { group, version } = splitApiVersion(apiVersion);
    const res = await get({ group, version });
    if (!res.ok && res.status !== 404) {
      return { ok: false, status: res.status, reason: res.reason, message: `discovery of ${apiVersion} failed: ${res.message}` };
    }
    const entry: Entry = { at: Date.now(), kinds: undefined };
    if (res.ok) {
      entry.kinds = new Map();
      for (const r of (res.body as APIResourceList).resources ?? []) {
        if (r.name.includes('/')) continue; // subresources
        entry.kinds.set(r.kind, { group, version, resource: r.name, kind: r.kind, namespaced: r.namespaced });
      }
    }
    this.#cache.set(apiVersion, entry);
    return { ok: true, entry };
  }
}
