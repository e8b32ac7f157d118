/**
 * Runs the real Flux kustomize-controller (bench only: `scripts/build-tools.sh kustomize-controller`, which
 * `npm run bench` invokes) against a test control plane: admin kubeconfig, metrics / health on free 127.0.0.1
 * ports, all namespaces watched, leader election off, no event recorder. The Flux source and Kustomization CRDs
 * must be installed first (`installFluxSourceCRDs`, `installFluxKustomizeCRDs`).
 */
import type { ControlPlane } from "./control-plane.js";
import { startFluxProcess } from "./flux-process.js";
import { freePort } from "./processes.js";

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
  const [metrics, health] = [await freePort(), await freePort()];
  const { proc, stop } = await startFluxProcess(cp, "kustomize-controller", health, () => [`--metrics-addr=127.0.0.1:${metrics}`, ...args]);
  return { pid: proc.pid, metricsPort: metrics, logTail: (lines) => proc.logTail(lines), stop };
}
