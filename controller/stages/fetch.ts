/**
 * Fetch stage: download a source's artifact (a per-attempt timeout, retries with backoff), verify its digest, and
 * unpack it safely (stages/untar.ts) into a temp dir that the caller removes (`cleanup`). Every failure is a typed
 * error (stages/fetch-errors.ts) that becomes an outcome: fetchArtifact never rejects, and never leaves a temp dir.
 */
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { blake3 } from '@noble/hashes/blake3.js';
import { sleep } from '../ssa/meta.js';
import {
  ArtifactDigestError,
  ArtifactError,
  ArtifactLimitError,
  ArtifactNotFoundError,
  DownloadExhaustedError,
  DownloadRejectedError,
  DownloadRetryableError,
  DownloadTimeoutError,
  FetchCancelledError,
} from './fetch-errors.js';
import { unpackArtifact } from './untar.js';

/** A source's `status.artifact`. */
export interface Artifact {
  url: string;
  revision: string;
  digest?: string;
  path?: string;
  size?: number;
  lastUpdateTime?: string;
}

/** Fetch options (Flux's `--http-retry`, download cap, and the source-controller host override). */
export interface FetchOptions {
  /** Retries after the first attempt (default 9, like Flux). */
  retries?: number;
  /** Delay before the first retry, doubled each time (default 1s, at most 30s). */
  retryDelayMs?: number;
  /** Maximum bytes downloaded, and decompressed (default 512 MiB). */
  maxBytes?: number;
  /** Maximum entries in the archive (default 100000). */
  maxEntries?: number;
  /** Timeout of one download attempt, body included (`--http-timeout`, default 30s). */
  timeoutMs?: number;
  /** Replaces the artifact URL's host (SOURCE_CONTROLLER_LOCALHOST). */
  hostOverride?: string;
  /** Where the temp dir is made (default the OS temp dir). */
  tempRoot?: string;
  /** Cancels the whole fetch (no further attempts). */
  signal?: AbortSignal;
}

/** The outcome: a directory with the artifact's content, "not found" (source not ready), or a failure. */
export type FetchOutcome =
  | { ok: true; dir: string; cleanup: () => Promise<void> }
  | { ok: false; notFound: boolean; message: string };

/** Defaults of {@link FetchOptions}. */
export const FETCH_DEFAULTS = { retries: 9, retryDelayMs: 1000, maxBytes: 512 * 1024 * 1024, maxEntries: 100_000, timeoutMs: 30_000 } as const;

/** A streaming hash: node:crypto's, or BLAKE3 from @noble/hashes (Node has none). */
interface Hasher {
  update(chunk: Uint8Array): unknown;
  hex(): string;
}

const ALGORITHMS: Record<string, () => Hasher> = {
  sha256: () => nodeHash('sha256'),
  sha384: () => nodeHash('sha384'),
  sha512: () => nodeHash('sha512'),
  blake3: () => {
    const h = blake3.create();
    return { update: (c) => h.update(c), hex: () => Buffer.from(h.digest()).toString('hex') };
  },
};

function nodeHash(algorithm: string): Hasher {
  const h = createHash(algorithm);
  return { update: (c) => h.update(c), hex: () => h.digest('hex') };
}

/** Splits `algo:hex` (a bare hex digest means sha256). */
export function parseDigest(digest: string): { algorithm: string; hex: string } | string {
  const [algo, hex] = digest.includes(':') ? (digest.split(':', 2) as [string, string]) : ['sha256', digest];
  if (!ALGORITHMS[algo]) return `unsupported digest algorithm "${algo}" (supported: ${Object.keys(ALGORITHMS).join(', ')})`;
  if (!/^[0-9a-f]+$/i.test(hex)) return `malformed digest "${digest}"`;
  return { algorithm: algo, hex: hex.toLowerCase() };
}

function artifactURL(url: string, hostOverride?: string): string {
  if (!hostOverride) return url;
  const u = new URL(url);
  u.host = hostOverride;
  return u.toString();
}

/** The outcome of a failure; `notFound` tells the reconciler to wait for the source rather than retry soon. */
function failed(err: ArtifactError): Extract<FetchOutcome, { ok: false }> {
  return { ok: false, notFound: err instanceof ArtifactNotFoundError, message: err.message };
}

/** One download attempt to `file`, hashing as it goes. @throws ArtifactError */
async function attempt(url: string, file: string, algorithm: string, opts: FetchOptions): Promise<string> {
  const timeoutMs = opts.timeoutMs ?? FETCH_DEFAULTS.timeoutMs;
  const timeout = AbortSignal.timeout(timeoutMs);
  const signal = opts.signal ? AbortSignal.any([opts.signal, timeout]) : timeout;
  const why = (err: unknown): ArtifactError => {
    if (err instanceof ArtifactError) return err;
    if (opts.signal?.aborted) return new FetchCancelledError('fetch cancelled', { cause: err });
    if (timeout.aborted) return new DownloadTimeoutError(`GET ${url}: no complete response within ${timeoutMs}ms`, { cause: err });
    const cause = (err as { cause?: { message?: string } }).cause?.message;
    return new DownloadRetryableError(`GET ${url}: ${(err as Error).message}${cause ? ` (${cause})` : ''}`, { cause: err });
  };
  let res: Response;
  try {
    res = await fetch(url, { signal });
  } catch (err) {
    throw why(err);
  }
  if (res.status === 404) {
    await res.body?.cancel();
    throw new ArtifactNotFoundError(`artifact not found at ${url}`);
  }
  if (!res.ok || !res.body) {
    await res.body?.cancel();
    const message = `GET ${url}: HTTP ${res.status}`;
    throw res.status >= 500 || res.status === 429 ? new DownloadRetryableError(message) : new DownloadRejectedError(message);
  }
  const hash = ALGORITHMS[algorithm]!();
  let size = 0;
  const max = opts.maxBytes ?? FETCH_DEFAULTS.maxBytes;
  const meter = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      size += chunk.length;
      if (size > max) return cb(new ArtifactLimitError(`GET ${url}: artifact exceeds the ${max} byte limit`));
      hash.update(chunk);
      cb(null, chunk);
    },
  });
  try {
    await pipeline(Readable.fromWeb(res.body as never), meter, createWriteStream(file), { signal });
  } catch (err) {
    throw why(err);
  }
  return hash.hex();
}

/** Downloads to `file` with retries (transient failures only); returns the hex digest. @throws ArtifactError */
async function download(url: string, file: string, algorithm: string, opts: FetchOptions): Promise<string> {
  const retries = opts.retries ?? FETCH_DEFAULTS.retries;
  let delay = opts.retryDelayMs ?? FETCH_DEFAULTS.retryDelayMs;
  let last: ArtifactError | undefined;
  for (let n = 0; n <= retries; n++) {
    if (n > 0) {
      await sleep(delay, opts.signal);
      delay = Math.min(delay * 2, 30_000);
    }
    if (opts.signal?.aborted) throw new FetchCancelledError('fetch cancelled');
    try {
      return await attempt(url, file, algorithm, opts);
    } catch (err) {
      if (!(err instanceof DownloadRetryableError)) throw err;
      last = err;
    }
  }
  throw new DownloadExhaustedError(`${last?.message ?? `GET ${url}: failed`} (after ${retries} retries)`, { cause: last });
}

/** Removes a temp root; tar has settled by the time this runs, retries cover a slow file system. */
function removeTemp(root: string): Promise<void> {
  return rm(root, { recursive: true, force: true, maxRetries: 5, retryDelay: 50 });
}

/** Downloads, verifies and unpacks an artifact. Never rejects; the caller must call `cleanup()` on success. */
export async function fetchArtifact(artifact: Artifact, opts: FetchOptions = {}): Promise<FetchOutcome> {
  const digest = artifact.digest ? parseDigest(artifact.digest) : undefined;
  if (typeof digest === 'string') return { ok: false, notFound: false, message: digest };
  let root: string;
  try {
    root = await mkdtemp(join(opts.tempRoot ?? tmpdir(), 'kclrun-artifact-'));
  } catch (err) {
    return { ok: false, notFound: false, message: `cannot create a temp dir for the artifact: ${(err as Error).message}` };
  }
  const cleanup = () => removeTemp(root);
  let outcome: Extract<FetchOutcome, { ok: false }>;
  try {
    const file = join(root, 'artifact.tar.gz');
    const hex = await download(artifactURL(artifact.url, opts.hostOverride), file, digest?.algorithm ?? 'sha256', opts);
    if (digest && hex !== digest.hex) {
      throw new ArtifactDigestError(`artifact digest mismatch: expected ${artifact.digest}, got ${digest.algorithm}:${hex}`);
    }
    const dir = join(root, 'content');
    await mkdir(dir);
    await unpackArtifact(file, dir, { maxBytes: opts.maxBytes ?? FETCH_DEFAULTS.maxBytes, maxEntries: opts.maxEntries ?? FETCH_DEFAULTS.maxEntries }, opts.signal);
    return { ok: true, dir, cleanup };
  } catch (err) {
    if (err instanceof ArtifactError) outcome = failed(err);
    else if (opts.signal?.aborted) outcome = failed(new FetchCancelledError('fetch cancelled'));
    else outcome = { ok: false, notFound: false, message: `cannot fetch artifact: ${(err as Error).message}` };
  }
  try {
    await cleanup();
  } catch (err) {
    return { ...outcome, message: `${outcome.message}; and the temp dir ${root} could not be removed: ${(err as Error).message}` };
  }
  return outcome;
}
