/**
 * Turns a {@link KubeConfig} into what one request needs: the server URL, auth headers (bearer token — static, from a
 * rotating file, or from an exec plugin — or basic auth, and `as` impersonation) and a keep-alive agent carrying the
 * CA and client certificate (through the kubeconfig's proxy, if any). A tenant's (remote) kubeconfig reaches this only
 * as built by kube/remote-config.ts, which refuses exec plugins, file paths and insecure TLS unless the operator
 * allowed them.
 */
import { readFileSync } from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import { urlToHttpOptions } from 'node:url';
import { ExecCredentialCache } from './exec-credential.js';
import { KubeconfigInvalidError, type KubeConfig } from './kubeconfig.js';
import { throughProxy } from './proxy-agent.js';

/** Per-request connection details. */
export interface Connection {
  /** The server URL, ending in `/` (API paths are relative to it). */
  server: URL;
  /** The same as node:http's request options: protocol, host, port, credentials (`urlToHttpOptions`). */
  serverOptions: Readonly<http.RequestOptions>;
  headers: Record<string, string | string[]>;
  agent: http.Agent;
}

type Tls = Pick<https.AgentOptions, 'ca' | 'cert' | 'key' | 'rejectUnauthorized' | 'servername'>;

/**
 * How long a resolved connection is reused: resolving decodes the CA and client certificate and compares them with
 * the agent's, which showed in the apply profile at one call per request.
 */
const RESOLVED_TTL_MS = 1000;

/**
 * How long a file's content (token, CA, client certificate) is reused before it is read again. client-go re-reads
 * a token file every minute (`transport.NewCachedFileTokenSource`): projected ServiceAccount tokens rotate.
 */
export const FILE_REREAD_MS = 60_000;

/** The kubeconfig names a file that cannot be read. */
export class CredentialFileError extends Error {
  constructor(
    readonly path: string,
    why: string,
  ) {
    super(`cannot read ${path}: ${why}`);
    this.name = 'CredentialFileError';
  }
}

/** File contents, re-read once {@link FILE_REREAD_MS} has passed. */
class FileCache {
  readonly #files = new Map<string, { at: number; data: Buffer }>();

  read(path: string): Buffer {
    const now = Date.now();
    const hit = this.#files.get(path);
    if (hit && now - hit.at < FILE_REREAD_MS) return hit.data;
    let data: Buffer;
    try {
      data = readFileSync(path);
    } catch (e) {
      throw new CredentialFileError(path, (e as NodeJS.ErrnoException).code ?? (e as Error).message);
    }
    this.#files.set(path, { at: now, data });
    return data;
  }

  clear(): void {
    this.#files.clear();
  }
}

/** Resolves connections for one KubeConfig, reusing the agent while the TLS material stays the same. */
export class ConnectionResolver {
  readonly #kc: KubeConfig;
  readonly #files = new FileCache();
  readonly #exec: ExecCredentialCache | undefined;
  readonly #server: URL;
  readonly #serverOptions: Readonly<http.RequestOptions>;
  #agent: http.Agent | undefined;
  #tls: Tls | undefined;
  #resolved: { at: number; conn: Promise<Connection> } | undefined;

  /** @param kc the cluster and user requests go to and authenticate as */
  constructor(kc: KubeConfig) {
    this.#kc = kc;
    this.#exec = kc.user.exec ? new ExecCredentialCache(kc.user.exec, kc.cluster) : undefined;
    this.#server = new URL(`${kc.cluster.server}/`);
    this.#serverOptions = urlToHttpOptions(this.#server);
  }

  /** Current headers and agent (reused for {@link RESOLVED_TTL_MS}); rejects when a credential cannot be had. */
  resolve(): Promise<Connection> {
    const now = Date.now();
    if (this.#resolved && now - this.#resolved.at < RESOLVED_TTL_MS) return this.#resolved.conn;
    const conn = this.#resolve();
    this.#resolved = { at: now, conn };
    conn.catch(() => (this.#resolved = undefined));
    return conn;
  }

  /** The API server answered 401: the next request reads credential files and runs the exec plugin again. */
  unauthorized(): void {
    this.#resolved = undefined;
    this.#files.clear();
    this.#exec?.invalidate();
  }

  async #resolve(): Promise<Connection> {
    const { cluster, user } = this.#kc;
    const server = this.#server;
    const ca = this.#material(cluster.caFile, cluster.caData);
    let cert = this.#material(user.certFile, user.certData);
    let key = this.#material(user.keyFile, user.keyData);
    // client-go: the token file's last value takes precedence over a static token.
    let token = user.tokenFile ? this.#tokenFile(user.tokenFile) : user.token;
    if (this.#exec) {
      const cred = await this.#exec.get(ca);
      if (cred.token) token = cred.token;
      if (cred.cert && cred.key) [cert, key] = [Buffer.from(cred.cert), Buffer.from(cred.key)];
    }
    const headers: Record<string, string | string[]> = {};
    if (token) headers['Authorization'] = `Bearer ${token}`;
    else if (user.username) headers['Authorization'] = `Basic ${Buffer.from(`${user.username}:${user.password ?? ''}`).toString('base64')}`;
    if (user.impersonate) headers['Impersonate-User'] = user.impersonate;
    const tls: Tls = { ca, cert, key, servername: cluster.tlsServerName, rejectUnauthorized: cluster.insecureSkipTlsVerify ? false : undefined };
    if (!this.#agent || !sameTls(this.#tls, tls)) {
      const clean = Object.fromEntries(Object.entries(tls).filter(([, v]) => v !== undefined)) as https.AgentOptions;
      const direct = server.protocol === 'http:' ? new http.Agent({ keepAlive: true }) : new https.Agent({ ...clean, keepAlive: true });
      const agent = cluster.proxyUrl ? throughProxy(direct, cluster.proxyUrl, server) : direct;
      this.#agent?.destroy();
      this.#agent = agent;
      this.#tls = tls;
    }
    return { server, serverOptions: this.#serverOptions, headers, agent: this.#agent };
  }

  /** PEM material from a file (re-read as it rotates) or from base64 `-data`. */
  #material(file: string | undefined, data: string | undefined): Buffer | undefined {
    if (file) return this.#files.read(file);
    return data ? Buffer.from(data, 'base64') : undefined;
  }

  #tokenFile(path: string): string {
    const token = this.#files.read(path).toString('utf8').trim();
    if (!token) throw new KubeconfigInvalidError(`token file ${path} is empty`);
    return token;
  }

  /** Closes idle keep-alive sockets. */
  close(): void {
    this.#agent?.destroy();
    this.#agent = undefined;
    this.#resolved = undefined;
  }
}

function sameTls(a: Tls | undefined, b: Tls): boolean {
  if (!a) return false;
  return (Object.keys(b) as (keyof Tls)[]).every((k) => same(a[k], b[k]));
}

function same(a: unknown, b: unknown): boolean {
  if (Buffer.isBuffer(a) && Buffer.isBuffer(b)) return a.equals(b);
  return a === b;
}
