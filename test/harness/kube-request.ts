/**
 * A minimal HTTPS client for the test API server: used by the harness itself (readiness, CRD
 * install, status patches) so it depends on nothing but the server. Tests are free to use
 * `@kubernetes/client-node` through `ControlPlane.kubeConfig()` instead.
 */
import { request } from "node:https";

/** How to reach and authenticate to an API server. */
export interface KubeEndpoint {
  /** Base URL, e.g. `https://127.0.0.1:6443`. */
  readonly server: string;
  /** CA certificate PEM that signed the serving certificate. */
  readonly ca: string;
  /** Bearer token (admin or user). */
  readonly token?: string;
  /** Client certificate PEM (alternative to a token). */
  readonly cert?: string;
  /** Client key PEM. */
  readonly key?: string;
}

/** Options for {@link kubeRequest}. */
export interface KubeRequestCfg {
  /** Request body: a string is sent as is, anything else as JSON. */
  body?: unknown;
  /** Content-Type; default `application/json` when there is a body. */
  contentType?: string;
  /** Query parameters. */
  query?: Readonly<Record<string, string | number | boolean>>;
  /** Timeout in milliseconds. Default 30000. */
  timeoutMs?: number;
}

/** The outcome of a request: never thrown for HTTP error statuses. */
export interface KubeResponse<T = unknown> {
  /** HTTP status. */
  readonly status: number;
  /** True for 2xx. */
  readonly ok: boolean;
  /** Parsed JSON body (or undefined when the body is not JSON). */
  readonly body: T;
  /** Raw body text. */
  readonly text: string;
}

/** Sends one request to the API server. Rejects only on transport errors. */
export async function kubeRequest<T = unknown>(ep: KubeEndpoint, method: string, path: string, cfg: KubeRequestCfg = {}): Promise<KubeResponse<T>> {
  const url = new URL(path, ep.server);
  for (const [k, v] of Object.entries(cfg.query ?? {})) url.searchParams.set(k, String(v));
  const payload = cfg.body === undefined ? undefined : typeof cfg.body === "string" ? cfg.body : JSON.stringify(cfg.body);
  const headers: Record<string, string> = { Accept: "application/json" };
  if (ep.token) headers.Authorization = `Bearer ${ep.token}`;
  if (payload !== undefined) {
    headers["Content-Type"] = cfg.contentType ?? "application/json";
    headers["Content-Length"] = String(Buffer.byteLength(payload));
  }
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers, ca: ep.ca, cert: ep.cert, key: ep.key, timeout: cfg.timeoutMs ?? 30_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8");
        let body: unknown;
        try {
          body = JSON.parse(text);
        } catch {
          body = undefined;
        }
        const status = res.statusCode ?? 0;
        resolve({ status, ok: status >= 200 && status < 300, body: body as T, text });
      });
      res.on("error", reject);
    });
    req.on("timeout", () => req.destroy(new Error(`timeout: ${method} ${url.pathname}`)));
    req.on("error", reject);
    if (payload !== undefined) req.write(payload);
    req.end();
  });
}

/** Options for {@link serverSideApply}. */
export interface ApplyCfg {
  /** Field manager. Required: the harness never hides who owns a field. */
  fieldManager: string;
  /** Subresource to apply to, e.g. `status`. */
  subresource?: string;
  /** Take ownership of conflicting fields. Default true. */
  force?: boolean;
}

/**
 * Server-side applies `obj` at the resource path `path` (the collection item URL, e.g.
 * `/api/v1/namespaces/ns/configmaps/name`). Throws with the server's message on failure.
 */
export async function serverSideApply<T = unknown>(ep: KubeEndpoint, path: string, obj: object, cfg: ApplyCfg): Promise<T> {
  const full = cfg.subresource ? `${path}/${cfg.subresource}` : path;
  const res = await kubeRequest<T>(ep, "PATCH", full, {
    body: obj,
    contentType: "application/apply-patch+yaml",
    query: { fieldManager: cfg.fieldManager, force: cfg.force ?? true },
  });
  if (!res.ok) throw new Error(`server-side apply ${full} as ${cfg.fieldManager} failed: HTTP ${res.status}: ${res.text}`);
  return res.body;
}
