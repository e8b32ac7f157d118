/**
 * One lock per package in the package cache, shared by every process (two `kclrun render`s at once, the engine's
 * workers, several controllers on one volume): `<root>/.lock/<name>_<tag>`, created exclusively (O_EXCL) and holding
 * the holder's pid, host and a nonce (worker threads share a pid). The holder refreshes its mtime while it works; a lock whose holder is gone (same host,
 * no such pid) or that went unrefreshed for {@link STALE_MS} is broken. (kpm holds one flock on
 * `<root>/.kpm/config/package-cache` for a whole `kcl run`; a lock per package lets unrelated downloads run at once.)
 *
 * The lock only spares a second download: a package still moves into place by one atomic rename, so a lock broken
 * by mistake costs a download, never a half-written package.
 */
import { closeSync, mkdirSync, openSync, readFileSync, statSync, unlinkSync, utimesSync, writeSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';

/** A lock unrefreshed for this long is stale. */
export const STALE_MS = 30_000;
const REFRESH_MS = 5_000;
const POLL_MS = 50;

/** Waited too long for another process's download. Names the lock and its holder. */
export class PackageLockTimeoutError extends Error {
  override name = 'PackageLockTimeoutError';
  constructor(
    readonly file: string,
    readonly holder: string,
    waitedMs: number,
  ) {
    super(`waited ${waitedMs} ms for ${file} (held by ${holder || 'an unknown process'})`);
  }
}

/** Options for {@link withPackageLock}. */
export interface PackageLockOptions {
  signal?: AbortSignal;
  /** Give up waiting for another holder after this long (default 10 minutes). */
  waitMs?: number;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The holder line (`<pid> <host> <nonce>`) and whether it is stale; undefined when the lock vanished meanwhile. */
function holderOf(file: string): { text: string; stale: boolean } | undefined {
  let text: string;
  let mtimeMs: number;
  try {
    text = readFileSync(file, 'utf8').trim();
    mtimeMs = statSync(file).mtimeMs;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  const [pid, host] = text.split(' ');
  const gone = host === hostname() && Number.isInteger(Number(pid)) && Number(pid) > 0 && !alive(Number(pid));
  return { text, stale: gone || Date.now() - mtimeMs > STALE_MS };
}

/** Runs `fn` holding the cache lock `key` (a package's `<name>_<tag>`) under `root`. */
export async function withPackageLock<T>(root: string, key: string, fn: () => Promise<T>, opts: PackageLockOptions = {}): Promise<T> {
  const dir = join(root, '.lock');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, key);
  const mine = `${process.pid} ${hostname()} ${randomUUID()}`;
  const start = Date.now();
  const waitMs = opts.waitMs ?? 600_000;
  for (;;) {
    opts.signal?.throwIfAborted();
    try {
      const fd = openSync(file, 'wx', 0o600);
      try {
        writeSync(fd, `${mine}\n`);
      } finally {
        closeSync(fd);
      }
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const holder = holderOf(file);
    if (holder?.stale) {
      try {
        unlinkSync(file);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
      continue;
    }
    if (Date.now() - start > waitMs) throw new PackageLockTimeoutError(file, holder?.text ?? '', Date.now() - start);
    if (holder) await delay(POLL_MS, undefined, { signal: opts.signal }).catch(() => opts.signal?.throwIfAborted());
  }
  const refresh = setInterval(() => {
    try {
      const now = new Date();
      utimesSync(file, now, now);
    } catch {
      /* broken as stale by another process: the atomic rename still keeps the cache whole */
    }
  }, REFRESH_MS);
  refresh.unref();
  try {
    return await fn();
  } finally {
    clearInterval(refresh);
    // Remove it only while it is still ours (a process that judged it stale may hold a new one).
    if (holderOf(file)?.text === mine) unlinkSync(file);
  }
}
