/**
 * Registry credentials of a KCLRun's dependency downloads: `spec.registrySecretRef`, a `kubernetes.io/dockerconfigjson`
 * Secret in the KCLRun's own namespace (the reference has no namespace field, so no other namespace can be named).
 * Its `.dockerconfigjson` is checked here (type, key, JSON with an `auths` map) and handed to the render as text in
 * memory: it is never written to disk nor logged, and the values it holds are redacted from every message.
 */
import { CredentialsFileError, dockerConfigSecrets } from '../../fn/package/oci/credentials.js';
import type { PackageAccess } from '../../fn/render.js';
import type { KubeClient } from '../kube/client.js';
import { readSecret } from '../store.js';
import type { KCLRun } from '../api/types.js';

/** The Secret type `registrySecretRef` must have, and its key. */
export const DOCKER_CONFIG_JSON_TYPE = 'kubernetes.io/dockerconfigjson';
export const DOCKER_CONFIG_JSON_KEY = '.dockerconfigjson';

/** The credentials (none without a `registrySecretRef`) and the values to redact, or why the Secret cannot be used. */
export type RegistryAuth =
  | { ok: true; dockerConfig?: NonNullable<PackageAccess['dockerConfig']>; secrets: string[] }
  | { ok: false; message: string };

/** Reads and checks the KCLRun's `registrySecretRef`. The failure message names the Secret, never a value. */
export async function readRegistryAuth(client: KubeClient, k: KCLRun, signal?: AbortSignal): Promise<RegistryAuth> {
  const ref = k.spec.registrySecretRef;
  if (!ref) return { ok: true, secrets: [] };
  const ns = k.metadata.namespace;
  const label = `registry Secret '${ns}/${ref.name}'`;
  const res = await readSecret(client, ns, ref.name, signal);
  if (!res.ok) return { ok: false, message: `${label}: ${res.status === 404 ? 'not found' : res.message}` };
  const { type, data } = res.body;
  if (type !== DOCKER_CONFIG_JSON_TYPE) return { ok: false, message: `${label} has type '${type}', expected '${DOCKER_CONFIG_JSON_TYPE}'` };
  const text = Object.hasOwn(data, DOCKER_CONFIG_JSON_KEY) ? data[DOCKER_CONFIG_JSON_KEY] : undefined;
  if (!text) return { ok: false, message: `${label} has no key '${DOCKER_CONFIG_JSON_KEY}'` };
  try {
    return { ok: true, dockerConfig: { text, label }, secrets: dockerConfigSecrets(text, label) };
  } catch (err) {
    if (err instanceof CredentialsFileError) return { ok: false, message: err.message };
    throw err;
  }
}
