/**
 * One HTTP(S) round trip to the API server with node:http(s) and the KubeConfig's agent (client-node's agents are
 * node-style, which Node 20's global fetch cannot use). Never throws: network failures come back as `error`.
 */
import * as http from 'node:http';
import * as https from 'node:https';

/** What {@link roundTrip} sends. */
export interface RoundTripRequest {
  url: URL;
  method: string;
  headers: Record<string, string | string[]>;
  body?: string;
  agent?: http.Agent;
  /** Abort after this many milliseconds (0 = never). */
  timeoutMs: number;
  signal?: AbortSignal;
  /**
   * Called synchronously when the request is about to go on the wire: when it gets a kept-alive connection, or when
   * its new connection is established — also after a wait for either. It may abort `signal` to stop the request.
   */
  beforeSend?: () => void;
}

/** What {@link roundTrip} returns: the status and raw body text, or why there was no response. */
export type RoundTripResponse =
  | { ok: true; status: number; text: string; contentType: string }
  | { ok: false; reason: 'Timeout' | 'Aborted' | 'NetworkError'; message: string };

/** Sends one request and reads the whole response. */
export function roundTrip(req: RoundTripRequest): Promise<RoundTripResponse> {
  if (req.signal?.aborted) {
    return Promise.resolve({ ok: false, reason: 'Aborted', message: `${req.method} ${req.url.pathname} aborted` });
  }
  return new Promise((resolve) => {
    let settled = false;
    const done = (r: RoundTripResponse): void => {
      if (!settled) {
        settled = true;
        clearTimeout(timer);
        req.signal?.removeEventListener('abort', onAbort);
        resolve(r);
      }
    };
    const lib = req.url.protocol === 'http:' ? http : https;
    const headers: http.OutgoingHttpHeaders = { ...req.headers };
    if (req.body !== undefined) headers['Content-Length'] = Buffer.byteLength(req.body);
    const r = lib.request(req.url, { method: req.method, headers, agent: req.agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', (e) => done({ ok: false, reason: 'NetworkError', message: e.message }));
      res.on('end', () =>
        done({
          ok: true,
          status: res.statusCode ?? 0,
          text: Buffer.concat(chunks).toString('utf8'),
          contentType: String(res.headers['content-type'] ?? ''),
        }),
      );
    });
    r.on('error', (e) => done({ ok: false, reason: 'NetworkError', message: e.message }));
    if (req.beforeSend) {
      const check = req.beforeSend;
      // Emitted before the buffered request is flushed to the socket; a connecting socket flushes on 'connect',
      // after this listener.
      r.once('socket', (socket) => (socket.connecting ? socket.once('connect', check) : check()));
    }
    const timer =
      req.timeoutMs > 0
        ? setTimeout(() => {
            done({ ok: false, reason: 'Timeout', message: `${req.method} ${req.url.pathname} timed out after ${req.timeoutMs}ms` });
            r.destroy();
          }, req.timeoutMs)
        : undefined;
    const onAbort = (): void => {
      done({ ok: false, reason: 'Aborted', message: `${req.method} ${req.url.pathname} aborted` });
      r.destroy();
    };
    req.signal?.addEventListener('abort', onAbort, { once: true });
    if (req.body !== undefined) r.write(req.body);
    r.end();
  });
}
