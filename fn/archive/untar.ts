/**
 * Safe extraction of an untrusted tar (plain or gzipped) in two passes, so a bad archive never leaves writes in
 * flight:
 * 1. inspect: decompress and parse the whole archive writing nothing — truncated or corrupt gzip/tar, paths that
 *    escape the target, more entries than `maxEntries`, more than `maxBytes` decompressed, and (with
 *    `refuseLinks`) any link: all fail here;
 * 2. extract: only a fully valid archive is unpacked (links skipped), and the promise settles after tar has closed
 *    every file it wrote.
 * The caller keeps the archive file where nobody else can change it between the passes. Used for Flux artifacts
 * (controller) and KCL packages pulled from OCI registries (fn/package); `what` names the archive in messages.
 */
import { createReadStream } from 'node:fs';
import { isAbsolute, normalize, sep } from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import type { ReadEntry } from 'tar';

/**
 * The tar package, loaded on first use: `kclrun fn`/`render` import this module (via the package fetcher) on every
 * run and handle no archive on most, and loading tar costs more than their own render of a few items.
 */
export const loadTar = (): Promise<typeof import('tar')> => import('tar');

/** Base class of every extraction failure. */
export class ArchiveError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A byte or entry-count cap was exceeded. */
export class ArchiveLimitError extends ArchiveError {}

/** The archive is truncated or corrupt (gzip or tar). */
export class ArchiveCorruptError extends ArchiveError {}

/** The archive holds a path that escapes the target directory, or a link where links are refused. */
export class ArchiveUnsafeError extends ArchiveError {}

/** Caps and rules for one archive. */
export interface UntarOptions {
  /** Decompressed bytes (tar headers included). */
  maxBytes: number;
  /** Entries of any type (files, directories, links). */
  maxEntries: number;
  /** gzip-compressed (default true). */
  gzip?: boolean;
  /** Fail on symbolic and hard links instead of skipping them (kpm fails on them in packages). */
  refuseLinks?: boolean;
  /** How messages name the archive (default "archive"). */
  what?: string;
}

function escapes(path: string): boolean {
  const p = normalize(path);
  return isAbsolute(path) || p === '..' || p.startsWith(`..${sep}`);
}

const isLink = (type: string | undefined) => type === 'SymbolicLink' || type === 'Link';

/** Pass 1: reads the whole archive, writing nothing. @throws ArchiveError */
async function inspect(file: string, opts: UntarOptions, signal?: AbortSignal): Promise<void> {
  const what = opts.what ?? 'archive';
  let problem: ArchiveError | undefined;
  let entries = 0;
  let ended = false;
  const { Parser } = await loadTar();
  const parser = new Parser({
    strict: true,
    onReadEntry: (entry: ReadEntry) => {
      if (!problem) {
        if (++entries > opts.maxEntries) problem = new ArchiveLimitError(`${what} has more than ${opts.maxEntries} entries`);
        else if (escapes(entry.path)) problem = new ArchiveUnsafeError(`${what} contains a path that escapes the target directory: ${entry.path}`);
        else if (opts.refuseLinks && isLink(entry.type)) problem = new ArchiveUnsafeError(`${what} contains a link: ${entry.path}`);
      }
      entry.resume();
    },
  });
  parser.on('error', (err: Error) => {
    problem ??= new ArchiveCorruptError(`cannot unpack ${what}: the archive is truncated or corrupt (tar: ${err.message})`, { cause: err });
  });
  parser.on('end', () => (ended = true));
  let total = 0;
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      total += chunk.length;
      if (total > opts.maxBytes) problem ??= new ArchiveLimitError(`${what} content exceeds the ${opts.maxBytes} byte limit`);
      if (!problem) parser.write(chunk);
      cb(problem);
    },
    final(cb) {
      if (!problem) parser.end();
      cb(problem);
    },
  });
  try {
    await pipeline(createReadStream(file), opts.gzip === false ? new PassThrough() : createGunzip(), sink, { signal });
  } catch (err) {
    if (problem) throw problem;
    if (err instanceof ArchiveError) throw err;
    if (signal?.aborted) throw err;
    throw new ArchiveCorruptError(`cannot unpack ${what}: the archive is truncated or corrupt (gzip: ${(err as Error).message})`, { cause: err });
  }
  if (problem) throw problem;
  if (!ended) throw new ArchiveCorruptError(`cannot unpack ${what}: the archive is truncated or corrupt (tar: the archive ended early)`);
}

/** Pass 2: unpacks a verified archive into `dir`; settles after every written file is closed. @throws ArchiveError */
async function extract(file: string, dir: string, what: string): Promise<void> {
  const warnings: string[] = [];
  const { x: untar } = await loadTar();
  await untar({
    file,
    cwd: dir,
    strict: false,
    preservePaths: false,
    filter: (path, entry) => !escapes(path) && !isLink((entry as { type?: string }).type),
    onwarn: (code, message) => {
      if (code !== 'TAR_ENTRY_INFO') warnings.push(`${code}: ${message}`);
    },
  });
  if (warnings.length) throw new ArchiveError(`cannot unpack ${what}: ${warnings.slice(0, 3).join('; ')}`);
}

/** Verifies, then unpacks the tar (or tar.gz) `file` into `dir`. @throws ArchiveError (or the signal's reason) */
export async function unpackArchive(file: string, dir: string, opts: UntarOptions, signal?: AbortSignal): Promise<void> {
  await inspect(file, opts, signal);
  await extract(file, dir, opts.what ?? 'archive');
}
