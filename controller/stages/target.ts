/**
 * The client a KCLRun applies with: the controller's own cluster, or a remote one (`kubeConfig.secretRef` holding a
 * kubeconfig, or `kubeConfig.configMapRef` for Flux's provider-based auth), optionally impersonating a
 * ServiceAccount. Remote kubeconfigs are validated before any client code sees them (see kube/remote-config.ts).
 */
import type { KubeClient } from '../kube/client.js';
import { KubeconfigInvalidError, KubeconfigRefusedError, loadRemoteKubeconfig, type RemoteKubeconfigPolicy } from '../kube/remote-config.js';
import { parseProviderConfig, providerKubeConfig } from '../kube/provider-config.js';
import { readObjectData, requestServiceAccountToken } from '../store.js';
import type { KCLRun } from '../api/types.js';
import type { KubeConfig } from '../kube/kubeconfig.js';

/** The target client; `dispose` closes a remote client's connections (impersonating clients share the controller's). */
export interface Target {
  client: KubeClient;
  dispose: () => void;
}

/** Why no target client could be made; the message names objects and fields, never values. */
export interface TargetFailure {
  message: string;
}

/** Options of {@link targetClient}. */
export interface TargetOptions extends RemoteKubeconfigPolicy {
  defaultServiceAccount?: string;
  /** The reconcile's signal: the reads and the token request stop when it aborts. */
  signal?: AbortSignal;
}

/** Builds the KCLRun's target client from the controller's `client`. */
export async function targetClient(client: KubeClient, k: KCLRun, opts: TargetOptions = {}): Promise<Target | TargetFailure> {
  const remote = await remoteKubeConfig(client, k, opts);
  if (remote && 'message' in remote) return remote;
  // A remote client keeps the controller client's request hook (the lease check) and user agent. Applies and health
  // checks are not held by the client-side rate limit, as in kustomize-controller (KubeClient.withoutRateLimit).
  const own = client.withoutRateLimit();
  const base = remote ? own.forKubeConfig(remote) : own;
  const sa = k.spec.serviceAccountName ?? opts.defaultServiceAccount;
  const target = sa ? base.withImpersonation(`system:serviceaccount:${k.metadata.namespace}:${sa}`) : base;
  return { client: target, dispose: () => (remote ? base.close() : undefined) };
}

async function remoteKubeConfig(client: KubeClient, k: KCLRun, policy: TargetOptions): Promise<KubeConfig | TargetFailure | undefined> {
  const ns = k.metadata.namespace;
  const { secretRef, configMapRef } = k.spec.kubeConfig ?? {};
  // The CRD enforces exactly one; checked again so a schema mistake can never fall back to the controller's cluster.
  if (k.spec.kubeConfig && !secretRef === !configMapRef) return { message: 'kubeConfig: set exactly one of secretRef and configMapRef' };
  if (secretRef) {
    const what = `kubeconfig Secret '${ns}/${secretRef.name}'`;
    const res = await readObjectData(client, 'Secret', ns, secretRef.name, policy.signal);
    if (!res.ok) return { message: `${what}: ${res.status === 404 ? 'not found' : res.message}` };
    const key = secretRef.key ?? ('value' in res.body ? 'value' : 'value.yaml');
    const text = Object.hasOwn(res.body, key) ? res.body[key] : undefined; // a key like `__proto__` is not data
    if (!text) return { message: `${what} has no key '${key}'` };
    return validated(() => loadRemoteKubeconfig(text, policy), `${what} key '${key}'`);
  }
  if (configMapRef) {
    const what = `kubeconfig ConfigMap '${ns}/${configMapRef.name}'`;
    const res = await readObjectData(client, 'ConfigMap', ns, configMapRef.name, policy.signal);
    if (!res.ok) return { message: `${what}: ${res.status === 404 ? 'not found' : res.message}` };
    const cfg = validated(() => parseProviderConfig(res.body, policy), what);
    if ('message' in cfg) return cfg;
    const token = await requestServiceAccountToken(client, ns, cfg.serviceAccountName, cfg.audiences, policy.signal);
    if (!token.ok) return { message: `${what}: cannot get a token for ServiceAccount '${ns}/${cfg.serviceAccountName}': ${token.message}` };
    return providerKubeConfig(cfg, token.body);
  }
  return undefined;
}

/** Runs a validation; its typed errors (a refusal, an invalid kubeconfig) become failures naming the object. */
function validated<T>(load: () => T, what: string): T | TargetFailure {
  try {
    return load();
  } catch (err) {
    if (err instanceof KubeconfigRefusedError || err instanceof KubeconfigInvalidError) return { message: `${what}: ${err.message}` };
    throw err;
  }
}
