/**
 * Safe extraction of a downloaded tar.gz artifact: the two-pass extraction of fn/archive/untar.ts, its failures
 * mapped onto the fetch stage's typed errors. The artifact file lives in the fetch's private temp dir, so it cannot
 * change between the passes.
 */
import { ArchiveCorruptError, ArchiveError, ArchiveLimitError, ArchiveUnsafeError, unpackArchive } from '../../fn/archive/untar.js';
import { ArtifactCorruptError, ArtifactError, ArtifactLimitError, ArtifactUnsafeError } from './fetch-errors.js';

/** Caps on what an archive may hold. */
export interface UntarLimits {
  /** Decompressed bytes (tar headers included). */
  maxBytes: number;
  /** Entries of any type (files, directories, links). */
  maxEntries: number;
}

function asArtifactError(err: ArchiveError): ArtifactError {
  const opts = { cause: err.cause };
  if (err instanceof ArchiveLimitError) return new ArtifactLimitError(err.message, opts);
  if (err instanceof ArchiveCorruptError) return new ArtifactCorruptError(err.message, opts);
  if (err instanceof ArchiveUnsafeError) return new ArtifactUnsafeError(err.message, opts);
  return new ArtifactError(err.message, opts);
}

/** Verifies, then unpacks the tar.gz `file` into `dir`. @throws ArtifactError (or the signal's reason) */
export async function unpackArtifact(file: string, dir: string, limits: UntarLimits, signal?: AbortSignal): Promise<void> {
  try {
    await unpackArchive(file, dir, { ...limits, what: 'artifact' }, signal);
  } catch (err) {
    throw err instanceof ArchiveError ? asArtifactError(err) : err;
  }
}
