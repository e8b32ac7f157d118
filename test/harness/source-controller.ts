/**
 * Runs the real Flux source-controller (built by `npm run tools:build`) against a test control
 * plane: admin kubeconfig, storage in a temp dir, artifact server / metrics / health on free
 * 127.0.0.1 ports, all namespaces watched, leader election off.
 * The Flux source CRDs must be installed first (`installFluxSourceCRDs`).
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { ControlPlane } from "./control-plane.js";
import { startFluxProcess } from "./flux-process.js";
import { freePort } from "./processes.js";

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
  const [storage, metrics, health] = [await freePort(), await freePort(), await freePort()];
  const storageAddr = `127.0.0.1:${storage}`;
  let storagePath = "";
  const { proc, stop } = await startFluxProcess(cp, "source-controller", health, (dir) => {
    storagePath = join(dir, "storage");
    mkdirSync(storagePath);
    return [
      `--storage-path=${storagePath}`, `--storage-addr=${storageAddr}`, `--storage-adv-addr=${storageAddr}`,
      `--metrics-addr=127.0.0.1:${metrics}`, ...(cfg.args ?? []),
    ];
  }, { startTimeoutMs: cfg.startTimeoutMs });
  return {
    storageUrl: `http://${storageAddr}`, storagePath, logPath: proc.logPath, pid: proc.pid,
    logTail: (lines) => proc.logTail(lines), stop,
  };
}
