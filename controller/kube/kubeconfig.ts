/**
 * The controller's kubeconfig: the type every client is built from (the current context, resolved) and the loader for
 * the controller's own cluster. The loader follows controller-runtime's order: `--kubeconfig`, then the first file of
 * `KUBECONFIG`, then the in-cluster config (client-go's `rest.InClusterConfig`), then `~/.kube/config`.
 *
 * Supported fields (client-go's clientcmd names): clusters `server`, `certificate-authority(-data)`,
 * `insecure-skip-tls-verify`, `tls-server-name`, `proxy-url` (http/https proxies, via CONNECT); users `token`,
 * `tokenFile`/`token-file`, `client-certificate(-data)`, `client-key(-data)`, `username`/`password`, `as`, and `exec`
 * plugins (client.authentication.k8s.io/v1 and v1beta1). File paths are relative to the kubeconfig's directory.
 * `auth-provider` plugins (removed from Kubernetes clients in 1.26) are refused with a clear message.
 *
 * A tenant's kubeconfig never comes through {@link loadKubeConfig}: kube/remote-config.ts validates it first and
 * builds it with {@link kubeConfigFromDocument} without file access.
 */
import { existsSync, readFileSync } from 'node:fs';
import { isIPv6 } from 'node:net';
import { homedir } from 'node:os';
import { delimiter, dirname, isAbsolute, join, resolve } from 'node:path';
import { aliasBudgetProblem, isJsonObject, TO_JS_OPTIONS } from '../../krm/index.js';
import { yaml } from '../../krm/yaml-lib.js';

/** Where the API server is and how to trust it. */
export interface ClusterConfig {
  /** The server URL, without a trailing slash. */
  readonly server: string;
  /** Base64 of PEM CA certificates (`certificate-authority-data`). */
  readonly caData?: string;
  /** An absolute path to PEM CA certificates (`certificate-authority`), re-read as it changes. */
  readonly caFile?: string;
  readonly insecureSkipTlsVerify: boolean;
  /** SNI and the name the server certificate is checked against (`tls-server-name`). */
  readonly tlsServerName?: string;
  /** An http(s) proxy every request goes through (`proxy-url`). */
  readonly proxyUrl?: string;
}

/** An exec credential plugin (`users[].user.exec`). */
export interface ExecConfig {
  /** `client.authentication.k8s.io/v1` or `/v1beta1`; the plugin's answer must carry the same. */
  readonly apiVersion: string;
  /** The command; a relative path with a separator is resolved against the kubeconfig's directory. */
  readonly command: string;
  readonly args: readonly string[];
  readonly env: ReadonlyArray<{ name: string; value: string }>;
  /** `Never`, `IfAvailable` or `Always`; the controller has no terminal, so `Always` fails. */
  readonly interactiveMode?: string;
  /** Pass the cluster (server, CA, TLS settings) to the plugin in KUBERNETES_EXEC_INFO. */
  readonly provideClusterInfo: boolean;
}

/** How to authenticate. */
export interface UserConfig {
  readonly name: string;
  readonly token?: string;
  /** An absolute path to a bearer token file, re-read periodically (it rotates). */
  readonly tokenFile?: string;
  /** Base64 of a PEM client certificate / key (`client-certificate-data`, `client-key-data`). */
  readonly certData?: string;
  readonly keyData?: string;
  /** Absolute paths to a PEM client certificate / key (`client-certificate`, `client-key`). */
  readonly certFile?: string;
  readonly keyFile?: string;
  readonly username?: string;
  readonly password?: string;
  /** Act as this user (`as`: the `Impersonate-User` header). */
  readonly impersonate?: string;
  readonly exec?: ExecConfig;
}

/** One kubeconfig context, resolved: its cluster and user. Clients share connections per KubeConfig object. */
export interface KubeConfig {
  /** The context's name (for messages). */
  readonly context: string;
  readonly namespace?: string;
  readonly cluster: ClusterConfig;
  readonly user: UserConfig;
}

/** The text is not a usable kubeconfig. The message never quotes the text. */
export class KubeconfigInvalidError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KubeconfigInvalidError';
  }
}

/** The kubeconfig could not be read (a missing file, no configuration found at all). */
export class KubeconfigLoadError extends Error {
  constructor(
    message: string,
    readonly path?: string,
  ) {
    super(message);
    this.name = 'KubeconfigLoadError';
  }
}

/** A parsed kubeconfig document (or any nested map of it). */
export type KubeconfigDoc = Record<string, unknown>;

/** The largest kubeconfig text read (a Secret holds at most 1 MiB; a real kubeconfig is a few KiB). */
export const MAX_KUBECONFIG_BYTES = 1024 * 1024;

/**
 * Kubeconfig YAML as plain data, size-bounded and within kclrun's YAML alias budget (an alias bomb is refused before
 * anything expands it). A syntax error is reported by its kind only: the parser's message quotes the text.
 */
export function readKubeconfigYaml(text: string): KubeconfigDoc {
  if (text.length > MAX_KUBECONFIG_BYTES) throw new KubeconfigInvalidError(`larger than ${MAX_KUBECONFIG_BYTES} bytes`);
  const doc = yaml().parseDocument(text);
  const syntax = doc.errors[0];
  if (syntax) throw new KubeconfigInvalidError(`not valid YAML (${syntax.code})`);
  const aliases = aliasBudgetProblem([doc], text.length);
  if (aliases) throw new KubeconfigInvalidError(aliases.message);
  const data: unknown = doc.toJS(TO_JS_OPTIONS);
  if (!isJsonObject(data)) throw new KubeconfigInvalidError('not a kubeconfig (expected a map)');
  return data;
}

/** `v` as an optional string; anything else is invalid. */
export function optionalString(v: unknown, what: string): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw new KubeconfigInvalidError(`${what} must be a string`);
  return v;
}

/** The entries of a `clusters`/`users`/`contexts` list: each one's name and inner map. */
export function namedEntries(list: unknown, kind: 'clusters' | 'users' | 'contexts'): Array<{ name: string; body: KubeconfigDoc }> {
  if (list === undefined || list === null) return [];
  if (!Array.isArray(list)) throw new KubeconfigInvalidError(`${kind} must be a list`);
  const body = kind.slice(0, -1);
  return list.map((e, i) => {
    if (!isJsonObject(e) || typeof e.name !== 'string' || !e.name) throw new KubeconfigInvalidError(`${kind}[${i}].name is missing`);
    const inner = e[body] ?? {};
    if (!isJsonObject(inner)) throw new KubeconfigInvalidError(`${kind}[${i}].${body} must be a map`);
    return { name: e.name, body: inner };
  });
}

/**
 * How file paths in a document are treated: resolved against `baseDir` (the controller's own kubeconfig), or
 * refused (`undefined`: a tenant's, already checked by remote-config.ts — this is the second check).
 */
interface FileAccess {
  baseDir?: string;
}

function filePath(v: unknown, what: string, files: FileAccess): string | undefined {
  const p = optionalString(v, what);
  if (p === undefined || p === '') return undefined;
  if (files.baseDir === undefined) throw new KubeconfigInvalidError(`${what} names a file, which is not allowed here`);
  return isAbsolute(p) ? p : join(files.baseDir, p);
}

function toCluster(name: string, c: KubeconfigDoc, files: FileAccess): ClusterConfig {
  const where = `kubeconfig cluster '${name}'`;
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
  if (skip !== undefined && skip !== null && typeof skip !== 'boolean') throw new KubeconfigInvalidError(`${where} insecure-skip-tls-verify must be a boolean`);
  return {
    server: server.replace(/\/$/, ''),
    caData: optionalString(c['certificate-authority-data'], `${where} certificate-authority-data`) || undefined,
    caFile: filePath(c['certificate-authority'], `${where} certificate-authority`, files),
    insecureSkipTlsVerify: skip === true,
    tlsServerName: optionalString(c['tls-server-name'], `${where} tls-server-name`) || undefined,
    proxyUrl: optionalString(c['proxy-url'], `${where} proxy-url`) || undefined,
  };
}

function toExec(e: unknown, where: string, files: FileAccess): ExecConfig {
  if (!isJsonObject(e)) throw new KubeconfigInvalidError(`${where} exec must be a map`);
  const command = optionalString(e.command, `${where} exec command`);
  if (!command) throw new KubeconfigInvalidError(`${where} exec has no command`);
  const apiVersion = optionalString(e.apiVersion, `${where} exec apiVersion`) ?? '';
  if (apiVersion !== 'client.authentication.k8s.io/v1' && apiVersion !== 'client.authentication.k8s.io/v1beta1') {
    throw new KubeconfigInvalidError(`${where} exec apiVersion must be client.authentication.k8s.io/v1 or v1beta1`);
  }
  const args = e.args ?? [];
  if (!Array.isArray(args) || !args.every((a) => typeof a === 'string')) throw new KubeconfigInvalidError(`${where} exec args must be a list of strings`);
  const env = e.env ?? [];
  if (!Array.isArray(env) || !env.every((v) => isJsonObject(v) && typeof v.name === 'string' && typeof v.value === 'string')) {
    throw new KubeconfigInvalidError(`${where} exec env must be a list of {name, value} strings`);
  }
  // client-go: a command with a path separator is relative to the kubeconfig's directory; a bare name is looked up in PATH.
  const resolved = files.baseDir !== undefined && command.includes('/') && !isAbsolute(command) ? resolve(files.baseDir, command) : command;
  return {
    apiVersion,
    command: resolved,
    args: args as string[],
    env: (env as Array<{ name: string; value: string }>).map(({ name, value }) => ({ name, value })),
    interactiveMode: optionalString(e.interactiveMode, `${where} exec interactiveMode`),
    provideClusterInfo: e.provideClusterInfo === true,
  };
}

function toUser(name: string, u: KubeconfigDoc, files: FileAccess): UserConfig {
  const where = `kubeconfig user '${name}'`;
  if (u['auth-provider'] !== undefined && u['auth-provider'] !== null) {
    throw new KubeconfigInvalidError(`${where} uses auth-provider, which is not supported (removed from Kubernetes clients in 1.26): use an exec plugin`);
  }
  return {
    name,
    token: optionalString(u.token, `${where} token`) || undefined,
    tokenFile: filePath(u.tokenFile ?? u['token-file'], `${where} tokenFile`, files),
    certData: optionalString(u['client-certificate-data'], `${where} client-certificate-data`) || undefined,
    keyData: optionalString(u['client-key-data'], `${where} client-key-data`) || undefined,
    certFile: filePath(u['client-certificate'], `${where} client-certificate`, files),
    keyFile: filePath(u['client-key'], `${where} client-key`, files),
    username: optionalString(u.username, `${where} username`) || undefined,
    password: optionalString(u.password, `${where} password`) || undefined,
    impersonate: optionalString(u.as, `${where} as`) || undefined,
    ...(u.exec !== undefined && u.exec !== null ? { exec: toExec(u.exec, where, files) } : {}),
  };
}

/**
 * The KubeConfig of a parsed document's current context. Every cluster and user is checked, used or not.
 * @param files `baseDir` resolves relative file paths; without it, a field naming a file is invalid
 * @throws KubeconfigInvalidError
 */
export function kubeConfigFromDocument(doc: KubeconfigDoc, files: FileAccess = {}): KubeConfig {
  const clusters = new Map<string, ClusterConfig>();
  for (const c of namedEntries(doc.clusters, 'clusters')) if (!clusters.has(c.name)) clusters.set(c.name, toCluster(c.name, c.body, files));
  const users = new Map<string, UserConfig>();
  for (const u of namedEntries(doc.users, 'users')) if (!users.has(u.name)) users.set(u.name, toUser(u.name, u.body, files));
  const contexts = namedEntries(doc.contexts, 'contexts');
  const currentContext = optionalString(doc['current-context'], 'current-context');
  const context = contexts.find((c) => c.name === currentContext);
  if (!context) throw new KubeconfigInvalidError(currentContext ? `current-context '${currentContext}' is not defined` : 'no current-context');
  const where = `kubeconfig context '${context.name}'`;
  const clusterName = optionalString(context.body.cluster, `${where} cluster`) ?? '';
  const userName = optionalString(context.body.user, `${where} user`) ?? '';
  const cluster = clusters.get(clusterName);
  if (!cluster) throw new KubeconfigInvalidError(`context '${context.name}' names an undefined cluster`);
  const user = userName ? users.get(userName) : { name: '' };
  if (!user) throw new KubeconfigInvalidError(`context '${context.name}' names an undefined user`);
  const namespace = optionalString(context.body.namespace, `${where} namespace`) || undefined;
  return { context: context.name, cluster, user, ...(namespace ? { namespace } : {}) };
}

/** A kubeconfig file of the controller's own (trusted: file paths and exec plugins allowed). */
export function loadKubeconfigFile(path: string): KubeConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new KubeconfigLoadError(`cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, path);
  }
  return kubeConfigFromDocument(readKubeconfigYaml(text), { baseDir: dirname(resolve(path)) });
}

/** Where a pod's ServiceAccount credentials are mounted. */
export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

/**
 * client-go's `rest.InClusterConfig`: the API server at KUBERNETES_SERVICE_HOST:KUBERNETES_SERVICE_PORT (https),
 * verified with the mounted `ca.crt`, authenticated with the mounted `token` (a file: it rotates, and is re-read).
 * Undefined when not running in a pod.
 */
export function inClusterConfig(env: NodeJS.ProcessEnv = process.env, dir = SERVICE_ACCOUNT_DIR): KubeConfig | undefined {
  const host = env.KUBERNETES_SERVICE_HOST;
  const port = env.KUBERNETES_SERVICE_PORT;
  if (!host || !port) return undefined;
  const tokenFile = join(dir, 'token');
  if (!existsSync(tokenFile)) return undefined;
  let namespace: string | undefined;
  try {
    namespace = readFileSync(join(dir, 'namespace'), 'utf8').trim() || undefined;
  } catch {
    namespace = undefined; // optional: client-go falls back to "default" where it needs one
  }
  const caFile = join(dir, 'ca.crt');
  return {
    context: 'in-cluster',
    cluster: { server: `https://${isIPv6(host) ? `[${host}]` : host}:${port}`, insecureSkipTlsVerify: false, ...(existsSync(caFile) ? { caFile } : {}) },
    user: { name: 'in-cluster', tokenFile },
    ...(namespace ? { namespace } : {}),
  };
}

/**
 * The controller's kubeconfig: `file` (the `--kubeconfig` flag), else the first file of `KUBECONFIG`, else the
 * in-cluster config, else `~/.kube/config`.
 * @throws KubeconfigLoadError when none is found or a file cannot be read; KubeconfigInvalidError for bad content
 */
export function loadKubeConfig(file?: string, env: NodeJS.ProcessEnv = process.env): KubeConfig {
  const path = file ?? env.KUBECONFIG?.split(delimiter).find((f) => f !== '');
  if (path) return loadKubeconfigFile(path);
  const inCluster = inClusterConfig(env);
  if (inCluster) return inCluster;
  const home = join(env.HOME || homedir(), '.kube', 'config');
  if (existsSync(home)) return loadKubeconfigFile(home);
  throw new KubeconfigLoadError('no kubeconfig: pass --kubeconfig, set KUBECONFIG, run in a pod, or create ~/.kube/config');
}
