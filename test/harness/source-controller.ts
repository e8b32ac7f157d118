/**
 * Runs the real Flux source-controller (built by `npm run tools:build`) against a test control
 * plane: admin kubeconfig, storage in a temp dir, artifact server / metrics / health on free
 * 127.0.0.1 ports, all namespaces watched, leader election off.
 * The Flux source CRDs must be installed first (`installFluxSourceCRDs`).
 */
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ControlPlane } from "./control-plane.js";
import { freePort, startProcess, waitFor, type GroupProcess } from "./processes.js";
import { toolPath } from "./tools.js";

/** Options for {@link startSourceController}. */
export interface SourceControllerCfg {
  /** Extra flags, e.g. `["--log-level=debug"]`. */
  args?: readonly string[];
  /** Give up waiting for `/readyz` after this long. Default 60000 ms. */
  startTimeoutMs?: number;
}

/** A running source-controller. */
export interface SourceController {
  /** Base URL artifacts are served from (`http://127.0.0.1:<port>`), as advertised in `status.artifact.url`. */
  readonly storageUrl: string;
  /** The storage directory. */
  readonly storagePath: string;
  /** Path of the controller's log. */
  readonly logPath: string;
  /** Process id (= process group id). */
  readonly pid: number;
  /** Last lines of the controller log. */
  logTail(lines?: number): string;
  /** Stops the controller and removes its storage. Idempotent. */
  stop(): Promise<void>;
}

/** Starts source-controller and waits until its health endpoint reports ready. */
export async function startSourceController(cp: ControlPlane, cfg: SourceControllerCfg = {}): Promise<SourceController> {
  const dir = mkdtempSync(join(tmpdir(), "kclrun-sc-"));
  const storagePath = join(dir, "storage");
  mkdirSync(storagePath);
  const [storage, metrics, health] = [await freePort(), await freePort(), await freePort()];
  const storageAddr = `127.0.0.1:${storage}`;
  let proc: GroupProcess | undefined;
  let stopped: Promise<void> | undefined;
  const stop = () =>
    (stopped ??= (async () => {
      await proc?.stop();
      rmSync(dir, { recursive: true, force: true });
    })());
  try {
    proc = startProcess(toolPath("source-controller"), [
      `--storage-path=${storagePath}`, `--storage-addr=${storageAddr}`, `--storage-adv-addr=${storageAddr}`,
      `--metrics-addr=127.0.0.1:${metrics}`, `--health-addr=127.0.0.1:${health}`,
      "--watch-all-namespaces=true", "--enable-leader-election=false", "--log-encoding=console",
      ...(cfg.args ?? []),
    ], join(dir, "source-controller.log"), {
      env: { ...process.env, KUBECONFIG: cp.kubeconfigPath, RUNTIME_NAMESPACE: "default" },
      cwd: dir,
      cleanupDir: dir,
    });
    const p = proc;
    await waitFor(async () => (await fetch(`http://127.0.0.1:${health}/readyz`)).ok, {
      what: "source-controller /readyz", proc: p, timeoutMs: cfg.startTimeoutMs ?? 60_000, intervalMs: 200,
    });
    return {
      storageUrl: `http://${storageAddr}`, storagePath, logPath: p.logPath, pid: p.pid,
      logTail: (lines) => p.logTail(lines), stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
