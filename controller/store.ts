/**
 * Reads and writes the controller's own objects: KCLRuns (get, finalizers, status), their Flux sources, the
 * ConfigMaps/Secrets of `argumentsReferences`, and Events. Results, not throws, for API errors.
 */
import type { KubeClient, KubeResult } from './kube/client.js';
import { API_VERSION, CONTROLLER_NAME, GROUP, KIND, PLURAL, SOURCE_GROUP, STATUS_FIELD_MANAGER, VERSION } from './api/group.js';
import type { KCLRun, KCLRunStatus } from './api/types.js';
import type { Artifact } from './stages/fetch.js';

/** A Flux source as far as this controller reads it. */
export interface FluxSource {
  kind: string;
  metadata: { name: string; namespace: string; generation?: number };
  status?: { artifact?: Artifact; conditions?: Array<{ type: string; status: string; message?: string }> };
}

const SOURCE_PLURALS: Record<string, string> = { GitRepository: 'gitrepositories', OCIRepository: 'ocirepositories', Bucket: 'buckets' };

/** The API path of a KCLRun (or of all KCLRuns in a namespace, or in the cluster). */
export function kclRunPath(namespace?: string, name?: string): string {
  const ns = namespace ? `/namespaces/${namespace}` : '';
  return `/apis/${GROUP}/${VERSION}${ns}/${PLURAL}${name ? `/${name}` : ''}`;
}

/** The API path of a Flux source collection or object. */
export function sourcePath(kind: string, namespace?: string, name?: string): string {
  const plural = SOURCE_PLURALS[kind];
  if (!plural) throw new Error(`unknown source kind ${kind}`);
  const ns = namespace ? `/namespaces/${namespace}` : '';
  return `/apis/${SOURCE_GROUP}/v1${ns}/${plural}${name ? `/${name}` : ''}`;
}

/** GETs a KCLRun. */
export function getKCLRun(client: KubeClient, namespace: string, name: string): Promise<KubeResult<KCLRun>> {
  return client.request<KCLRun>('GET', kclRunPath(namespace, name));
}

/** GETs a Flux source. */
export function getSource(client: KubeClient, kind: string, namespace: string, name: string): Promise<KubeResult<FluxSource>> {
  return client.request<FluxSource>('GET', sourcePath(kind, namespace, name));
}

/** Sets `metadata.finalizers` (optimistically locked on resourceVersion). */
export function setFinalizers(client: KubeClient, k: KCLRun, finalizers: string[]): Promise<KubeResult<KCLRun>> {
  return client.request<KCLRun>('PATCH', kclRunPath(k.metadata.namespace, k.metadata.name), {
    contentType: 'application/merge-patch+json',
    body: { metadata: { finalizers, resourceVersion: k.metadata.resourceVersion } },
  });
}

/** Writes the whole status with server-side apply on the status subresource (owned conditions overwritten). */
export function applyStatus(client: KubeClient, k: KCLRun, status: KCLRunStatus): Promise<KubeResult<KCLRun>> {
  return client.request<KCLRun>('PATCH', `${kclRunPath(k.metadata.namespace, k.metadata.name)}/status`, {
    contentType: 'application/apply-patch+yaml',
    query: { fieldManager: STATUS_FIELD_MANAGER, force: 'true' },
    body: { apiVersion: API_VERSION, kind: KIND, metadata: { name: k.metadata.name, namespace: k.metadata.namespace }, status },
  });
}

/**
 * Reads `argumentsReferences` into `-D` arguments. Values are returned, never logged; `secrets` lists the values
 * that came from Secrets, for redaction.
 */
export async function readArguments(
  client: KubeClient,
  k: KCLRun,
): Promise<{ ok: true; args: Array<{ name: string; value: string }>; secrets: string[] } | { ok: false; message: string }> {
  const args: Array<{ name: string; value: string }> = [];
  const secrets: string[] = [];
  for (const ref of k.spec.argumentsReferences ?? []) {
    const path = `/api/v1/namespaces/${k.metadata.namespace}/${ref.kind === 'Secret' ? 'secrets' : 'configmaps'}/${ref.name}`;
    const res = await client.request<{ data?: Record<string, string> }>('GET', path);
    if (!res.ok) {
      if (res.status === 404 && ref.optional) continue;
      return { ok: false, message: `${ref.kind} '${k.metadata.namespace}/${ref.name}' ${res.status === 404 ? 'not found' : `cannot be read: ${res.message}`}` };
    }
    for (const [name, raw] of Object.entries(res.body.data ?? {}).sort(([a], [b]) => a.localeCompare(b))) {
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
  kind: 'Secret' | 'ConfigMap',
  namespace: string,
  name: string,
): Promise<KubeResult<Record<string, string>>> {
  const res = await client.request<{ data?: Record<string, string> }>('GET', `/api/v1/namespaces/${namespace}/${kind === 'Secret' ? 'secrets' : 'configmaps'}/${name}`);
  if (!res.ok) return res;
  const data = res.body.data ?? {};
  const decoded = kind === 'Secret' ? Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')])) : data;
  return { ok: true, status: res.status, body: decoded };
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
): Promise<KubeResult<string>> {
  const res = await client.request<{ status?: { token?: string } }>('POST', `/api/v1/namespaces/${namespace}/serviceaccounts/${serviceAccount}/token`, {
    body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { audiences, expirationSeconds: 600 } },
  });
  if (!res.ok) return res;
  const token = res.body.status?.token;
  if (!token) return { ok: false, status: res.status, reason: 'InvalidResponse', message: 'TokenRequest returned no token' };
  return { ok: true, status: res.status, body: token };
}

/** Records a Kubernetes Event on a KCLRun. The message must hold names and revisions only. */
export async function recordEvent(
  client: KubeClient,
  k: KCLRun,
  type: 'Normal' | 'Warning',
  reason: string,
  message: string,
  revision?: string,
): Promise<void> {
  const now = new Date().toISOString();
  await client.request('POST', `/api/v1/namespaces/${k.metadata.namespace}/events`, {
    body: {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: {
        generateName: `${k.metadata.name}.`,
        namespace: k.metadata.namespace,
        ...(revision ? { annotations: { [`${GROUP}/revision`]: revision } } : {}),
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
  });
}
