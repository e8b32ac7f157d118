/**
 * Structured logs, one line per event (Flux's format: level, ts, msg, plus key/values; JSON, or zap's console
 * layout with `--log-encoding=console`). Callers pass names and revisions, never object contents, so no rendered
 * Secret value can reach a log line.
 */

/** Log levels, most verbose first. */
export const LOG_LEVELS = ['trace', 'debug', 'info', 'error'] as const;
/** One of {@link LOG_LEVELS}. */
export type LogLevel = (typeof LOG_LEVELS)[number];

/** A structured logger. */
export interface Logger {
  debug(msg: string, kv?: Record<string, unknown>): void;
  info(msg: string, kv?: Record<string, unknown>): void;
  error(msg: string, kv?: Record<string, unknown>): void;
  with(kv: Record<string, unknown>): Logger;
}

/** Log encodings (Flux's `--log-encoding`). */
export const LOG_ENCODINGS = ['json', 'console'] as const;
/** One of {@link LOG_ENCODINGS}. */
export type LogEncoding = (typeof LOG_ENCODINGS)[number];

/** One line: JSON, or zap's console layout (`ts<TAB>LEVEL<TAB>msg<TAB>{key/values}`). */
function formatLine(encoding: LogEncoding, level: LogLevel, msg: string, kv: Record<string, unknown>): string {
  const ts = new Date().toISOString();
  if (encoding === 'json') return JSON.stringify({ level, ts, msg, ...kv });
  return [ts, level.toUpperCase(), msg, ...(Object.keys(kv).length ? [JSON.stringify(kv)] : [])].join('\t');
}

/** A logger writing lines to `out` (default stderr) at `level` and above, JSON unless `encoding` says console. */
export function jsonLogger(
  level: LogLevel = 'info',
  base: Record<string, unknown> = {},
  out: NodeJS.WritableStream = process.stderr,
  encoding: LogEncoding = 'json',
): Logger {
  const min = LOG_LEVELS.indexOf(level);
  const emit = (lvl: LogLevel, msg: string, kv?: Record<string, unknown>) => {
    if (LOG_LEVELS.indexOf(lvl) < min) return;
    out.write(formatLine(encoding, lvl, msg, { ...base, ...kv }) + '\n');
  };
  return {
    debug: (m, kv) => emit('debug', m, kv),
    info: (m, kv) => emit('info', m, kv),
    error: (m, kv) => emit('error', m, kv),
    with: (kv) => jsonLogger(level, { ...base, ...kv }, out, encoding),
  };
}

/** A logger that drops everything (tests). */
export const silentLogger: Logger = { debug() {}, info() {}, error() {}, with: () => silentLogger };
