/**
 * Turns a client-node KubeConfig into what one request needs: the server URL, auth headers (bearer token, basic, exec
 * and auth-provider plugins, all via `applyToHTTPSOptions`) and a keep-alive agent carrying the CA and client cert.
 * A tenant's (remote) kubeconfig reaches this only as built by kube/remote-config.ts, which refuses exec plugins,
 * auth-providers, file paths and insecure TLS unless the operator allowed them.
 */
import * as http from 'node:http';
import * as https from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';

/** Per-request connection details. */
export interface Connection {
  server: URL;
  headers: Record<string, string | string[]>;
  agent: http.Agent;
}

type Tls = Pick<https.AgentOptions, 'ca' | 'cert' | 'key' | 'pfx' | 'passphrase' | 'rejectUnauthorized' | 'servername'>;

/**
 * How long a resolved connection is reused. Resolving runs client-node's `applyToHTTPSOptions` (decoding the CA and
 * client cert, asking the authenticators), which showed in the apply profile at one call per request; credentials
 * that rotate (token files, exec plugins) are cached longer than this by client-node itself.
 */
const RESOLVED_TTL_MS = 1000;

/** Resolves connections for one KubeConfig, reusing the agent while the TLS material stays the same. */
export class ConnectionResolver {
  readonly #kc: KubeConfig;
  #agent: http.Agent | undefined;
  #tls: Tls | undefined;
  #resolved: { at: number; conn: Promise<Connection> } | undefined;

  /** @param kc the KubeConfig whose current context is used */
  constructor(kc: KubeConfig) {
    this.#kc = kc;
  }

  /** Current headers and agent (reused for {@link RESOLVED_TTL_MS}); throws only if the KubeConfig has no current cluster. */
  resolve(): Promise<Connection> {
    const now = Date.now();
    if (this.#resolved && now - this.#resolved.at < RESOLVED_TTL_MS) return this.#resolved.conn;
    const conn = this.#resolve();
    this.#resolved = { at: now, conn };
    conn.catch(() => (this.#resolved = undefined));
    return conn;
  }

  async #resolve(): Promise<Connection> {
    const cluster = this.#kc.getCurrentCluster();
    if (!cluster) throw new Error('kubeconfig has no current cluster');
    const opts: https.RequestOptions = {};
    await this.#kc.applyToHTTPSOptions(opts);
    const headers: Record<string, string | string[]> = {};
    for (const [k, v] of Object.entries(opts.headers ?? {})) {
      if (Array.isArray(v)) headers[k] = v.map(String);
      else if (v !== undefined) headers[k] = String(v);
    }
    if (opts.auth) headers['Authorization'] = `Basic ${Buffer.from(opts.auth).toString('base64')}`;
    const server = new URL(cluster.server.endsWith('/') ? cluster.server : `${cluster.server}/`);
    let agent: http.Agent;
    if (cluster.proxyUrl) {
      agent = opts.agent as http.Agent; // client-node builds the proxy agent
    } else {
      const tls: Tls = {
        ca: opts.ca,
        cert: opts.cert,
        key: opts.key,
        pfx: opts.pfx,
        passphrase: opts.passphrase,
        rejectUnauthorized: opts.rejectUnauthorized,
        servername: opts.servername,
      };
      if (!this.#agent || !sameTls(this.#tls, tls)) {
        this.#agent?.destroy();
        this.#tls = tls;
        const clean = Object.fromEntries(Object.entries(tls).filter(([, v]) => v !== undefined));
        this.#agent =
          server.protocol === 'http:'
            ? new http.Agent({ keepAlive: true })
            : new https.Agent({ ...clean, keepAlive: true });
      }
      agent = this.#agent;
    }
    return { server, headers, agent };
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
