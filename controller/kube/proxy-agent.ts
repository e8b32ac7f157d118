/**
 * Keep-alive agents that reach the API server through a kubeconfig's `proxy-url`: each connection is an HTTP CONNECT
 * tunnel through an http:// or https:// proxy (credentials in the proxy URL go in `Proxy-Authorization`), then TLS
 * to the API server inside it (plain HTTP for an http:// server). SOCKS proxies are not supported.
 */
import * as http from 'node:http';
import * as https from 'node:https';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import * as tls from 'node:tls';
import { KubeconfigInvalidError } from './kubeconfig.js';

/** How long opening a tunnel may take. */
export const PROXY_CONNECT_TIMEOUT_MS = 30_000;

/** The proxy refused or failed to open a tunnel. */
export class ProxyTunnelError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProxyTunnelError';
  }
}

type Done = (err: Error | null, socket?: Socket) => void;

/** Opens a CONNECT tunnel through `proxy` to `host:port`. */
function tunnel(proxy: URL, host: string, port: number, done: Done): void {
  const lib = proxy.protocol === 'https:' ? https : http;
  const target = `${host.includes(':') ? `[${host}]` : host}:${port}`;
  const headers: http.OutgoingHttpHeaders = { Host: target };
  if (proxy.username) {
    const auth = `${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`;
    headers['Proxy-Authorization'] = `Basic ${Buffer.from(auth).toString('base64')}`;
  }
  let settled = false;
  const finish = (err: Error | null, socket?: Socket) => {
    if (settled) return void socket?.destroy();
    settled = true;
    done(err, socket);
  };
  const req = lib.request({ host: proxy.hostname.replace(/^\[|\]$/g, ''), port: proxy.port || (proxy.protocol === 'https:' ? 443 : 80), method: 'CONNECT', path: target, headers, agent: false });
  req.setTimeout(PROXY_CONNECT_TIMEOUT_MS, () => {
    finish(new ProxyTunnelError(`proxy ${proxy.host}: no tunnel to ${target} within ${PROXY_CONNECT_TIMEOUT_MS / 1000}s`));
    req.destroy();
  });
  req.once('connect', (res, socket) => {
    if (res.statusCode !== 200) {
      socket.destroy();
      finish(new ProxyTunnelError(`proxy ${proxy.host} answered ${res.statusCode} to CONNECT ${target}`));
    } else finish(null, socket);
  });
  req.once('error', (e) => finish(new ProxyTunnelError(`proxy ${proxy.host}: ${e.message}`)));
  req.end();
}

interface ConnectOptions extends tls.ConnectionOptions {
  host: string;
  port: number;
}

/**
 * Makes `agent` (the keep-alive agent for `server`, with its TLS options) open each connection through `proxyUrl`.
 * @throws KubeconfigInvalidError for a proxy URL that is not http(s)
 */
export function throughProxy<A extends http.Agent>(agent: A, proxyUrl: string, server: URL): A {
  let proxy: URL;
  try {
    proxy = new URL(proxyUrl);
  } catch {
    throw new KubeconfigInvalidError('proxy-url is not a URL');
  }
  if (proxy.protocol !== 'http:' && proxy.protocol !== 'https:') {
    throw new KubeconfigInvalidError(`proxy-url scheme ${proxy.protocol} is not supported (http and https proxies are)`);
  }
  const secure = server.protocol !== 'http:';
  // Node's Agent waits for the callback when createConnection returns nothing.
  agent.createConnection = (args: http.ClientRequestArgs, cb?: (err: Error | null, stream: Duplex) => void): undefined => {
    const options = args as ConnectOptions;
    tunnel(proxy, options.host, Number(options.port), (err, socket) => {
      if (err || !socket) return cb?.(err ?? new ProxyTunnelError('no socket'), undefined as never);
      cb?.(null, secure ? tls.connect({ ...options, socket }) : socket);
    });
    return undefined;
  };
  return agent;
}
