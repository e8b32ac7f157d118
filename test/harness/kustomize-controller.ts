/**
 * Runs the real Flux kustomize-controller (bench only: `scripts/build-tools.sh kustomize-controller`, which
 * `npm run bench` invokes) against a test control plane: admin kubeconfig, metrics / health on free 127.0.0.1
 * ports, all namespaces watched, leader election off, no event recorder. The Flux source and Kustomization CRDs
 * must be installed first (`installFluxSourceCRDs`, `installFluxKustomizeCRDs`).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ControlPlane } from "./control-plane.js";
import { freePort, startProcess, waitFor, type GroupProcess } from "./processes.js";
import { toolPath } from "./tools.js";

/** A running kustomize-controller. */
export interface KustomizeController {
  /** Process id (= process group id). */
  readonly pid: number;
  /** `/metrics` port on 127.0.0.1. */
  readonly metricsPort: number;
  /** Last lines of the controller log. */
  logTail(lines?: number): string;
  /** Stops the controller and removes its working dir. Idempotent. */
  stop(): Promise<void>;
}

/** Starts kustomize-controller with extra `args` and waits until its health endpoint reports ready. */
export async function startKustomizeController(cp: ControlPlane, args: readonly string[] = []): Promise<KustomizeController> {
  const dir = mkdtempSync(join(tmpdir(), "kclrun-kc-"));
  const [metrics, health] = [await freePort(), await freePort()];
  let proc: GroupProcess | undefined;
  let stopped: Promise<void> | undefined;
  const stop = () =>
    (stopped ??= (async () => {
      await proc?.stop();
      rmSync(dir, { recursive: true, force: true });
    })());
  try {
    proc = startProcess(toolPath("kustomize-controller"), [
      `--metrics-addr=127.0.0.1:${metrics}`, `--health-addr=127.0.0.1:${health}`,
      "--watch-all-namespaces=true", "--enable-leader-election=false", "--log-encoding=console", ...args,
    ], join(dir, "kustomize-controller.log"), {
      env: { ...process.env, KUBECONFIG: cp.kubeconfigPath, RUNTIME_NAMESPACE: "default", TMPDIR: dir },
      cwd: dir,
      cleanupDir: dir,
    });
    const p = proc;
    await waitFor(async () => (await fetch(`http://127.0.0.1:${health}/readyz`)).ok, {
      what: "kustomize-controller /readyz", proc: p, timeoutMs: 60_000, intervalMs: 200,
    });
    return { pid: p.pid, metricsPort: metrics, logTail: (lines) => p.logTail(lines), stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
