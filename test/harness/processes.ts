/**
 * Process and network helpers shared by the harness: free loopback ports, child processes in
 * their own process group (so a stop kills every descendant), a watchdog that kills them if
 * the test process dies, and readiness polling.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, openSync, readFileSync } from "node:fs";
import { createServer } from "node:net";

/** Returns a TCP port on 127.0.0.1 that was free a moment ago. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      const port = typeof addr === "object" && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** Options for {@link startProcess}. */
export interface StartProcessCfg {
  /** Environment; defaults to the current one. */
  env?: NodeJS.ProcessEnv;
  /** Working directory; defaults to the current one. */
  cwd?: string;
  /**
   * When true the process outlives this Node process (used by `npm run cluster:up`):
   * no watchdog and no exit hook. Default false.
   */
  keepAlive?: boolean;
  /** A directory the watchdog removes if this Node process dies without stopping the child. */
  cleanupDir?: string;
}

/** A child process running as leader of its own process group, logging to a file. */
export interface GroupProcess {
  /** Process id (also the process group id). */
  readonly pid: number;
  /** Path of the combined stdout/stderr log. */
  readonly logPath: string;
  /** The Node handle. */
  readonly child: ChildProcess;
  /** Last lines of the log, for error messages. */
  logTail(lines?: number): string;
  /** SIGTERM the group, SIGKILL it after `graceMs` (default 5000; 0 SIGKILLs at once); resolves when it exited. */
  stop(graceMs?: number): Promise<void>;
}

const live = new Set<number>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on("exit", () => {
    for (const pgid of live) killGroup(pgid, "SIGKILL");
  });
}

/** Sends `signal` to process group `pgid`, ignoring "no such process". */
export function killGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    /* already gone */
  }
}

/**
 * Kills process group `pgid` once this Node process disappears, even after a SIGKILL (ava
 * timeouts, Ctrl-C), and then removes `cleanupDir`. Exits by itself when the group ends first.
 */
function spawnWatchdog(pgid: number, cleanupDir?: string): void {
  const node = process.pid;
  const rm = cleanupDir ? `; kill -0 ${node} 2>/dev/null || rm -rf "$1"` : "";
  const script = `while kill -0 ${node} 2>/dev/null && kill -0 -${pgid} 2>/dev/null; do sleep 1; done; kill -0 ${node} 2>/dev/null || kill -KILL -${pgid} 2>/dev/null${rm}`;
  const dog = spawn("sh", ["-c", script, "watchdog", cleanupDir ?? ""], { detached: true, stdio: "ignore" });
  dog.unref();
}

/** Starts `cmd args` in a new process group with stdout/stderr appended to `logPath`. */
export function startProcess(cmd: string, args: string[], logPath: string, cfg: StartProcessCfg = {}): GroupProcess {
  const fd = openSync(logPath, "a");
  const child = spawn(cmd, args, { detached: true, stdio: ["ignore", fd, fd], env: cfg.env ?? process.env, cwd: cfg.cwd });
  closeSync(fd);
  if (child.pid === undefined) throw new Error(`kclrun harness: could not start ${cmd}`);
  const pid = child.pid;
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once("exit", () => resolve());
  });
  if (cfg.keepAlive) {
    child.unref();
  } else {
    live.add(pid);
    installExitHook();
    spawnWatchdog(pid, cfg.cleanupDir);
  }
  return {
    pid,
    logPath,
    child,
    logTail: (lines = 30) => tailFile(logPath, lines),
    async stop(graceMs = 5000) {
      killGroup(pid, graceMs > 0 ? "SIGTERM" : "SIGKILL");
      const timer = setTimeout(() => killGroup(pid, "SIGKILL"), graceMs);
      await exited;
      clearTimeout(timer);
      killGroup(pid, "SIGKILL"); // descendants that ignored SIGTERM
      live.delete(pid);
    },
  };
}

/** Last `lines` lines of a file ("" if unreadable). */
export function tailFile(path: string, lines = 30): string {
  try {
    return readFileSync(path, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
  } catch {
    return "";
  }
}

/** Options for {@link waitFor}. */
export interface WaitCfg {
  /** Give up after this many milliseconds. Default 60000. */
  timeoutMs?: number;
  /** Poll interval in milliseconds. Default 100. */
  intervalMs?: number;
  /** What is awaited, for the timeout message. */
  what: string;
  /** A process whose early exit aborts the wait (its log tail goes into the error). */
  proc?: GroupProcess;
}

/** Polls `check` until it resolves true; throws with context on timeout or when `proc` exits. */
export async function waitFor(check: () => Promise<boolean>, cfg: WaitCfg): Promise<void> {
  const deadline = Date.now() + (cfg.timeoutMs ?? 60_000);
  let lastError = "";
  for (;;) {
    const proc = cfg.proc;
    if (proc && (proc.child.exitCode !== null || proc.child.signalCode !== null)) {
      throw new Error(`kclrun harness: process exited while waiting for ${cfg.what}\n--- ${proc.logPath}\n${proc.logTail()}`);
    }
    try {
      if (await check()) return;
    } catch (err) {
      lastError = err instanceof Error ? err.message : String(err);
    }
    if (Date.now() > deadline) {
      const log = proc ? `\n--- ${proc.logPath}\n${proc.logTail()}` : "";
      throw new Error(`kclrun harness: timed out waiting for ${cfg.what}${lastError ? ` (last error: ${lastError})` : ""}${log}`);
    }
    await new Promise((r) => setTimeout(r, cfg.intervalMs ?? 100));
  }
}
