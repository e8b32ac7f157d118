/**
 * Reads and writes the controller's own objects: KCLRuns (get, finalizers, status), their Flux sources, the
 * ConfigMaps/Secrets of `argumentsReferences`, and Events. Results, not throws, for API errors.
 */
import type { KubeClient, KubeResult } from './kube/client.js';
import { apiPath, type ApiPath } from './kube/paths.js';
import { API_VERSION, CONTROLLER_NAME, GROUP, KIND, PLURAL, SOURCE_GROUP, STATUS_FIELD_MANAGER, VERSION } from './api/group.js';
import type { ArgumentsKind, SourceKind } from './api/group.js';
import type { KCLRun, KCLRunStatus } from './api/types.js';
import type { Artifact } from './stages/fetch.js';
import { compareStrings } from './order.js';

/** A Flux source as far as this controller reads it. */
export interface FluxSource {
  kind: string;
  metadata: { name: string; namespace: string; generation?: number };
  status?: { artifact?: Artifact; conditions?: Array<{ type: string; status: string; message?: string }> };
}

const SOURCE_PLURALS: Record<SourceKind, string> = { GitRepository: 'gitrepositories', OCIRepository: 'ocirepositories', Bucket: 'buckets' };

/** The {@link ApiPath} of a KCLRun (or of all KCLRuns in a namespace, or in the cluster). */
function kclRunApiPath(namespace?: string, name?: string): ApiPath {
  return { group: GROUP, version: VERSION, resource: PLURAL, ...(namespace ? { namespace } : {}), ...(name !== undefined ? { name } : {}) };
}

/** The {@link ApiPath} of a Flux source collection or object (at `version`, default v1). */
function sourceApiPath(kind: SourceKind, namespace?: string, name?: string, version = 'v1'): ApiPath {
  if (!Object.hasOwn(SOURCE_PLURALS, kind)) throw new TypeError(`unknown source kind ${String(kind)}`);
  const resource = SOURCE_PLURALS[kind];
  return { group: SOURCE_GROUP, version, resource, ...(namespace ? { namespace } : {}), ...(name !== undefined ? { name } : {}) };
}

/** The API path of the KCLRuns in a namespace, or in the cluster (what the informer watches). */
export function kclRunPath(namespace?: string): string {
  return apiPath(kclRunApiPath(namespace));
}

/** The API path of a Flux source collection at `version`, in a namespace or in the cluster (what the informer watches). */
export function sourcePath(kind: SourceKind, namespace?: string, version = 'v1'): string {
  return apiPath(sourceApiPath(kind, namespace, undefined, version));
}

/** GETs a KCLRun. */
export function getKCLRun(client: KubeClient, namespace: string, name: string, signal?: AbortSignal): Promise<KubeResult<KCLRun>> {
  return client.request<KCLRun>('GET', kclRunApiPath(namespace, name), { signal });
}

/** GETs a Flux source (at `version`, default v1). A kind that is not a Flux source kind is a result, not a throw (the spec is hostile). */
export async function getSource(client: KubeClient, kind: SourceKind, namespace: string, name: string, signal?: AbortSignal, version = 'v1'): Promise<KubeResult<FluxSource>> {
  if (!Object.hasOwn(SOURCE_PLURALS, kind)) return { ok: false, status: 0, reason: 'UnknownKind', message: `unknown source kind ${JSON.stringify(String(kind))}` };
  return client.request<FluxSource>('GET', sourceApiPath(kind, namespace, name, version), { signal });
}

/** GETs a Secret's or ConfigMap's `data` (Secret values base64-encoded, as the API returns them) and a Secret's `type`. */
function getData(
  client: KubeClient,
  kind: ArgumentsKind,
  namespace: string,
  name: string,
  signal?: AbortSignal,
): Promise<KubeResult<{ data?: Record<string, string>; type?: string }>> {
  return client.request('GET', { group: '', version: 'v1', namespace, resource: kind === 'Secret' ? 'secrets' : 'configmaps', name }, { signal });
}

/** Sets `metadata.finalizers` (optimistically locked on resourceVersion). */
export function setFinalizers(client: KubeClient, k: KCLRun, finalizers: string[], signal?: AbortSignal): Promise<KubeResult<KCLRun>> {
  return client.request<KCLRun>('PATCH', kclRunApiPath(k.metadata.namespace, k.metadata.name), {
    contentType: 'application/merge-patch+json',
    body: { metadata: { finalizers, resourceVersion: k.metadata.resourceVersion } },
    signal,
  });
}

/** Writes the whole status with server-side apply on the status subresource (owned conditions overwritten). */
export function applyStatus(client: KubeClient, k: KCLRun, status: KCLRunStatus, signal?: AbortSignal): Promise<KubeResult<KCLRun>> {
  return client.request<KCLRun>('PATCH', { ...kclRunApiPath(k.metadata.namespace, k.metadata.name), subresource: 'status' }, {
    contentType: 'application/apply-patch+yaml',
    query: { fieldManager: STATUS_FIELD_MANAGER, force: 'true' },
    body: { apiVersion: API_VERSION, kind: KIND, metadata: { name: k.metadata.name, namespace: k.metadata.namespace }, status },
    signal,
  });
}

/**
 * Reads `argumentsReferences` into `-D` arguments. Values are returned, never logged; `secrets` lists the values
 * that came from Secrets, for redaction.
 */
export async function readArguments(
  client: KubeClient,
  k: KCLRun,
  signal?: AbortSignal,
): Promise<{ ok: true; args: Array<{ name: string; value: string }>; secrets: string[] } | { ok: false; message: string }> {
  const args: Array<{ name: string; value: string }> = [];
  const secrets: string[] = [];
  for (const ref of k.spec.argumentsReferences ?? []) {
    const res = await getData(client, ref.kind, k.metadata.namespace, ref.name, signal);
    if (!res.ok) {
      if (res.status === 404 && ref.optional) continue;
      return { ok: false, message: `${ref.kind} '${k.metadata.namespace}/${ref.name}' ${res.status === 404 ? 'not found' : `cannot be read: ${res.message}`}` };
    }
    for (const [name, raw] of Object.entries(res.body.data ?? {}).sort(([a], [b]) => compareStrings(a, b))) {
      const value = ref.kind === 'Secret' ? Buffer.from(raw, 'base64').toString('utf8') : raw;
      if (ref.kind === 'Secret') secrets.push(value, raw);
      args.push({ name, value });
    }
  }
  return { ok: true, args, secrets };
}

/** The `data` of a Secret (values base64-decoded) or ConfigMap in `namespace`. Values are never logged. */
export async function readObjectData(
  client: KubeClient,
  kind: ArgumentsKind,
  namespace: string,
  name: string,
  signal?: AbortSignal,
): Promise<KubeResult<Record<string, string>>> {
  const res = await getData(client, kind, namespace, name, signal);
  if (!res.ok) return res;
  const data = res.body.data ?? {};
  return { ok: true, status: res.status, body: kind === 'Secret' ? decodeSecretData(data) : data };
}

function decodeSecretData(data: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]));
}

/** A Secret's `type` and `data` (values base64-decoded) in `namespace`. Values are never logged. */
export async function readSecret(
  client: KubeClient,
  namespace: string,
  name: string,
  signal?: AbortSignal,
): Promise<KubeResult<{ type: string; data: Record<string, string> }>> {
  const res = await getData(client, 'Secret', namespace, name, signal);
  if (!res.ok) return res;
  return { ok: true, status: res.status, body: { type: res.body.type ?? 'Opaque', data: decodeSecretData(res.body.data ?? {}) } };
}

/**
 * Mints a short-lived token for a ServiceAccount (the TokenRequest API), as Flux's `generic` provider does for
 * `kubeConfig.configMapRef`. An empty `audiences` means the API server's own audiences.
 */
export async function requestServiceAccountToken(
  client: KubeClient,
  namespace: string,
  serviceAccount: string,
  audiences: string[],
  signal?: AbortSignal,
): Promise<KubeResult<string>> {
  const path = { group: '', version: 'v1', namespace, resource: 'serviceaccounts', name: serviceAccount, subresource: 'token' };
  const res = await client.request<{ status?: { token?: string } }>('POST', path, {
    body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { audiences, expirationSeconds: 600 } },
    signal,
  });
  if (!res.ok) return res;
  const token = res.body.status?.token;
  if (!token) return { ok: false, status: res.status, reason: 'InvalidResponse', message: 'TokenRequest returned no token' };
  return { ok: true, status: res.status, body: token };
}

/**
 * Records a Kubernetes Event on a KCLRun. The message must hold names and revisions only; `annotations` is the
 * event metadata (`<group>/revision`, ...), as Flux's recorder annotates its Events.
 */
export async function recordEvent(
  client: KubeClient,
  k: KCLRun,
  type: 'Normal' | 'Warning',
  reason: string,
  message: string,
  annotations: Record<string, string> = {},
  signal?: AbortSignal,
): Promise<void> {
  const now = new Date().toISOString();
  await client.request('POST', { group: '', version: 'v1', namespace: k.metadata.namespace, resource: 'events' }, {
    body: {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: {
        generateName: `${k.metadata.name}.`,
        namespace: k.metadata.namespace,
        ...(Object.keys(annotations).length ? { annotations } : {}),
      },
      involvedObject: { apiVersion: API_VERSION, kind: KIND, name: k.metadata.name, namespace: k.metadata.namespace, uid: k.metadata.uid, resourceVersion: k.metadata.resourceVersion },
      type,
      reason,
      message: message.length > 1024 ? `${message.slice(0, 1000)}… (truncated)` : message,
      source: { component: CONTROLLER_NAME },
      reportingComponent: CONTROLLER_NAME,
      reportingInstance: process.env.HOSTNAME ?? CONTROLLER_NAME,
      firstTimestamp: now,
      lastTimestamp: now,
      count: 1,
    },
    signal,
  });
}
