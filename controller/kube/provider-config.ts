/**
 * Flux's `kubeConfig.configMapRef` (Flux ≥ 2.6): a ConfigMap that describes a remote cluster for provider-based
 * ("workload identity") auth instead of holding credentials. Its keys are Flux's: `provider`, `address`, `ca.crt`,
 * `serviceAccountName`, `audiences`. This controller supports the `generic` provider: a short-lived token of the
 * named ServiceAccount (TokenRequest API) sent to `address`, verified against `ca.crt`. The cloud providers
 * (aws, azure, gcp) need cloud SDKs and are refused with a clear message. The ConfigMap is tenant input: the same
 * TLS rule as for kubeconfig Secrets applies, and the KubeConfig is built here, never parsed from tenant text.
 */
import type { KubeConfig } from './kubeconfig.js';
import { INSECURE_TLS_FLAG, KubeconfigInvalidError, KubeconfigRefusedError, type RemoteKubeconfigPolicy } from './remote-config.js';

/** The generic-provider settings read from the ConfigMap. */
export interface ProviderConfig {
  provider: 'generic';
  address: string;
  caCert?: string;
  serviceAccountName: string;
  /** Token audiences; empty = the issuing API server's own. */
  audiences: string[];
}

const CLOUD_PROVIDERS = ['aws', 'azure', 'gcp'];

/**
 * Reads a configMapRef ConfigMap's data.
 * @throws KubeconfigInvalidError when a key is missing or the provider is unsupported; KubeconfigRefusedError for
 * a plain-http address without `--insecure-kubeconfig-tls`
 */
export function parseProviderConfig(data: Record<string, string>, policy: RemoteKubeconfigPolicy = {}): ProviderConfig {
  const provider = data['provider'];
  if (!provider) throw new KubeconfigInvalidError("no 'provider' key (supported: generic)");
  if (CLOUD_PROVIDERS.includes(provider)) throw new KubeconfigInvalidError(`provider '${provider}' is not supported by this controller (supported: generic)`);
  if (provider !== 'generic') throw new KubeconfigInvalidError(`unknown provider '${provider}' (supported: generic)`);
  const address = data['address'];
  if (!address) throw new KubeconfigInvalidError("no 'address' key (the remote API server URL)");
  let url: URL;
  try {
    url = new URL(address);
  } catch {
    throw new KubeconfigInvalidError("'address' is not a URL");
  }
  if (url.protocol === 'http:') {
    if (!policy.allowInsecureTls) throw new KubeconfigRefusedError('an http:// server', "key 'address'", 'sends credentials without TLS', INSECURE_TLS_FLAG);
  } else if (url.protocol !== 'https:') {
    throw new KubeconfigInvalidError("'address' must be an https URL");
  }
  const serviceAccountName = data['serviceAccountName'];
  if (!serviceAccountName) throw new KubeconfigInvalidError("no 'serviceAccountName' key (the identity used on the remote cluster)");
  const audiences = (data['audiences'] ?? '').split(/[,\n]/).map((a) => a.trim()).filter((a) => a !== '');
  return { provider: 'generic', address: url.toString().replace(/\/$/, ''), caCert: data['ca.crt'] || undefined, serviceAccountName, audiences };
}

/** A KubeConfig for `cfg` authenticating with `token` (held in memory only). */
export function providerKubeConfig(cfg: ProviderConfig, token: string): KubeConfig {
  return {
    context: 'remote',
    cluster: { server: cfg.address, insecureSkipTlsVerify: false, ...(cfg.caCert ? { caData: Buffer.from(cfg.caCert).toString('base64') } : {}) },
    user: { name: cfg.serviceAccountName, token },
  };
}
