/**
 * Fetch stage: download a source's artifact, verify its digest, and untar it safely into a temp dir that the
 * caller removes (`cleanup`). Paths that escape the dir fail the fetch; links are skipped; size is capped.
 */
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { isAbsolute, join, normalize, sep } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { x as untar } from 'tar';
import { blake3 } from '@noble/hashes/blake3.js';

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
  /** Maximum bytes downloaded and unpacked (default 512 MiB). */
  maxBytes?: number;
  /** Replaces the artifact URL's host (SOURCE_CONTROLLER_LOCALHOST). */
  hostOverride?: string;
  /** Where the temp dir is made (default the OS temp dir). */
  tempRoot?: string;
  signal?: AbortSignal;
}

/** The outcome: a directory with the artifact's content, "not found" (source not ready), or a failure. */
export type FetchOutcome =
  | { ok: true; dir: string; cleanup: () => Promise<void> }
  | { ok: false; notFound: boolean; message: string };

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

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => (clearTimeout(t), resolve()), { once: true });
  });

/** Downloads to `file`, hashing as it goes. Retries network errors and 5xx; 404 is final. */
async function download(url: string, file: string, algorithm: string, opts: FetchOptions) {
  const retries = opts.retries ?? 9;
  let delay = opts.retryDelayMs ?? 1000;
  let last = '';
  for (let attempt = 0; attempt <= retries; attempt++) {
    if (attempt > 0) {
      await sleep(delay, opts.signal);
      delay = Math.min(delay * 2, 30_000);
    }
    if (opts.signal?.aborted) return { ok: false as const, notFound: false, message: 'fetch cancelled' };
    let res: Response;
    try {
      res = await fetch(url, { signal: opts.signal });
    } catch (err) {
      last = `GET ${url}: ${(err as Error).message}`;
      continue;
    }
    if (res.status === 404) return { ok: false as const, notFound: true, message: `artifact not found at ${url}` };
    if (!res.ok || !res.body) {
      last = `GET ${url}: HTTP ${res.status}`;
      await res.body?.cancel();
      if (res.status >= 500 || res.status === 429) continue;
      return { ok: false as const, notFound: false, message: last };
    }
    const hash = ALGORITHMS[algorithm]!();
    let size = 0;
    const max = opts.maxBytes ?? 512 * 1024 * 1024;
    const meter = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        size += chunk.length;
        if (size > max) return cb(new Error(`artifact exceeds the ${max} byte limit`));
        hash.update(chunk);
        cb(null, chunk);
      },
    });
    try {
      await pipeline(Readable.fromWeb(res.body as never), meter, createWriteStream(file));
      return { ok: true as const, hex: hash.hex() };
    } catch (err) {
      last = `GET ${url}: ${(err as Error).message}`;
      if (/byte limit/.test(last)) return { ok: false as const, notFound: false, message: last };
    }
  }
  return { ok: false as const, notFound: false, message: `${last} (after ${retries} retries)` };
}

/** Extracts `file` into `dir`; returns an error message for escaping paths or oversize content. */
async function extract(file: string, dir: string, maxBytes: number): Promise<string | undefined> {
  let problem: string | undefined;
  let total = 0;
  await untar({
    file,
    cwd: dir,
    strict: false,
    preservePaths: false,
    filter: (path, entry) => {
      const p = normalize(path);
      if (isAbsolute(path) || p === '..' || p.startsWith(`..${sep}`)) {
        problem ??= `artifact contains a path that escapes the target directory: ${path}`;
        return false;
      }
      const type = (entry as { type?: string }).type;
      if (type === 'SymbolicLink' || type === 'Link') return false;
      total += (entry as { size?: number }).size ?? 0;
      if (total > maxBytes) {
        problem ??= `artifact content exceeds the ${maxBytes} byte limit`;
        return false;
      }
      return true;
    },
  });
  return problem;
}

/** Downloads, verifies and unpacks an artifact. The caller must call `cleanup()` on success. */
export async function fetchArtifact(artifact: Artifact, opts: FetchOptions = {}): Promise<FetchOutcome> {
  const digest = artifact.digest ? parseDigest(artifact.digest) : undefined;
  if (typeof digest === 'string') return { ok: false, notFound: false, message: digest };
  const root = await mkdtemp(join(opts.tempRoot ?? tmpdir(), 'kclrun-artifact-'));
  const cleanup = () => rm(root, { recursive: true, force: true });
  try {
    const file = join(root, 'artifact.tar.gz');
    const got = await download(artifactURL(artifact.url, opts.hostOverride), file, digest?.algorithm ?? 'sha256', opts);
    if (!got.ok) {
      await cleanup();
      return got;
    }
    if (digest && got.hex !== digest.hex) {
      await cleanup();
      return { ok: false, notFound: false, message: `artifact digest mismatch: expected ${artifact.digest}, got ${artifact.digest!.split(':')[0]}:${got.hex}` };
    }
    const dir = join(root, 'content');
    await mkdir(dir);
    const problem = await extract(file, dir, opts.maxBytes ?? 512 * 1024 * 1024);
    if (problem) {
      await cleanup();
      return { ok: false, notFound: false, message: problem };
    }
    return { ok: true, dir, cleanup };
  } catch (err) {
    await cleanup();
    return { ok: false, notFound: false, message: `cannot unpack artifact: ${(err as Error).message}` };
  }
}
