/**
 * Remote kubeconfigs from tenant objects (a KCLRun's `kubeConfig.secretRef`), validated BEFORE any client code sees
 * them. client-node runs `exec` plugins and auth-provider `cmd-path`s, reads `token-file`, `tokenFile` and
 * certificate/key/CA file paths from the controller's file system, and honours `insecure-skip-tls-verify`. A
 * tenant's kubeconfig is hostile, so:
 * - `exec` and `auth-provider` are refused unless the operator passed `--insecure-kubeconfig-exec`;
 * - `insecure-skip-tls-verify` and plain-http servers are refused unless the operator passed `--insecure-kubeconfig-tls`;
 * - every field that names a file is always refused (only the `-data` forms are allowed, as Flux does).
 * The KubeConfig is then built from an allow-list of fields, never by handing the text to client-node's loader.
 */
import { KubeConfig, type Cluster, type Context, type User } from '@kubernetes/client-node';
import { parseDocument } from 'yaml';
import { aliasBudgetProblem, TO_JS_OPTIONS } from '../../krm/index.js';

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

/** The text is not a usable kubeconfig. The message never quotes the text. */
export class KubeconfigInvalidError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KubeconfigInvalidError';
  }
}

type Doc = Record<string, unknown>;

function isRecord(v: unknown): v is Doc {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Fields that make the controller read one of its own files; never allowed. */
const USER_FILE_FIELDS = ['token-file', 'tokenFile', 'client-certificate', 'client-key'] as const;
const CLUSTER_FILE_FIELDS = ['certificate-authority'] as const;
const READS_FILE = "reads a file of the controller's file system";
const RUNS_COMMAND = 'runs a command (or an auth plugin) inside the controller';
const SKIPS_TLS = "disables verification of the server's TLS certificate";
const PLAINTEXT = 'sends credentials without TLS';

function optionalString(v: unknown, what: string): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw new KubeconfigInvalidError(`${what} must be a string`);
  return v;
}

function named(list: unknown, kind: 'clusters' | 'users' | 'contexts'): Array<{ name: string; body: Doc }> {
  if (list === undefined || list === null) return [];
  if (!Array.isArray(list)) throw new KubeconfigInvalidError(`${kind} must be a list`);
  const body = kind.slice(0, -1);
  return list.map((e, i) => {
    if (!isRecord(e) || typeof e.name !== 'string' || !e.name) throw new KubeconfigInvalidError(`${kind}[${i}].name is missing`);
    const inner = e[body] ?? {};
    if (!isRecord(inner)) throw new KubeconfigInvalidError(`${kind}[${i}].${body} must be a map`);
    return { name: e.name, body: inner };
  });
}

function toUser(name: string, u: Doc, policy: RemoteKubeconfigPolicy): User {
  const where = `kubeconfig user '${name}'`;
  for (const f of USER_FILE_FIELDS) if (u[f] !== undefined) throw new KubeconfigRefusedError(f, where, READS_FILE);
  const provider = u['auth-provider'];
  if (isRecord(provider) && isRecord(provider.config)) {
    // FileAuth reads `tokenFile` even when exec plugins are allowed: a file read, never allowed.
    if (provider.config.tokenFile !== undefined) throw new KubeconfigRefusedError('auth-provider tokenFile', where, READS_FILE);
  }
  if (u.exec !== undefined && !policy.allowExec) throw new KubeconfigRefusedError('exec', where, RUNS_COMMAND, INSECURE_EXEC_FLAG);
  if (provider !== undefined && !policy.allowExec) throw new KubeconfigRefusedError('auth-provider', where, RUNS_COMMAND, INSECURE_EXEC_FLAG);
  return {
    name,
    token: optionalString(u.token, `${where} token`),
    certData: optionalString(u['client-certificate-data'], `${where} client-certificate-data`),
    keyData: optionalString(u['client-key-data'], `${where} client-key-data`),
    username: optionalString(u.username, `${where} username`),
    password: optionalString(u.password, `${where} password`),
    impersonateUser: optionalString(u.as, `${where} as`),
    ...(policy.allowExec && u.exec !== undefined ? { exec: u.exec } : {}),
    ...(policy.allowExec && provider !== undefined ? { authProvider: provider } : {}),
  };
}

function toCluster(name: string, c: Doc, policy: RemoteKubeconfigPolicy): Cluster {
  const where = `kubeconfig cluster '${name}'`;
  for (const f of CLUSTER_FILE_FIELDS) if (c[f] !== undefined) throw new KubeconfigRefusedError(f, where, READS_FILE);
  const server = optionalString(c.server, `${where} server`);
  if (!server) throw new KubeconfigInvalidError(`${where} has no server`);
  let url: URL;
  try {
    url = new URL(server);
  } catch {
    throw new KubeconfigInvalidError(`${where} server is not a URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new KubeconfigInvalidError(`${where} server must be an https URL`);
  const skip = c['insecure-skip-tls-verify'];
  if (skip !== undefined && skip !== false && !policy.allowInsecureTls) {
    throw new KubeconfigRefusedError('insecure-skip-tls-verify', where, SKIPS_TLS, INSECURE_TLS_FLAG);
  }
  if (url.protocol === 'http:' && !policy.allowInsecureTls) throw new KubeconfigRefusedError('an http:// server', where, PLAINTEXT, INSECURE_TLS_FLAG);
  return {
    name,
    server: server.replace(/\/$/, ''),
    caData: optionalString(c['certificate-authority-data'], `${where} certificate-authority-data`),
    tlsServerName: optionalString(c['tls-server-name'], `${where} tls-server-name`),
    proxyUrl: optionalString(c['proxy-url'], `${where} proxy-url`),
    skipTLSVerify: skip === true && policy.allowInsecureTls === true,
  };
}

/**
 * The kubeconfig's YAML as plain data, within kclrun's YAML alias budget (an alias bomb is refused before anything
 * expands it). A syntax error is reported by its kind only: the parser's message quotes the text.
 */
function readYaml(text: string): unknown {
  const doc = parseDocument(text);
  const syntax = doc.errors[0];
  if (syntax) throw new KubeconfigInvalidError(`not valid YAML (${syntax.code})`);
  const aliases = aliasBudgetProblem([doc], text.length);
  if (aliases) throw new KubeconfigInvalidError(aliases.message);
  return doc.toJS(TO_JS_OPTIONS);
}

/**
 * Validates kubeconfig text and builds a KubeConfig from its allowed fields only.
 * @throws KubeconfigRefusedError for fields the policy refuses, KubeconfigInvalidError for malformed text
 */
export function loadRemoteKubeconfig(text: string, policy: RemoteKubeconfigPolicy = {}): KubeConfig {
  const doc = readYaml(text);
  if (!isRecord(doc)) throw new KubeconfigInvalidError('not a kubeconfig (expected a map)');
  // Every user and cluster is checked, used or not: the current context can change with the next edit.
  const users = named(doc.users, 'users').map((u) => toUser(u.name, u.body, policy));
  const clusters = named(doc.clusters, 'clusters').map((c) => toCluster(c.name, c.body, policy));
  const contexts: Context[] = named(doc.contexts, 'contexts').map((c) => ({
    name: c.name,
    cluster: optionalString(c.body.cluster, `kubeconfig context '${c.name}' cluster`) ?? '',
    user: optionalString(c.body.user, `kubeconfig context '${c.name}' user`) ?? '',
    namespace: optionalString(c.body.namespace, `kubeconfig context '${c.name}' namespace`),
  }));
  const currentContext = optionalString(doc['current-context'], 'current-context');
  const context = contexts.find((c) => c.name === currentContext);
  if (!context) throw new KubeconfigInvalidError(currentContext ? `current-context '${currentContext}' is not defined` : 'no current-context');
  if (!clusters.some((c) => c.name === context.cluster)) throw new KubeconfigInvalidError(`context '${context.name}' names an undefined cluster`);
  const kc = new KubeConfig();
  kc.loadFromOptions({ clusters, users, contexts, currentContext });
  return kc;
}
