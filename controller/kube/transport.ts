/**
 * HTTP(S) to the API server with node:http(s) and the KubeConfig's agent (node-style agents, which Node 20's global
 * fetch cannot use): one round trip, or a GET streamed line by line (a watch). Never throws: network failures come
 * back as results.
 */
import * as http from 'node:http';
import * as https from 'node:https';

/** Where a request goes. */
export interface Endpoint {
  /** The server's protocol, host, port and credentials as node:http takes them (node:url's `urlToHttpOptions`). */
  server: Readonly<http.RequestOptions>;
  /** The path and query string, as sent. */
  path: string;
  /** The path alone, as messages name it. */
  pathname: string;
}

/** A request to `endpoint`, by node:http or node:https as its protocol says. */
function openRequest(endpoint: Endpoint, options: http.RequestOptions, onResponse: (res: http.IncomingMessage) => void): http.ClientRequest {
  const lib = endpoint.server.protocol === 'http:' ? http : https;
  return lib.request({ ...endpoint.server, path: endpoint.path, ...options }, onResponse);
}

/** What {@link roundTrip} sends. */
export interface RoundTripRequest {
  endpoint: Endpoint;
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
  /** Fail once the response body passes this many bytes (default {@link MAX_RESPONSE_BYTES}). */
  maxResponseBytes?: number;
}

/**
 * The largest response body read whole. A tenant's kubeconfig can point the controller at any server; one that
 * streams without end must cost a failed request, not the controller's memory (and every other tenant's reconciles).
 * A LIST page of 500 objects stays far below this; a watch is read line by line instead ({@link streamLines}).
 */
export const MAX_RESPONSE_BYTES = 256 * 1024 * 1024;

/** What {@link roundTrip} returns: the status and raw body text, or why there was no response. */
export type RoundTripResponse =
  | { ok: true; status: number; text: string; contentType: string }
  | { ok: false; reason: 'Timeout' | 'Aborted' | 'NetworkError' | 'ResponseTooLarge'; message: string };

/** Sends one request and reads the whole response. */
export function roundTrip(req: RoundTripRequest): Promise<RoundTripResponse> {
  if (req.signal?.aborted) {
    return Promise.resolve({ ok: false, reason: 'Aborted', message: `${req.method} ${req.endpoint.pathname} aborted` });
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
    const headers: http.OutgoingHttpHeaders = { ...req.headers };
    if (req.body !== undefined) headers['Content-Length'] = Buffer.byteLength(req.body);
    const r = openRequest(req.endpoint, { method: req.method, headers, agent: req.agent }, (res) => {
      const chunks: Buffer[] = [];
      const max = req.maxResponseBytes ?? MAX_RESPONSE_BYTES;
      let size = 0;
      res.on('data', (c: Buffer) => {
        if ((size += c.length) <= max) return void chunks.push(c);
        done({ ok: false, reason: 'ResponseTooLarge', message: `${req.method} ${req.endpoint.pathname}: the response passed ${max} bytes` });
        r.destroy();
      });
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
            done({ ok: false, reason: 'Timeout', message: `${req.method} ${req.endpoint.pathname} timed out after ${req.timeoutMs}ms` });
            r.destroy();
          }, req.timeoutMs)
        : undefined;
    const onAbort = (): void => {
      done({ ok: false, reason: 'Aborted', message: `${req.method} ${req.endpoint.pathname} aborted` });
      r.destroy();
    };
    req.signal?.addEventListener('abort', onAbort, { once: true });
    if (req.body !== undefined) r.write(req.body);
    r.end();
  });
}

/** What {@link streamLines} sends: a GET whose response body is read line by line as it arrives. */
export interface StreamRequest {
  endpoint: Endpoint;
  headers: Record<string, string | string[]>;
  agent?: http.Agent;
  /** Until the response headers arrive (0 = no limit). */
  connectTimeoutMs: number;
  /** For the whole stream (0 = no limit): a connection that went silent without closing ends here. */
  maxDurationMs: number;
  /** Stops the stream; it then ends with `reason: 'Aborted'`. */
  signal?: AbortSignal;
}

/** How a stream ended: the server closed it (`ok`), an error status (with its body), or no response / a cut. */
export type StreamEnd =
  | { ok: true }
  | { ok: false; status: number; reason: 'HTTPError'; text: string }
  | { ok: false; status: 0; reason: 'Timeout' | 'Aborted' | 'NetworkError' | 'LineTooLong'; message: string };

/** The longest line {@link streamLines} buffers (a watch event holds one object; etcd stores at most ~1.5 MiB). */
export const MAX_STREAM_LINE_BYTES = 16 * 1024 * 1024;

/**
 * Sends a GET and calls `onLine` with each non-empty line of a 2xx response body as it arrives (a watch: one JSON
 * event per line). Resolves when the stream ends; never throws. `onLine` may abort `signal` to stop.
 */
export function streamLines(req: StreamRequest, onLine: (line: string) => void): Promise<StreamEnd> {
  const what = `watch ${req.endpoint.pathname}`;
  if (req.signal?.aborted) return Promise.resolve({ ok: false, status: 0, reason: 'Aborted', message: `${what} aborted` });
  return new Promise((resolve) => {
    let settled = false;
    let complete = false; // the response was read to its end: its kept-alive socket goes back to the agent
    let connectTimer: NodeJS.Timeout | undefined;
    let streamTimer: NodeJS.Timeout | undefined;
    const done = (end: StreamEnd): void => {
      if (settled) return;
      settled = true;
      clearTimeout(connectTimer);
      clearTimeout(streamTimer);
      req.signal?.removeEventListener('abort', onAbort);
      if (!complete) r.destroy();
      resolve(end);
    };
    const r = openRequest(req.endpoint, { method: 'GET', headers: req.headers, agent: req.agent }, (res) => {
      clearTimeout(connectTimer);
      const status = res.statusCode ?? 0;
      if (status < 200 || status >= 300) {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          if ((size += c.length) <= 64 * 1024) chunks.push(c);
        });
        res.on('end', () => {
          complete = true;
          done({ ok: false, status, reason: 'HTTPError', text: Buffer.concat(chunks).toString('utf8') });
        });
        res.on('error', (e) => done({ ok: false, status: 0, reason: 'NetworkError', message: e.message }));
        return;
      }
      let pending = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        pending += chunk;
        let nl: number;
        while (!settled && (nl = pending.indexOf('\n')) >= 0) {
          const line = pending.slice(0, nl).trim();
          pending = pending.slice(nl + 1);
          if (line) onLine(line);
        }
        if (pending.length > MAX_STREAM_LINE_BYTES) {
          done({ ok: false, status: 0, reason: 'LineTooLong', message: `${what}: a line longer than ${MAX_STREAM_LINE_BYTES} bytes` });
        }
      });
      res.on('end', () => {
        complete = true;
        if (!settled && pending.trim()) onLine(pending.trim());
        done({ ok: true });
      });
      res.on('error', (e) => done({ ok: false, status: 0, reason: 'NetworkError', message: e.message }));
      // After 'end' this is a no-op; before it, the connection was cut mid-stream.
      res.on('close', () => done({ ok: false, status: 0, reason: 'NetworkError', message: `${what}: connection closed` }));
    });
    r.on('error', (e) => done({ ok: false, status: 0, reason: 'NetworkError', message: e.message }));
    const timeout = (ms: number, message: string) => setTimeout(() => done({ ok: false, status: 0, reason: 'Timeout', message }), ms);
    if (req.connectTimeoutMs > 0) connectTimer = timeout(req.connectTimeoutMs, `${what}: no response within ${req.connectTimeoutMs}ms`);
    if (req.maxDurationMs > 0) streamTimer = timeout(req.maxDurationMs, `${what}: still open after ${req.maxDurationMs}ms`);
    const onAbort = (): void => done({ ok: false, status: 0, reason: 'Aborted', message: `${what} aborted` });
    req.signal?.addEventListener('abort', onAbort, { once: true });
    r.end();
  });
}
