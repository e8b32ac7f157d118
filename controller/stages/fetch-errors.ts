/**
 * Why an artifact fetch failed, as typed values: the fetch stage decides retry / not-found / final with
 * `instanceof`, never by reading message text.
 */

/** Base class of every fetch failure. */
export class ArtifactError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** HTTP 404: the source has not stored the artifact (yet). Final for this attempt, reported as "not found". */
export class ArtifactNotFoundError extends ArtifactError {}

/** A transient download failure (network error, 5xx, 429, per-attempt timeout): retried. */
export class DownloadRetryableError extends ArtifactError {}

/** Every attempt failed transiently: final for this reconcile (the KCLRun's retry interval applies). */
export class DownloadExhaustedError extends ArtifactError {}

/** The per-attempt timeout (`--http-timeout`) expired. Retried like any transient failure. */
export class DownloadTimeoutError extends DownloadRetryableError {}

/** Any other HTTP status: final. */
export class DownloadRejectedError extends ArtifactError {}

/** The caller's signal aborted the fetch: final, nothing retried. */
export class FetchCancelledError extends ArtifactError {}

/** A byte or entry-count cap was exceeded: final. */
export class ArtifactLimitError extends ArtifactError {}

/** The digest did not match: final. */
export class ArtifactDigestError extends ArtifactError {}

/** The archive is truncated or corrupt (gzip or tar): final. */
export class ArtifactCorruptError extends ArtifactError {}

/** The archive holds a path that escapes the target directory: final. */
export class ArtifactUnsafeError extends ArtifactError {}
