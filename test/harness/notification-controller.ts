/**
 * Runs the real Flux notification-controller (built by `npm run tools:build`) against a test
 * control plane: admin kubeconfig, event receiver / webhook receiver / metrics / health on free
 * 127.0.0.1 ports, all namespaces watched, leader election off. The notification CRDs must be
 * installed first (`installFluxNotificationCRDs`).
 */
import type { ControlPlane } from "./control-plane.js";
import { startFluxProcess } from "./flux-process.js";
import { freePort, waitFor } from "./processes.js";

/** Options for {@link startNotificationController}. */
export interface NotificationControllerCfg {
  /** Extra flags, e.g. `["--log-level=debug"]`. */
  args?: readonly string[];
  /** Give up waiting for `/readyz` after this long. Default 60000 ms. */
  startTimeoutMs?: number;
}

/** A running notification-controller. */
export interface NotificationController {
  /** The event receiver URL a controller's `--events-addr` points at (`http://127.0.0.1:<port>/`). */
  readonly eventsUrl: string;
  /** Path of the controller's log. */
  readonly logPath: string;
  /** Process id (= process group id). */
  readonly pid: number;
  /** Last lines of the controller log. */
  logTail(lines?: number): string;
  /** Stops the controller and removes its work dir. Idempotent. */
  stop(): Promise<void>;
}

/** Starts notification-controller and waits until its health endpoint reports ready. */
export async function startNotificationController(cp: ControlPlane, cfg: NotificationControllerCfg = {}): Promise<NotificationController> {
  const [events, receiver, metrics, health] = [await freePort(), await freePort(), await freePort(), await freePort()];
  const { proc, stop } = await startFluxProcess(cp, "notification-controller", health, () => [
    `--events-addr=127.0.0.1:${events}`, `--receiverAddr=127.0.0.1:${receiver}`, `--metrics-addr=127.0.0.1:${metrics}`,
    ...(cfg.args ?? []),
  ], { startTimeoutMs: cfg.startTimeoutMs });
  try {
    // /readyz answers before the event server listens; wait for the receiver too (it answers 4xx to a GET).
    await waitFor(async () => (await fetch(`http://127.0.0.1:${events}/`).then((r) => r.status, () => 0)) > 0, {
      what: "notification-controller event receiver", proc, timeoutMs: 30_000, intervalMs: 200,
    });
  } catch (err) {
    await stop();
    throw err;
  }
  return { eventsUrl: `http://127.0.0.1:${events}/`, logPath: proc.logPath, pid: proc.pid, logTail: (lines) => proc.logTail(lines), stop };
}
