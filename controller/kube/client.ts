/**
 * A small Kubernetes REST client on raw JSON: KubeConfig auth (token, client certificate, basic, exec plugins),
 * impersonation, discovery-based REST mapping, watches, and results instead of throws. Server-side apply sends the
 * object as-is, never through a typed serialisation (which can drop fields).
 */
import { isJsonObject } from '../../krm/index.js';
import { ConnectionResolver, type Connection } from './auth.js';
import { Discovery } from './discovery.js';
import type { MappingResult } from './discovery.js';
import { apiPath, InvalidPathSegmentError, type ApiPath } from './paths.js';
import { RateLimiter, type RateLimit } from './rate-limit.js';
import type { KubeConfig } from './kubeconfig.js';
import { roundTrip, streamLines, type Endpoint } from './transport.js';
import type { JsonObject, KubeResult, ObjectList, ObjectRef, ResourceMapping } from './types.js';

export type { KubeResult, ResourceMapping, ObjectRef, ObjectList, JsonObject } from './types.js';
export type { MappingResult } from './discovery.js';

/** How to build a {@link KubeClient}. */
export interface KubeClientOptions {
  /** Cluster and credentials (current context). */
  kubeConfig: KubeConfig;
  /** Act as this user (`Impersonate-User`, and one `Impersonate-Group` header per group). */
  impersonate?: { user: string; groups?: string[] };
  /** `User-Agent` header; default `kclrun`. */
  userAgent?: string;
  /** Per-request timeout in milliseconds; default 30000. A request's `signal` aborts it earlier. */
  timeoutMs?: number;
  /**
   * Called synchronously as each request is about to go on the wire (after any wait for a connection); aborting the
   * request's signal there stops it. The controller checks its lease's renew deadline here: a replica frozen past it
   * (SIGSTOP, a long pause) aborts its reconciles before anything more is sent, not when its renew timer next runs.
   */
  beforeSend?: () => void;
  /**
   * Client-side rate limit (`--kube-api-qps`/`--kube-api-burst`) of each API resource (rate-limit.ts), shared by
   * every client of this KubeConfig; the first client made for a KubeConfig sets it. Default: none.
   */
  rateLimit?: RateLimit;
  /** False: this client's requests skip the rate limit (see {@link KubeClient.withoutRateLimit}). Default true. */
  rateLimited?: boolean;
}

/** Options of {@link KubeClient.request}. */
export interface RequestOptions {
  /** A string is sent as-is; anything else as JSON. */
  body?: unknown;
  /** Default `application/json` when there is a body. */
  contentType?: string;
  /** Query parameters; undefined values are left out. */
  query?: Record<string, string | undefined>;
  /** Aborts the request (`reason: 'Aborted'`); the per-request timeout applies as well. */
  signal?: AbortSignal;
}

/** One watch event (`type` is ADDED, MODIFIED, DELETED, BOOKMARK or ERROR; an ERROR's object is a Status). */
export interface WatchEvent<T> {
  type: string;
  object: T;
}

/** Options of {@link KubeClient.watch}. */
export interface WatchOptions {
  /** Start after this version (from a list); empty = from now, with synthetic ADDED events for what exists. */
  resourceVersion?: string;
  labelSelector?: string;
  /** The server ends the watch after this long (default 300); the client gives up 30 s after that. */
  timeoutSeconds?: number;
  /** Ends the watch (`reason: 'Aborted'`). */
  signal?: AbortSignal;
}

/** Why a watch ended: `ok` when the server closed it (routine: its timeout); else the status (0 = no response). */
export type WatchEnd = { ok: true } | { ok: false; status: number; reason: string; message: string };

/** Shared per KubeConfig: connection pool and discovery cache (impersonating clones reuse them). */
interface Shared {
  resolver: ConnectionResolver;
  discovery: Discovery;
  limiter: RateLimiter;
}
const sharedByConfig = new WeakMap<KubeConfig, Shared>();

/** A Kubernetes API client. */
export class KubeClient {
  readonly #opts: KubeClientOptions;
  readonly #shared: Shared;

  /** @param opts kubeconfig, impersonation, user agent, timeout */
  constructor(opts: KubeClientOptions) {
    this.#opts = opts;
    let shared = sharedByConfig.get(opts.kubeConfig);
    if (!shared) {
      shared = { resolver: new ConnectionResolver(opts.kubeConfig), discovery: new Discovery(), limiter: new RateLimiter(opts.rateLimit) };
      sharedByConfig.set(opts.kubeConfig, shared);
    }
    this.#shared = shared;
  }

  /** A client for the same cluster acting as `user` (e.g. `system:serviceaccount:<ns>:<sa>`). */
  withImpersonation(user: string, groups?: string[]): KubeClient {
    return new KubeClient({ ...this.#opts, impersonate: { user, groups } });
  }

  /** A client for another cluster (a KCLRun's kubeconfig) with this client's user agent, timeout and request hook. */
  forKubeConfig(kubeConfig: KubeConfig): KubeClient {
    return new KubeClient({ ...this.#opts, kubeConfig, impersonate: undefined });
  }

  /**
   * A client for the same cluster whose requests skip the client-side rate limit: the one a KCLRun applies and
   * health-checks with. kustomize-controller does the same: its apply client comes from controller-runtime's
   * `config.GetConfig()`, which turns client-side limiting off (QPS -1) and relies on the API server's Priority and
   * Fairness; `--kube-api-qps`/`--kube-api-burst` bound only the manager's client (its own objects, sources, events).
   */
  withoutRateLimit(): KubeClient {
    return new KubeClient({ ...this.#opts, rateLimited: false });
  }

  /** The impersonated user, if any. */
  get impersonating(): string | undefined {
    return this.#opts.impersonate?.user;
  }

  /**
   * One API request. `path` is an {@link ApiPath} whenever any segment comes from data; a fixed string otherwise.
   * API errors (`Status` bodies) become `{ok: false, reason, message}`; a refused path segment, or a string path
   * that URL resolution would change (dot segments), becomes `{ok: false, status: 0, reason: 'InvalidPath'}` and
   * nothing is sent.
   */
  async request<T = unknown>(method: string, path: string | ApiPath, opts: RequestOptions = {}): Promise<KubeResult<T>> {
    const target = await this.#target(path, opts.query);
    if (!target.ok) return target;
    const { endpoint, conn, relative } = target;
    const headers = this.#headers(conn);
    let body: string | undefined;
    if (opts.body !== undefined) {
      body = typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body);
      headers['Content-Type'] = opts.contentType ?? 'application/json';
    }
    try {
      if (this.#opts.rateLimited !== false) await this.#shared.limiter.for(relative)?.take(opts.signal);
    } catch {
      return { ok: false, status: 0, reason: 'Aborted', message: `${method} ${endpoint.pathname} aborted (waiting for the client-side rate limit)` };
    }
    const res = await roundTrip({
      endpoint,
      method,
      headers,
      body,
      agent: conn.agent,
      timeoutMs: this.#opts.timeoutMs ?? 30_000,
      signal: opts.signal,
      beforeSend: this.#opts.beforeSend,
    });
    if (!res.ok) return { ok: false, status: 0, reason: res.reason, message: res.message };
    if (res.status === 401) this.#shared.resolver.unauthorized();
    if (res.status >= 200 && res.status < 300) return success<T>(res.status, res.text);
    return apiFailure(res.status, parseBody(res.text));
  }

  /**
   * Watches a collection (`path`, as for {@link request}): `onEvent` gets each event as it arrives, until the server
   * ends the watch, it fails, or `opts.signal` aborts it. Resolves with why it ended; never throws. Not rate-limited
   * (one long request), and `beforeSend` does not run for it.
   */
  async watch<T = unknown>(path: string | ApiPath, opts: WatchOptions, onEvent: (event: WatchEvent<T>) => void): Promise<WatchEnd> {
    const timeoutSeconds = opts.timeoutSeconds ?? 300;
    const target = await this.#target(path, {
      watch: 'true',
      allowWatchBookmarks: 'true',
      resourceVersion: opts.resourceVersion || undefined,
      labelSelector: opts.labelSelector,
      timeoutSeconds: String(timeoutSeconds),
    });
    if (!target.ok) return target;
    let invalid: WatchEnd | undefined;
    const stop = new AbortController();
    const signal = opts.signal ? AbortSignal.any([opts.signal, stop.signal]) : stop.signal;
    const end = await streamLines(
      {
        endpoint: target.endpoint,
        headers: this.#headers(target.conn),
        agent: target.conn.agent,
        connectTimeoutMs: this.#opts.timeoutMs ?? 30_000,
        maxDurationMs: (timeoutSeconds + 30) * 1000,
        signal,
      },
      (line) => {
        let event: unknown;
        try {
          event = JSON.parse(line);
        } catch {
          event = undefined;
        }
        const e = event as Partial<WatchEvent<T>> | undefined;
        if (typeof e?.type !== 'string' || typeof e.object !== 'object' || e.object === null) {
          invalid = { ok: false, status: 0, reason: 'InvalidWatchEvent', message: `watch ${target.endpoint.pathname}: the server sent a line that is not a watch event` };
          stop.abort();
          return;
        }
        onEvent(e as WatchEvent<T>);
      },
    );
    if (invalid) return invalid;
    if (end.ok) return end;
    if (end.reason !== 'HTTPError') return { ok: false, status: 0, reason: end.reason, message: end.message };
    if (end.status === 401) this.#shared.resolver.unauthorized();
    const { reason, message } = apiFailure(end.status, parseBody(end.text));
    return { ok: false, status: end.status, reason, message };
  }

  /** Where `path` with `query` goes, and the connection to send it on; or why there is none. */
  async #target(
    path: string | ApiPath,
    query: Record<string, string | undefined> = {},
  ): Promise<{ ok: true; endpoint: Endpoint; conn: Connection; relative: string } | Extract<KubeResult<never>, { ok: false }>> {
    let relative: string;
    try {
      relative = (typeof path === 'string' ? path : apiPath(path)).replace(/^\/+/, '');
    } catch (e) {
      if (e instanceof InvalidPathSegmentError) return { ok: false, status: 0, reason: 'InvalidPath', message: e.message };
      throw e;
    }
    let conn: Connection;
    try {
      conn = await this.#shared.resolver.resolve();
    } catch (e) {
      return { ok: false, status: 0, reason: 'ConfigError', message: `kubeconfig: ${(e as Error).message}` };
    }
    const pathname = `${conn.server.pathname}${relative}`;
    // Sent as written, so it must be what URL resolution makes of it: a plain path is; anything else is checked.
    if (!isPlainPath(relative) && new URL(relative, conn.server).pathname !== pathname) {
      return { ok: false, status: 0, reason: 'InvalidPath', message: `API path ${JSON.stringify(relative.slice(0, 200))} does not resolve to itself` };
    }
    const search = Object.entries(query).flatMap(([k, v]) => (v === undefined ? [] : [`${encodeURIComponent(k)}=${encodeURIComponent(v)}`]));
    const endpoint = { server: conn.serverOptions, path: search.length ? `${pathname}?${search.join('&')}` : pathname, pathname };
    return { ok: true, endpoint, conn, relative };
  }

  /** The headers of every request: credentials, Accept, User-Agent, impersonation. */
  #headers(conn: Connection): Record<string, string | string[]> {
    const headers: Record<string, string | string[]> = {
      ...conn.headers,
      Accept: 'application/json',
      'User-Agent': this.#opts.userAgent ?? 'kclrun',
    };
    const imp = this.#opts.impersonate;
    if (imp) {
      headers['Impersonate-User'] = imp.user;
      if (imp.groups?.length) headers['Impersonate-Group'] = imp.groups; // node sends one header line per value
    }
    return headers;
  }

  /** The REST mapping of a kind (discovery, cached, re-discovered on a miss); undefined when not served. */
  async mapping(apiVersion: string, kind: string): Promise<ResourceMapping | undefined> {
    const r = await this.resolveMapping(apiVersion, kind);
    return r.ok ? r.mapping : undefined;
  }

  /** Like {@link mapping}, but tells "not served" apart from "discovery failed". */
  resolveMapping(apiVersion: string, kind: string): Promise<MappingResult> {
    return this.#shared.discovery.resolve((p) => this.request('GET', p), apiVersion, kind);
  }

  /** The {@link ApiPath} of a collection (no name) or object, optionally a subresource (`status`). */
  objectPath(m: ResourceMapping, namespace?: string, name?: string, subresource?: string): ApiPath {
    const p: ApiPath = { group: m.group, version: m.version, resource: m.resource };
    if (m.namespaced && namespace) p.namespace = namespace;
    if (name !== undefined) p.name = name;
    if (name !== undefined && subresource) p.subresource = subresource;
    return p;
  }

  /** GET one object. A kind that is not served is `{ok: false, status: 404, reason: 'NoKindMatch'}`. */
  async get(ref: ObjectRef, opts: { signal?: AbortSignal } = {}): Promise<KubeResult<JsonObject>> {
    const m = await this.#pathFor(ref);
    if (!m.ok) return m;
    return this.request<JsonObject>('GET', m.path, { signal: opts.signal });
  }

  /** Server-side apply of `obj` as raw JSON (`application/apply-patch+yaml`). */
  async apply(
    obj: JsonObject,
    opts: { fieldManager: string; force?: boolean; dryRun?: boolean; signal?: AbortSignal },
  ): Promise<KubeResult<JsonObject>> {
    const m = await this.#pathFor(refOf(obj));
    if (!m.ok) return m;
    return this.request<JsonObject>('PATCH', m.path, {
      body: obj,
      contentType: 'application/apply-patch+yaml',
      query: { fieldManager: opts.fieldManager, force: opts.force ? 'true' : undefined, dryRun: opts.dryRun ? 'All' : undefined },
      signal: opts.signal,
    });
  }

  /** DELETE one object (propagation policy default `Background`). */
  async delete(
    ref: ObjectRef,
    opts: { propagationPolicy?: 'Background' | 'Foreground' | 'Orphan'; signal?: AbortSignal } = {},
  ): Promise<KubeResult<unknown>> {
    const m = await this.#pathFor(ref);
    if (!m.ok) return m;
    const body = { apiVersion: 'v1', kind: 'DeleteOptions', propagationPolicy: opts.propagationPolicy ?? 'Background' };
    return this.request('DELETE', m.path, { body, signal: opts.signal });
  }

  /** LIST a kind, in one namespace or across all. */
  async list(
    apiVersion: string,
    kind: string,
    opts: { namespace?: string; labelSelector?: string; signal?: AbortSignal } = {},
  ): Promise<KubeResult<ObjectList>> {
    const mr = await this.resolveMapping(apiVersion, kind);
    if (!mr.ok) return mr;
    if (!mr.mapping) return noMatch(apiVersion, kind);
    const path = this.objectPath(mr.mapping, opts.namespace);
    return this.request<ObjectList>('GET', path, { query: { labelSelector: opts.labelSelector }, signal: opts.signal });
  }

  /** Closes idle connections (shared with clients of the same KubeConfig). */
  close(): void {
    this.#shared.resolver.close();
  }

  async #pathFor(ref: ObjectRef): Promise<{ ok: true; path: ApiPath; mapping: ResourceMapping } | Extract<KubeResult<never>, { ok: false }>> {
    const mr = await this.resolveMapping(ref.apiVersion, ref.kind);
    if (!mr.ok) return mr;
    if (!mr.mapping) return noMatch(ref.apiVersion, ref.kind);
    if (mr.mapping.namespaced && !ref.namespace) {
      return { ok: false, status: 0, reason: 'NamespaceRequired', message: `${ref.kind}/${ref.name}: namespace not specified` };
    }
    return { ok: true, path: this.objectPath(mr.mapping, ref.namespace, ref.name), mapping: mr.mapping };
  }
}

/**
 * A path that URL resolution leaves as it is: unreserved characters, `/` and `:` only, and no `.` or `..` segment —
 * every path apiPath builds from Kubernetes names; one with a percent-encoded segment takes the checked way.
 */
function isPlainPath(relative: string): boolean {
  return /^[A-Za-z0-9\-._~:/]*$/.test(relative) && !/(?:^|\/)\.\.?(?:\/|$)/.test(relative);
}

/**
 * A successful result whose body is parsed when first read: most server-side applies of a stage only need to know
 * that they succeeded, and parsing every reply (the object, managedFields included) was a tenth of the apply
 * stage's CPU.
 */
function success<T>(status: number, text: string): Extract<KubeResult<T>, { ok: true }> {
  let body: { value: T } | undefined;
  return {
    ok: true,
    status,
    get body(): T {
      body ??= { value: parseBody(text) as T };
      return body.value;
    },
  };
}

/** A response body: JSON when it parses, else the text (undefined when empty). */
function parseBody(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** The result of an error status: the `Status` body's reason and message, or the start of a text body. */
function apiFailure(status: number, parsed: unknown): Extract<KubeResult<never>, { ok: false }> {
  const st = isJsonObject(parsed) ? parsed : {};
  const field = (k: string) => (typeof st[k] === 'string' ? st[k] : '');
  return {
    ok: false,
    status,
    reason: field('reason') || `HTTP${status}`,
    message: field('message') || (typeof parsed === 'string' && parsed.trim() ? parsed.trim().slice(0, 500) : `HTTP ${status}`),
    body: parsed,
  };
}

/** The result for a kind the API server does not serve. */
function noMatch(apiVersion: string, kind: string): Extract<KubeResult<never>, { ok: false }> {
  return {
    ok: false,
    status: 404,
    reason: 'NoKindMatch',
    message: `no matches for kind "${kind}" in version "${apiVersion}"`,
  };
}

/** The reference of a manifest. */
export function refOf(obj: JsonObject): ObjectRef {
  const md = (obj['metadata'] ?? {}) as { name?: string; namespace?: string };
  const ref: ObjectRef = { apiVersion: String(obj['apiVersion'] ?? ''), kind: String(obj['kind'] ?? ''), name: String(md.name ?? '') };
  if (md.namespace) ref.namespace = md.namespace;
  return ref;
}
