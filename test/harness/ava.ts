/**
 * ava glue: one control plane per test file, one namespace per test.
 *
 * ```ts
 * const cp = useControlPlane(test, { fluxSourceCrds: true });
 * test("…", async (t) => { const ns = await newNamespace(cp(), "apply"); … });
 * ```
 * If the control plane cannot start, `test.before` fails and so does every test in the file
 * (nothing is skipped).
 */
import type { TestFn } from "ava";
import { randomBytes } from "node:crypto";
import { startControlPlane, type ControlPlane, type ControlPlaneCfg } from "./control-plane.js";
import { installFluxSourceCRDs } from "./flux-crds.js";

/** Options for {@link useControlPlane}. */
export interface UseControlPlaneCfg extends ControlPlaneCfg {
  /** Also install the Flux source CRDs. Default false. */
  fluxSourceCrds?: boolean;
}

/** Access to the file's control plane: call it inside tests; await `ready()` inside other hooks. */
export interface ControlPlaneHandle {
  /** The running control plane (throws if it failed to start or has not started yet). */
  (): ControlPlane;
  /** Resolves once the control plane (and CRDs, if asked for) is up; rejects with the start error. */
  ready(): Promise<ControlPlane>;
}

/**
 * Registers `test.before` (start) and `test.after.always` (stop) hooks and returns a handle
 * for the running control plane. Call at module top level. ava runs `before` hooks
 * concurrently, so other hooks that need the control plane must `await handle.ready()`.
 */
export function useControlPlane<C>(test: TestFn<C>, cfg: UseControlPlaneCfg = {}): ControlPlaneHandle {
  let cp: ControlPlane | undefined;
  let started: ControlPlane | undefined;
  let settle!: { resolve(cp: ControlPlane): void; reject(err: unknown): void };
  const ready = new Promise<ControlPlane>((resolve, reject) => (settle = { resolve, reject }));
  ready.catch(() => undefined); // reported by the before hook; avoid an unhandled rejection
  test.before("start control plane", async (t) => {
    t.timeout(180_000, "starting etcd + kube-apiserver");
    try {
      started = await startControlPlane(cfg);
      t.log(`control plane ${started.server} ready in ${started.startupMs} ms (dir ${started.dir})`);
      if (cfg.fluxSourceCrds) await installFluxSourceCRDs(started);
      cp = started;
      settle.resolve(started);
    } catch (err) {
      settle.reject(err);
      throw err;
    }
  });
  test.after.always("stop control plane", async () => {
    await started?.stop();
  });
  const handle = () => {
    if (!cp) throw new Error("kclrun harness: the control plane is not running (see the failed before hook)");
    return cp;
  };
  return Object.assign(handle, { ready: () => ready });
}

/** Creates a namespace `<prefix>-<random>` and returns its name (never deleted: no namespace controller runs). */
export async function newNamespace(cp: ControlPlane, prefix: string): Promise<string> {
  const name = `${prefix}-${randomBytes(3).toString("hex")}`.toLowerCase().slice(0, 63);
  const res = await cp.request("POST", "/api/v1/namespaces", { body: { apiVersion: "v1", kind: "Namespace", metadata: { name } } });
  if (!res.ok) throw new Error(`kclrun harness: create namespace ${name}: HTTP ${res.status}: ${res.text}`);
  return name;
}
