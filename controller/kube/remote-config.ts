/**
 * Remote kubeconfigs from tenant objects (a KCLRun's `kubeConfig.secretRef`), validated BEFORE any client code sees
 * them. A kubeconfig can run `exec` plugins, read token, certificate, key and CA files from the controller's file
 * system, and turn off TLS verification. A tenant's kubeconfig is hostile, so:
 * - `exec` is refused unless the operator passed `--insecure-kubeconfig-exec`; `auth-provider` too (and with the
 *   flag it is refused as unsupported, as for the controller's own kubeconfig);
 * - `insecure-skip-tls-verify` and plain-http servers are refused unless the operator passed `--insecure-kubeconfig-tls`;
 * - every field that names a file is always refused (only the `-data` forms are allowed, as Flux does).
 * The text is size-bounded and parsed within the YAML alias budget; the KubeConfig is then built from the known
 * fields by kube/kubeconfig.ts with no file access at all.
 */
import {
  kubeConfigFromDocument,
  namedEntries,
  readKubeconfigYaml,
  type KubeConfig,
  type KubeconfigDoc,
} from './kubeconfig.js';
import { isJsonObject } from '../../krm/index.js';

export { KubeconfigInvalidError } from './kubeconfig.js';

/** What the operator allowed (`--insecure-kubeconfig-exec`, `--insecure-kubeconfig-tls`). */
export interface RemoteKubeconfigPolicy {
  allowExec?: boolean;
  allowInsecureTls?: boolean;
}

/** The controller flags that lift a refusal. */
export const INSECURE_EXEC_FLAG = '--insecure-kubeconfig-exec';
export const INSECURE_TLS_FLAG = '--insecure-kubeconfig-tls';

/** A kubeconfig uses something the controller refuses; `field` names it, `flag` lifts it (if any). */
export class KubeconfigRefusedError extends Error {
  constructor(
    readonly field: string,
    readonly where: string,
    readonly why: string,
    readonly flag?: string,
  ) {
    super(
      `${where} uses ${field}, which ${why}: refused` +
        (flag ? ` (the operator can allow it with ${flag})` : ' (use the -data form of the field instead)'),
    );
    this.name = 'KubeconfigRefusedError';
  }
}

/** Fields that make the controller read one of its own files; never allowed. */
const USER_FILE_FIELDS = ['token-file', 'tokenFile', 'client-certificate', 'client-key'] as const;
const CLUSTER_FILE_FIELDS = ['certificate-authority'] as const;
const READS_FILE = "reads a file of the controller's file system";
const RUNS_COMMAND = 'runs a command (or an auth plugin) inside the controller';
const SKIPS_TLS = "disables verification of the server's TLS certificate";
const PLAINTEXT = 'sends credentials without TLS';

function checkUser(name: string, u: KubeconfigDoc, policy: RemoteKubeconfigPolicy): void {
  const where = `kubeconfig user '${name}'`;
  for (const f of USER_FILE_FIELDS) if (u[f] !== undefined) throw new KubeconfigRefusedError(f, where, READS_FILE);
  const provider = u['auth-provider'];
  if (isJsonObject(provider) && isJsonObject(provider.config) && provider.config.tokenFile !== undefined) {
    throw new KubeconfigRefusedError('auth-provider tokenFile', where, READS_FILE);
  }
  if (u.exec !== undefined && !policy.allowExec) throw new KubeconfigRefusedError('exec', where, RUNS_COMMAND, INSECURE_EXEC_FLAG);
  if (provider !== undefined && !policy.allowExec) throw new KubeconfigRefusedError('auth-provider', where, RUNS_COMMAND, INSECURE_EXEC_FLAG);
}

/** The scheme of a `server` value as URL parsing reads it; undefined when it is not a URL (refused later). */
function serverProtocol(server: unknown): string | undefined {
  if (typeof server !== 'string') return undefined;
  try {
    return new URL(server).protocol;
  } catch {
    return undefined;
  }
}

function checkCluster(name: string, c: KubeconfigDoc, policy: RemoteKubeconfigPolicy): void {
  const where = `kubeconfig cluster '${name}'`;
  for (const f of CLUSTER_FILE_FIELDS) if (c[f] !== undefined) throw new KubeconfigRefusedError(f, where, READS_FILE);
  const skip = c['insecure-skip-tls-verify'];
  if (skip !== undefined && skip !== false && !policy.allowInsecureTls) {
    throw new KubeconfigRefusedError('insecure-skip-tls-verify', where, SKIPS_TLS, INSECURE_TLS_FLAG);
  }
  // Judged by the URL the client will use (URL parsing drops leading blanks and folds the scheme's case).
  if (serverProtocol(c.server) === 'http:' && !policy.allowInsecureTls) throw new KubeconfigRefusedError('an http:// server', where, PLAINTEXT, INSECURE_TLS_FLAG);
}

/**
 * Validates kubeconfig text and builds the KubeConfig of its current context from its known fields only.
 * @throws KubeconfigRefusedError for fields the policy refuses, KubeconfigInvalidError for malformed text
 */
export function loadRemoteKubeconfig(text: string, policy: RemoteKubeconfigPolicy = {}): KubeConfig {
  const doc = readKubeconfigYaml(text);
  // Every user and cluster is checked, used or not: the current context can change with the next edit.
  for (const u of namedEntries(doc.users, 'users')) checkUser(u.name, u.body, policy);
  for (const c of namedEntries(doc.clusters, 'clusters')) checkCluster(c.name, c.body, policy);
  // No base directory: a file path that got past the checks above is refused again there.
  return kubeConfigFromDocument(doc);
}
