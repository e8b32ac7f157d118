/**
 * A small client of the OCI distribution API, enough for KCL packages: manifests, blobs (streamed to a file with
 * digest and size checked), tag lists, and pushing blobs and manifests. Authentication answers the registry's
 * challenge: `Bearer` (the anonymous or credentialed token flow of ghcr.io and Docker Hub) or `Basic`. Plain HTTP
 * only for loopback registries or when asked (`OCI_REG_PLAIN_HTTP=on`). Every request has a timeout and follows the
 * caller's AbortSignal.
 */
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { RegistryCredentials } from './credentials.js';

export const MANIFEST_MEDIA_TYPE = 'application/vnd.oci.image.manifest.v1+json';

/** A content descriptor. */
export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
}

/** An OCI image manifest (the parts KCL packages use). */
export interface OciManifest {
  schemaVersion: 2;
  mediaType?: string;
  artifactType?: string;
  config: Descriptor;
  layers: Descriptor[];
  annotations?: Record<string, string>;
}

/** A registry request that failed: names the registry, repository, and the registry's own answer. */
export class RegistryError extends Error {
  override name = 'RegistryError';
  constructor(
    readonly registry: string,
    readonly repository: string,
    message: string,
    /** HTTP status, when the registry answered. */
    readonly status?: number,
    options?: { cause?: unknown },
  ) {
    super(`${registry}/${repository}: ${message}`, options);
  }
}

/** The registry refused our credentials (or asked for some and we had none). */
export class RegistryAuthError extends RegistryError {
  override name = 'RegistryAuthError';
}

/** The manifest or blob does not exist. */
export class RegistryNotFoundError extends RegistryError {
  override name = 'RegistryNotFoundError';
}

/** A request did not finish within the timeout. */
export class RegistryTimeoutError extends RegistryError {
  override name = 'RegistryTimeoutError';
}

/** Downloaded content that is not what its descriptor says (digest, size or cap). */
export class RegistryContentError extends RegistryError {
  override name = 'RegistryContentError';
}

/** How to reach one registry. */
export interface RegistryClientOptions {
  credentials?: RegistryCredentials;
  /** Use http:// (default: only for localhost, 127.0.0.1 and [::1]). */
  plainHttp?: boolean;
  /** Per-request timeout in ms (a blob download counts as one request). Default 60 s. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** True for a registry on the loopback interface, which kpm (and we) reach over plain HTTP. */
export function isLoopback(registry: string): boolean {
  const host = registry.replace(/:\d+$/, '');
  return host === 'localhost' || host === '127.0.0.1' || host === '[::1]';
}

function parseChallenge(header: string): { scheme: string; params: Record<string, string> } {
  const space = header.indexOf(' ');
  const scheme = (space < 0 ? header : header.slice(0, space)).toLowerCase();
  const params: Record<string, string> = {};
  for (const m of header.slice(space + 1).matchAll(/(\w+)="([^"]*)"/g)) params[m[1]!.toLowerCase()] = m[2]!;
  return { scheme, params };
}

const basic = (c: RegistryCredentials) => `Basic ${Buffer.from(`${c.username}:${c.password}`).toString('base64')}`;

/** Reads a registry's error body (`{"errors":[{"code","message"}]}`) into one line. */
async function registryAnswer(res: Response): Promise<string> {
  const text = await res.text().catch(() => '');
  try {
    const errors = (JSON.parse(text) as { errors?: { code?: string; message?: string }[] }).errors ?? [];
    if (errors.length) return `${res.status} ${errors.map((e) => [e.code, e.message].filter(Boolean).join(': ')).join('; ')}`;
  } catch {
    /* not JSON: fall through to the status line */
  }
  return `${res.status} ${res.statusText}`;
}

/** One registry, one repository at a time. */
export class RegistryClient {
  readonly #base: string;
  readonly #auth = new Map<string, string>();

  constructor(
    readonly registry: string,
    private readonly opts: RegistryClientOptions = {},
  ) {
    this.#base = `${(opts.plainHttp ?? isLoopback(registry)) ? 'http' : 'https'}://${registry}`;
  }

  /** A request with auth and timeout; retries once with credentials after a 401 challenge. */
  async #request(repository: string, scope: string, path: string, init: RequestInit = {}): Promise<Response> {
    const send = async (authorization: string | undefined) => {
      const timeoutMs = this.opts.timeoutMs ?? 60_000;
      const signals = [AbortSignal.timeout(timeoutMs), ...(this.opts.signal ? [this.opts.signal] : [])];
      const headers = new Headers(init.headers);
      if (authorization) headers.set('authorization', authorization);
      try {
        return await fetch(`${this.#base}${path}`, { ...init, headers, signal: AbortSignal.any(signals), redirect: 'follow' });
      } catch (err) {
        if (this.opts.signal?.aborted) throw this.opts.signal.reason;
        if ((err as Error).name === 'TimeoutError') throw new RegistryTimeoutError(this.registry, repository, `no answer within ${timeoutMs} ms`);
        throw new RegistryError(this.registry, repository, `cannot reach the registry: ${(err as Error).cause ?? (err as Error).message}`, undefined, { cause: err });
      }
    };
    const key = `${repository}|${scope}`;
    let res = await send(this.#auth.get(key));
    if (res.status !== 401) return res;
    const challenge = res.headers.get('www-authenticate');
    const answer = await registryAnswer(res);
    if (!challenge) throw new RegistryAuthError(this.registry, repository, `${answer} without a challenge`, 401);
    const authorization = await this.#authorize(repository, scope, challenge, answer);
    this.#auth.set(key, authorization);
    res = await send(authorization);
    if (res.status === 401 || res.status === 403) {
      const what = this.opts.credentials ? 'the credentials were refused' : 'the registry needs credentials (none configured)';
      throw new RegistryAuthError(this.registry, repository, `${what}: ${await registryAnswer(res)}`, res.status);
    }
    return res;
  }

  /** The Authorization for a 401 challenge `header`; `answer` is the registry's 401 answer, quoted when it cannot be met. */
  async #authorize(repository: string, scope: string, header: string, answer: string): Promise<string> {
    const { scheme, params } = parseChallenge(header);
    const creds = this.opts.credentials;
    if (scheme === 'basic') {
      if (!creds) throw new RegistryAuthError(this.registry, repository, `the registry needs credentials (none configured): ${answer}`, 401);
      return basic(creds);
    }
    if (scheme !== 'bearer' || !params.realm) throw new RegistryAuthError(this.registry, repository, `unsupported auth challenge "${scheme}"`, 401);
    const url = new URL(params.realm);
    if (params.service) url.searchParams.set('service', params.service);
    url.searchParams.set('scope', `repository:${repository}:${scope}`);
    const timeoutMs = this.opts.timeoutMs ?? 60_000;
    const signals = [AbortSignal.timeout(timeoutMs), ...(this.opts.signal ? [this.opts.signal] : [])];
    let res: Response;
    try {
      res = await fetch(url, { headers: creds ? { authorization: basic(creds) } : {}, signal: AbortSignal.any(signals) });
    } catch (err) {
      if (this.opts.signal?.aborted) throw this.opts.signal.reason;
      throw new RegistryAuthError(this.registry, repository, `cannot get a token from ${url.origin}: ${(err as Error).message}`, undefined, { cause: err });
    }
    if (!res.ok) throw new RegistryAuthError(this.registry, repository, `the token service refused: ${await registryAnswer(res)}`, res.status);
    const body = (await res.json()) as { token?: string; access_token?: string };
    const token = body.token ?? body.access_token;
    if (!token) throw new RegistryAuthError(this.registry, repository, 'the token service answered without a token', res.status);
    return `Bearer ${token}`;
  }

  async #fail(repository: string, res: Response, what: string): Promise<never> {
    const answer = await registryAnswer(res);
    if (res.status === 404) throw new RegistryNotFoundError(this.registry, repository, `${what}: ${answer}`, 404);
    throw new RegistryError(this.registry, repository, `${what}: ${answer}`, res.status);
  }

  /** The manifest `reference` (tag or digest) points to, and its digest. */
  async manifest(repository: string, reference: string): Promise<{ manifest: OciManifest; digest: string }> {
    const res = await this.#request(repository, 'pull', `/v2/${repository}/manifests/${encodeURIComponent(reference)}`, {
      headers: { accept: MANIFEST_MEDIA_TYPE },
    });
    if (!res.ok) return this.#fail(repository, res, `manifest ${reference}`);
    const bytes = Buffer.from(await res.arrayBuffer());
    if (bytes.length > 4 * 1024 * 1024) throw new RegistryContentError(this.registry, repository, `manifest ${reference} is larger than 4 MiB`);
    const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
    if (reference.startsWith('sha256:') && reference !== digest) {
      throw new RegistryContentError(this.registry, repository, `manifest ${reference} has digest ${digest}`);
    }
    let manifest: OciManifest;
    try {
      manifest = JSON.parse(bytes.toString('utf8')) as OciManifest;
    } catch {
      throw new RegistryContentError(this.registry, repository, `manifest ${reference} is not JSON`);
    }
    if (manifest?.schemaVersion !== 2 || !Array.isArray(manifest.layers)) {
      throw new RegistryContentError(this.registry, repository, `manifest ${reference} is not an OCI image manifest`);
    }
    return { manifest, digest };
  }

  /** Every tag of `repository` (following `Link` pagination). */
  async tags(repository: string): Promise<string[]> {
    const all: string[] = [];
    let path: string | undefined = `/v2/${repository}/tags/list`;
    for (let page = 0; path && page < 1000; page++) {
      const res = await this.#request(repository, 'pull', path);
      if (!res.ok) return this.#fail(repository, res, 'tag list');
      const body = (await res.json()) as { tags?: unknown };
      if (Array.isArray(body.tags)) all.push(...body.tags.filter((t): t is string => typeof t === 'string'));
      const next = /<([^>]+)>;\s*rel="next"/.exec(res.headers.get('link') ?? '')?.[1];
      path = next ? new URL(next, this.#base).pathname + new URL(next, this.#base).search : undefined;
    }
    return all;
  }

  /** Streams blob `desc` into `file`, checking its size (≤ `maxBytes`) and sha256 digest. */
  async blobToFile(repository: string, desc: Descriptor, file: string, maxBytes: number): Promise<void> {
    if (!/^sha256:[0-9a-f]{64}$/.test(desc.digest)) throw new RegistryContentError(this.registry, repository, `unsupported digest ${desc.digest}`);
    if (desc.size > maxBytes) throw new RegistryContentError(this.registry, repository, `blob ${desc.digest} is ${desc.size} bytes, over the ${maxBytes} byte limit`);
    const res = await this.#request(repository, 'pull', `/v2/${repository}/blobs/${desc.digest}`);
    if (!res.ok || !res.body) return this.#fail(repository, res, `blob ${desc.digest}`);
    const hash = createHash('sha256');
    let size = 0;
    const registry = this.registry;
    const count = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        size += chunk.length;
        if (size > desc.size) return cb(new RegistryContentError(registry, repository, `blob ${desc.digest} is longer than its ${desc.size} bytes`));
        hash.update(chunk);
        cb(null, chunk);
      },
    });
    try {
      await pipeline(Readable.fromWeb(res.body as import('node:stream/web').ReadableStream), count, createWriteStream(file, { mode: 0o600 }));
    } catch (err) {
      if (err instanceof RegistryError) throw err;
      if (this.opts.signal?.aborted) throw this.opts.signal.reason;
      throw new RegistryError(this.registry, repository, `blob ${desc.digest}: download failed: ${(err as Error).message}`, undefined, { cause: err });
    }
    const digest = `sha256:${hash.digest('hex')}`;
    if (size !== desc.size || digest !== desc.digest) {
      throw new RegistryContentError(this.registry, repository, `blob ${desc.digest} arrived as ${size} bytes with digest ${digest}`);
    }
  }

  /** Uploads `bytes` as a blob (monolithic POST then PUT) and returns its descriptor. */
  async pushBlob(repository: string, bytes: Buffer, mediaType: string, annotations?: Record<string, string>): Promise<Descriptor> {
    const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
    const desc: Descriptor = { mediaType, digest, size: bytes.length, ...(annotations && { annotations }) };
    const head = await this.#request(repository, 'pull,push', `/v2/${repository}/blobs/${digest}`, { method: 'HEAD' });
    if (head.ok) return desc;
    const start = await this.#request(repository, 'pull,push', `/v2/${repository}/blobs/uploads/`, { method: 'POST' });
    if (start.status !== 202) return this.#fail(repository, start, 'blob upload');
    await start.body?.cancel();
    const location = new URL(start.headers.get('location') ?? '', this.#base);
    location.searchParams.set('digest', digest);
    const put = await this.#request(repository, 'pull,push', location.pathname + location.search, {
      method: 'PUT',
      headers: { 'content-type': 'application/octet-stream' },
      body: new Uint8Array(bytes),
    });
    if (put.status !== 201) return this.#fail(repository, put, `blob ${digest} upload`);
    await put.body?.cancel();
    return desc;
  }

  /** Uploads `manifest` under `tag`; returns its digest. */
  async pushManifest(repository: string, tag: string, manifest: OciManifest): Promise<string> {
    const bytes = Buffer.from(JSON.stringify(manifest));
    const res = await this.#request(repository, 'pull,push', `/v2/${repository}/manifests/${encodeURIComponent(tag)}`, {
      method: 'PUT',
      headers: { 'content-type': MANIFEST_MEDIA_TYPE },
      body: new Uint8Array(bytes),
    });
    if (res.status !== 201) return this.#fail(repository, res, `manifest ${tag} upload`);
    await res.body?.cancel();
    return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
  }
}
