#!/usr/bin/env node
// npm run cluster:up — build the Go tools if needed, start etcd + kube-apiserver on loopback,
// install the Flux source CRDs, write .cluster/kubeconfig and leave the control plane running.
// Stop it with `npm run cluster:down`.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const clusterDir = join(root, ".cluster");
const statePath = join(clusterDir, "state.json");
const kubeconfig = join(clusterDir, "kubeconfig");
const rel = (p) => relative(process.cwd(), p) || ".";

const alive = (pid) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

function usage(state) {
  console.log(`
kube-apiserver ${state.version} is running at ${state.server} (etcd pid ${state.pids.etcd}, kube-apiserver pid ${state.pids.apiserver})

  kubectl --kubeconfig ${rel(kubeconfig)} get --raw /version
  export KUBECONFIG=${kubeconfig}
  kubectl get crd                        # Flux source CRDs (source.toolkit.fluxcd.io/v1)
  ${rel(join(clusterDir, "bin"))}/           # kube-apiserver, etcd, source-controller, kustomize
  logs: ${rel(join(state.dir, "kube-apiserver.log"))}, ${rel(join(state.dir, "etcd.log"))}

No controller-manager runs: no garbage collection, namespaces stay Terminating, pods never start.
Stop it with: npm run cluster:down`);
}

if (existsSync(statePath)) {
  const state = JSON.parse(readFileSync(statePath, "utf8"));
  if (alive(state.pids.apiserver) && alive(state.pids.etcd)) {
    console.log("cluster:up: already running.");
    usage(state);
    process.exit(0);
  }
  console.log("cluster:up: removing a stale cluster (run `npm run cluster:down` to stop one cleanly).");
  spawnSync(process.execPath, [join(root, "scripts/cluster-down.mjs")], { stdio: "inherit" });
}

const build = spawnSync("bash", [join(root, "scripts/build-tools.sh")], { stdio: "inherit" });
if (build.status !== 0) process.exit(build.status ?? 1);

// Compile the harness when dist/ is missing or older than its sources. Type errors elsewhere in
// the repo must not block this, so the exit status of tsc is not trusted; the output file is.
const harnessSrc = join(root, "test/harness");
const harnessOut = join(root, "dist/test/harness");
const newestSrc = Math.max(...readdirSync(harnessSrc).map((f) => statSync(join(harnessSrc, f)).mtimeMs));
const outFile = join(harnessOut, "control-plane.js");
if (!existsSync(outFile) || statSync(outFile).mtimeMs < newestSrc) {
  console.log("cluster:up: compiling the TypeScript harness (tsc)...");
  spawnSync(join(root, "node_modules/.bin/tsc"), ["-p", join(root, "tsconfig.json")], { stdio: "inherit" });
  if (!existsSync(outFile)) {
    console.error(`cluster:up: ${rel(outFile)} was not produced by tsc`);
    process.exit(1);
  }
}

const { startControlPlane } = await import(pathToFileURL(join(harnessOut, "control-plane.js")).href);
const { installFluxSourceCRDs } = await import(pathToFileURL(join(harnessOut, "flux-crds.js")).href);
const { toolVersions } = await import(pathToFileURL(join(harnessOut, "tools.js")).href);

const dir = join(clusterDir, "run");
rmSync(dir, { recursive: true, force: true });
mkdirSync(dir, { recursive: true });
const t0 = Date.now();
const cp = await startControlPlane({ dir, kubeconfigPath: kubeconfig, keepAlive: true });
const crds = await installFluxSourceCRDs(cp);
const state = {
  server: cp.server, pids: cp.pids, dir, kubeconfig, version: toolVersions()["kube-apiserver"],
  startedAt: new Date().toISOString(), startupMs: cp.startupMs,
};
writeFileSync(statePath, JSON.stringify(state, null, 2) + "\n");
console.log(`cluster:up: ready in ${cp.startupMs} ms; ${crds.length} Flux source CRDs installed in ${Date.now() - t0 - cp.startupMs} ms`);
usage(state);
process.exit(0);
