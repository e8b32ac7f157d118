/**
 * The common start of a Flux controller for tests and benches (source-, notification-, kustomize-controller): a work
 * dir (also its TMPDIR), the process with the admin kubeconfig, all namespaces watched, leader election off, console
 * logs, health on `health`, and a wait for `/readyz`. The caller picks the other ports and extra flags.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ControlPlane } from "./control-plane.js";
import { startProcess, waitFor, type GroupProcess } from "./processes.js";
import { toolPath, type ToolName } from "./tools.js";

/** A started Flux controller: its process, work dir, and an idempotent stop that removes the dir. */
export interface FluxProcess {
  readonly proc: GroupProcess;
  readonly dir: string;
  stop(): Promise<void>;
}

/**
 * Starts `tool` with `--health-addr=127.0.0.1:<health>` plus `args(dir)` (built once the work dir exists) and waits
 * until `/readyz` answers; on failure stops it and rethrows.
 */
export async function startFluxProcess(
  cp: ControlPlane, tool: ToolName, health: number, args: (dir: string) => readonly string[],
  cfg: { startTimeoutMs?: number; env?: NodeJS.ProcessEnv } = {},
): Promise<FluxProcess> {
  const dir = mkdtempSync(join(tmpdir(), `kclrun-${tool}-`));
  let proc: GroupProcess | undefined;
  let stopped: Promise<void> | undefined;
  const stop = () =>
    (stopped ??= (async () => {
      await proc?.stop();
      rmSync(dir, { recursive: true, force: true });
    })());
  try {
    proc = startProcess(toolPath(tool), [
      `--health-addr=127.0.0.1:${health}`, "--watch-all-namespaces=true", "--enable-leader-election=false", "--log-encoding=console",
      ...args(dir),
    ], join(dir, `${tool}.log`), {
      // Temp files (kustomize-controller's builds) go to the work dir, removed with it.
      env: { ...process.env, KUBECONFIG: cp.kubeconfigPath, RUNTIME_NAMESPACE: "default", TMPDIR: dir, ...cfg.env },
      cwd: dir,
      cleanupDir: dir,
    });
    const p = proc;
    await waitFor(async () => (await fetch(`http://127.0.0.1:${health}/readyz`)).ok, {
      what: `${tool} /readyz`, proc: p, timeoutMs: cfg.startTimeoutMs ?? 60_000, intervalMs: 200,
    });
    return { proc: p, dir, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
