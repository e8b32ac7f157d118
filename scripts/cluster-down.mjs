#!/usr/bin/env node
// npm run cluster:down — stop the control plane started by `npm run cluster:up` (its etcd and
// kube-apiserver process groups) and remove its data, state and kubeconfig.
import { existsSync, readFileSync, rmSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const clusterDir = join(root, ".cluster");
const statePath = join(clusterDir, "state.json");

if (!existsSync(statePath)) {
  console.log("cluster:down: no cluster is running (no .cluster/state.json).");
  process.exit(0);
}
const state = JSON.parse(readFileSync(statePath, "utf8"));
const signal = (pgid, sig) => {
  try {
    process.kill(-pgid, sig);
    return true;
  } catch {
    return false;
  }
};
const groups = [state.pids.apiserver, state.pids.etcd];
for (const pgid of groups) signal(pgid, "SIGTERM");
const deadline = Date.now() + 10_000;
while (groups.some((g) => signal(g, 0)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
for (const pgid of groups) signal(pgid, "SIGKILL");
rmSync(state.dir, { recursive: true, force: true });
rmSync(join(clusterDir, "kubeconfig"), { force: true });
rmSync(statePath, { force: true });
console.log(`cluster:down: stopped kube-apiserver (pid ${state.pids.apiserver}) and etcd (pid ${state.pids.etcd}).`);
