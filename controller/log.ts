/**
 * Structured JSON logs, one line per event (Flux's format: level, ts, msg, plus key/values). Callers pass names and
 * revisions, never object contents, so no rendered Secret value can reach a log line.
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

/** A logger writing JSON lines to `out` (default stderr) at `level` and above. */
export function jsonLogger(level: LogLevel = 'info', base: Record<string, unknown> = {}, out: NodeJS.WritableStream = process.stderr): Logger {
  const min = LOG_LEVELS.indexOf(level);
  const emit = (lvl: LogLevel, msg: string, kv?: Record<string, unknown>) => {
    if (LOG_LEVELS.indexOf(lvl) < min) return;
    out.write(JSON.stringify({ level: lvl, ts: new Date().toISOString(), msg, ...base, ...kv }) + '\n');
  };
  return {
    debug: (m, kv) => emit('debug', m, kv),
    info: (m, kv) => emit('info', m, kv),
    error: (m, kv) => emit('error', m, kv),
    with: (kv) => jsonLogger(level, { ...base, ...kv }, out),
  };
}

/** A logger that drops everything (tests). */
export const silentLogger: Logger = { debug() {}, info() {}, error() {}, with: () => silentLogger };
