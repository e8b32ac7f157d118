/**
 * Safe extraction of a downloaded tar.gz artifact in two passes, so a bad archive never leaves writes in flight:
 * 1. inspect: gunzip and parse the whole archive writing nothing — truncated or corrupt gzip/tar, paths that escape
 *    the target, more entries than `maxEntries`, more than `maxBytes` decompressed: all fail here;
 * 2. extract: only a fully valid archive is unpacked (links skipped), and the promise settles after tar has closed
 *    every file it wrote.
 * The artifact file lives in the fetch's private temp dir, so it cannot change between the passes.
 */
import { createReadStream } from 'node:fs';
import { isAbsolute, normalize, sep } from 'node:path';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { Parser, x as untar, type ReadEntry } from 'tar';
import { ArtifactCorruptError, ArtifactError, ArtifactLimitError, ArtifactUnsafeError } from './fetch-errors.js';

/** Caps on what an archive may hold. */
export interface UntarLimits {
  /** Decompressed bytes (tar headers included). */
  maxBytes: number;
  /** Entries of any type (files, directories, links). */
  maxEntries: number;
}

function escapes(path: string): boolean {
  const p = normalize(path);
  return isAbsolute(path) || p === '..' || p.startsWith(`..${sep}`);
}

const isLink = (type: string | undefined) => type === 'SymbolicLink' || type === 'Link';

/** Pass 1: reads the whole archive, writing nothing. @throws ArtifactError */
async function inspect(file: string, limits: UntarLimits, signal?: AbortSignal): Promise<void> {
  let problem: ArtifactError | undefined;
  let entries = 0;
  let ended = false;
  const parser = new Parser({
    strict: true,
    onReadEntry: (entry: ReadEntry) => {
      if (!problem) {
        if (++entries > limits.maxEntries) problem = new ArtifactLimitError(`artifact has more than ${limits.maxEntries} entries`);
        else if (escapes(entry.path)) problem = new ArtifactUnsafeError(`artifact contains a path that escapes the target directory: ${entry.path}`);
      }
      entry.resume();
    },
  });
  parser.on('error', (err: Error) => {
    problem ??= new ArtifactCorruptError(`cannot unpack artifact: the archive is truncated or corrupt (tar: ${err.message})`, { cause: err });
  });
  parser.on('end', () => (ended = true));
  let total = 0;
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      total += chunk.length;
      if (total > limits.maxBytes) problem ??= new ArtifactLimitError(`artifact content exceeds the ${limits.maxBytes} byte limit`);
      if (!problem) parser.write(chunk);
      cb(problem);
    },
    final(cb) {
      if (!problem) parser.end();
      cb(problem);
    },
  });
  try {
    await pipeline(createReadStream(file), createGunzip(), sink, { signal });
  } catch (err) {
    if (problem) throw problem;
    if (err instanceof ArtifactError) throw err;
    if (signal?.aborted) throw err;
    throw new ArtifactCorruptError(`cannot unpack artifact: the archive is truncated or corrupt (gzip: ${(err as Error).message})`, { cause: err });
  }
  if (problem) throw problem;
  if (!ended) throw new ArtifactCorruptError('cannot unpack artifact: the archive is truncated or corrupt (tar: the archive ended early)');
}

/** Pass 2: unpacks a verified archive into `dir`; settles after every written file is closed. @throws ArtifactError */
async function extract(file: string, dir: string): Promise<void> {
  const warnings: string[] = [];
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
  if (warnings.length) throw new ArtifactError(`cannot unpack artifact: ${warnings.slice(0, 3).join('; ')}`);
}

/** Verifies, then unpacks the tar.gz `file` into `dir`. @throws ArtifactError (or the signal's reason) */
export async function unpackArtifact(file: string, dir: string, limits: UntarLimits, signal?: AbortSignal): Promise<void> {
  await inspect(file, limits, signal);
  await extract(file, dir);
}
