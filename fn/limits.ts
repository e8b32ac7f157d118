/**
 * The render limits and how they are written: Kubernetes-style byte quantities (`512Mi`, `64Mi`, `1G`) for the
 * memory and output caps, and the flags that set each limit, named in every message about one.
 */
import type { Diagnostic } from './engine/diagnostics.js';

/** The flags that set the limits (the same names for `kclrun controller` and `kclrun render`). */
export const LIMIT_FLAGS = {
  timeout: '--render-timeout',
  memory: '--render-memory-limit',
  maxObjects: '--render-max-objects',
  maxBytes: '--render-max-bytes',
  workers: '--render-workers',
} as const;

/** Caps on what one render may produce; checked in the worker (before the output is parsed) and again by the pool. */
export interface OutputLimits {
  /** At most this many resources (default 10000). */
  maxObjects: number;
  /** At most this many bytes of rendered YAML (default 64Mi). */
  maxBytes: number;
}

const Mi = 1024 * 1024;

/** Default output caps. */
export const DEFAULT_OUTPUT_LIMITS: OutputLimits = { maxObjects: 10_000, maxBytes: 64 * Mi };
/** Default per-worker memory cap (resident set size). */
export const DEFAULT_MEMORY_LIMIT_BYTES = 512 * Mi;
/** Default per-render deadline. */
export const DEFAULT_RENDER_TIMEOUT_MS = 60_000;

const UNITS: Record<string, number> = {
  '': 1,
  k: 1e3, M: 1e6, G: 1e9, T: 1e12,
  Ki: 1024, Mi, Gi: 1024 * Mi, Ti: 1024 * 1024 * Mi,
};

/** Parses a byte quantity (`512Mi`, `1Gi`, `200M`, `65536`); undefined when it is not one or not positive. */
export function parseBytes(text: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)(k|M|G|T|Ki|Mi|Gi|Ti)?$/.exec(text.trim());
  if (!m) return undefined;
  const n = Math.floor(Number(m[1]) * UNITS[m[2] ?? '']!);
  return Number.isSafeInteger(n) && n > 0 ? n : undefined;
}

/** Writes a byte count the way the flags take it: `512Mi`, `1.5Gi`, `300Ki`, `17B`. */
export function formatBytes(bytes: number): string {
  for (const [unit, size] of [['Gi', 1024 * Mi], ['Mi', Mi], ['Ki', 1024]] as const) {
    if (bytes >= size) return `${Number((bytes / size).toFixed(1))}${unit}`;
  }
  return `${bytes}B`;
}

/** Writes a duration in seconds (`60s`, `1.5s`) or milliseconds below one second. */
export function formatDuration(ms: number): string {
  return ms >= 1000 ? `${Number((ms / 1000).toFixed(1))}s` : `${ms}ms`;
}

/** The output caps: a diagnostic on the program's first file naming the limit and its flag, or undefined. */
export function checkOutputLimits(limits: OutputLimits, out: { bytes?: number; objects?: number }, file?: string): Diagnostic | undefined {
  if (out.bytes !== undefined && out.bytes > limits.maxBytes) {
    const message = `the program's output is ${formatBytes(out.bytes)}, more than the ${formatBytes(limits.maxBytes)} limit (${LIMIT_FLAGS.maxBytes})`;
    return { severity: 'error', file, message };
  }
  if (out.objects !== undefined && out.objects > limits.maxObjects) {
    const message = `the program rendered ${out.objects} resources, more than the limit of ${limits.maxObjects} (${LIMIT_FLAGS.maxObjects})`;
    return { severity: 'error', file, message };
  }
  return undefined;
}
