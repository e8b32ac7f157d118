/**
 * Types shared by the cluster library (`controller/kube/` and `controller/ssa/`), declared once.
 */
import type { JsonObject } from '../../krm/index.js';

export type { JsonObject, JsonValue } from '../../krm/index.js';

/** Results, not throws, for API errors. `status` 0 means no HTTP response (network, timeout, abort, kubeconfig). */
export type KubeResult<T> =
  | { ok: true; status: number; body: T }
  | { ok: false; status: number; reason: string; message: string; body?: unknown };

/** Where a kind is served: the REST mapping from discovery. */
export interface ResourceMapping {
  /** API group, `''` for the core group. */
  group: string;
  version: string;
  /** Plural resource name used in paths, e.g. `deployments`. */
  resource: string;
  kind: string;
  namespaced: boolean;
}

/** Identifies one object. `namespace` is absent for cluster-scoped objects. */
export interface ObjectRef {
  apiVersion: string;
  kind: string;
  namespace?: string;
  name: string;
}

/** A `List` response. */
export interface ObjectList {
  apiVersion?: string;
  kind?: string;
  metadata?: { resourceVersion?: string; continue?: string };
  items: JsonObject[];
}

/** Splits `apps/v1` into group `apps`, version `v1` (and `v1` into group `''`). */
export function splitApiVersion(apiVersion: string): { group: string; version: string } {
  const i = apiVersion.indexOf('/');
  return i < 0 ? { group: '', version: apiVersion } : { group: apiVersion.slice(0, i), version: apiVersion.slice(i + 1) };
}
