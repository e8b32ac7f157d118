/**
 * A real Kubernetes control plane for tests: etcd + kube-apiserver built from Go modules
 * (`npm run tools:build`), on free loopback ports, with a throw-away data dir.
 *
 * Authentication: a static admin token in `system:masters` (`--token-auth-file`) and client
 * certificates from the test CA for ordinary users. Authorization: RBAC only. There is no
 * controller-manager: no garbage collection, namespaces never finish terminating, pods never run.
 */
import { KubeConfig } from "@kubernetes/client-node";
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { kubeRequest, type KubeEndpoint, type KubeRequestCfg, type KubeResponse } from "./kube-request.js";
import { writeKubeconfig } from "./kubeconfig.js";
import { createPki, issueClientCert, type Pki } from "./pki.js";
import { freePort, startProcess, waitFor, type GroupProcess } from "./processes.js";
import { toolPath } from "./tools.js";

/** Options for {@link startControlPlane}. */
export interface ControlPlaneCfg {
  /** Working directory (data, certs, logs). Default: a new temp dir, removed by `stop()`. */
  dir?: string;
  /** Where to write the admin kubeconfig. Default `<dir>/kubeconfig`. */
  kubeconfigPath?: string;
  /** Leave the processes running after this Node process exits (`npm run cluster:up`). Default false. */
  keepAlive?: boolean;
  /** Give up waiting for etcd and `/readyz` after this long. Default 90000 ms. */
  startTimeoutMs?: number;
  /** Extra kube-apiserver flags. */
  apiServerArgs?: readonly string[];
}

/** A running control plane. */
export interface ControlPlane {
  /** API server URL (`https://127.0.0.1:<port>`). */
  readonly server: string;
  /** Admin kubeconfig (user `admin`, group `system:masters`). */
  readonly kubeconfigPath: string;
  /** Working directory (etcd data, PKI, logs). */
  readonly dir: string;
  /** Admin endpoint for {@link kubeRequest}. */
  readonly admin: KubeEndpoint;
  /** Process ids (= process group ids) of etcd and kube-apiserver (the current ones, after a restart). */
  readonly pids: { readonly etcd: number; readonly apiserver: number };
  /** Milliseconds from start until `/readyz` answered ok. */
  readonly startupMs: number;
  /** A fresh `@kubernetes/client-node` KubeConfig for the admin user. */
  kubeConfig(): KubeConfig;
  /** Writes a kubeconfig for an ordinary user (client certificate; no RBAC grants) and returns its path. */
  userKubeconfig(user: string, groups?: readonly string[]): Promise<string>;
  /** An endpoint authenticating as `user` (client certificate), for {@link kubeRequest}. */
  userEndpoint(user: string, groups?: readonly string[]): Promise<KubeEndpoint>;
  /** Sends a request as admin. */
  request<T = unknown>(method: string, path: string, cfg?: KubeRequestCfg): Promise<KubeResponse<T>>;
  /**
   * Stops one component (`signal` SIGTERM for a clean stop, SIGKILL for a crash). Its port and data stay; start it
   * again with {@link ControlPlane.startComponent}.
   */
  stopComponent(which: Component, signal?: "SIGTERM" | "SIGKILL"): Promise<void>;
  /** Starts a stopped component again on the same port with the same data; resolves when it is healthy/ready. */
  startComponent(which: Component): Promise<void>;
  /** Stops both processes (process groups) and removes a temp working dir. Idempotent. */
  stop(): Promise<void>;
}

/** A restartable part of the control plane. */
export type Component = "etcd" | "apiserver";

interface EtcdPorts {
  readonly client: number;
  readonly peer: number;
}

async function startEtcd(dir: string, cfg: ControlPlaneCfg, ports: EtcdPorts): Promise<{ proc: GroupProcess; url: string }> {
  const { client, peer } = ports;
  const url = `http://127.0.0.1:${client}`;
  const peerUrl = `http://127.0.0.1:${peer}`;
  const proc = startProcess(toolPath("etcd"), [
    "--name=kclrun-test", `--data-dir=${join(dir, "etcd")}`,
    `--listen-client-urls=${url}`, `--advertise-client-urls=${url}`,
    `--listen-peer-urls=${peerUrl}`, `--initial-advertise-peer-urls=${peerUrl}`,
    `--initial-cluster=kclrun-test=${peerUrl}`, "--unsafe-no-fsync=true", "--log-level=warn",
  ], join(dir, "etcd.log"), { keepAlive: cfg.keepAlive, cleanupDir: cfg.dir ? undefined : dir });
  await waitFor(async () => {
    const res = await fetch(`${url}/health`);
    return res.ok && ((await res.json()) as { health?: string }).health === "true";
  }, { what: "etcd /health", proc, timeoutMs: cfg.startTimeoutMs ?? 90_000 });
  return { proc, url };
}

function apiServerArgs(pki: Pki, etcdUrl: string, port: number, tokenFile: string, dir: string): string[] {
  return [
    `--etcd-servers=${etcdUrl}`, `--secure-port=${port}`, "--bind-address=127.0.0.1", "--advertise-address=127.0.0.1",
    // Loopback may not be advertised through the kubernetes Service endpoints; nothing needs them here.
    "--endpoint-reconciler-type=none",
    `--cert-dir=${join(dir, "apiserver-certs")}`,
    `--tls-cert-file=${pki.serverCert}`, `--tls-private-key-file=${pki.serverKey}`,
    `--client-ca-file=${pki.caCert}`, `--token-auth-file=${tokenFile}`,
    "--authorization-mode=RBAC", "--service-cluster-ip-range=10.0.0.0/24", "--allow-privileged=true",
    "--disable-admission-plugins=ServiceAccount",
    "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
    `--service-account-key-file=${pki.saKey}`, `--service-account-signing-key-file=${pki.saKey}`,
  ];
}

/**
 * Starts etcd and kube-apiserver, waits for `/readyz`, writes the admin kubeconfig.
 * On any failure everything started so far is stopped before the error propagates.
 */
export async function startControlPlane(cfg: ControlPlaneCfg = {}): Promise<ControlPlane> {
  const t0 = Date.now();
  const ownDir = !cfg.dir;
  const dir = cfg.dir ?? mkdtempSync(join(tmpdir(), "kclrun-cp-"));
  mkdirSync(join(dir, "pki"), { recursive: true });
  const procs: Partial<Record<Component, GroupProcess>> = {};
  const cleanup = async () => {
    await Promise.all(Object.values(procs).map((p) => p.stop()));
    if (ownDir) rmSync(dir, { recursive: true, force: true });
  };
  try {
    const pki = await createPki(join(dir, "pki"));
    const adminToken = randomBytes(24).toString("hex");
    const tokenFile = join(dir, "pki", "tokens.csv");
    writeFileSync(tokenFile, `${adminToken},admin,admin-uid,"system:masters"\n`, { mode: 0o600 });
    const etcdPorts: EtcdPorts = { client: await freePort(), peer: await freePort() };
    const etcd = await startEtcd(dir, cfg, etcdPorts);
    procs.etcd = etcd.proc;
    const port = await freePort();
    const server = `https://127.0.0.1:${port}`;
    const args = [...apiServerArgs(pki, etcd.url, port, tokenFile, dir), ...(cfg.apiServerArgs ?? [])];
    const ca = readFileSync(pki.caCert, "utf8");
    const admin: KubeEndpoint = { server, ca, token: adminToken };
    const startApiServer = async () => {
      const apiserver = startProcess(toolPath("kube-apiserver"), args, join(dir, "kube-apiserver.log"), { keepAlive: cfg.keepAlive });
      procs.apiserver = apiserver;
      await waitFor(async () => (await kubeRequest(admin, "GET", "/readyz", { timeoutMs: 2000 })).ok, {
        what: "kube-apiserver /readyz", proc: apiserver, timeoutMs: cfg.startTimeoutMs ?? 90_000, intervalMs: 200,
      });
    };
    await startApiServer();
    const kubeconfigPath = cfg.kubeconfigPath ?? join(dir, "kubeconfig");
    mkdirSync(dirname(kubeconfigPath), { recursive: true });
    await writeKubeconfig(kubeconfigPath, { server, ca, user: "admin", credentials: { kind: "token", token: adminToken } });
    let stopped: Promise<void> | undefined;
    const userEndpoint = async (user: string, groups: readonly string[] = []): Promise<KubeEndpoint> => {
      const c = await issueClientCert(pki, user, groups);
      return { server, ca, cert: c.cert, key: c.key };
    };
    return {
      server, kubeconfigPath, dir, admin,
      get pids() {
        return { etcd: procs.etcd?.pid ?? 0, apiserver: procs.apiserver?.pid ?? 0 };
      },
      startupMs: Date.now() - t0,
      kubeConfig() {
        const kc = new KubeConfig();
        kc.loadFromFile(kubeconfigPath);
        return kc;
      },
      async userKubeconfig(user, groups = []) {
        const ep = await userEndpoint(user, groups);
        const path = join(dir, `kubeconfig-${user.replace(/[^A-Za-z0-9_.-]/g, "_")}-${randomBytes(3).toString("hex")}`);
        return writeKubeconfig(path, { server, ca, user, credentials: { kind: "cert", cert: ep.cert ?? "", key: ep.key ?? "" } });
      },
      userEndpoint,
      request: (method, path, reqCfg) => kubeRequest(admin, method, path, reqCfg),
      async stopComponent(which, signal = "SIGTERM") {
        const proc = procs[which];
        if (!proc) throw new Error(`kclrun harness: ${which} is not running`);
        delete procs[which];
        await proc.stop(signal === "SIGKILL" ? 0 : 5000);
      },
      async startComponent(which) {
        if (procs[which]) throw new Error(`kclrun harness: ${which} is already running`);
        if (which === "apiserver") await startApiServer();
        else procs.etcd = (await startEtcd(dir, cfg, etcdPorts)).proc;
      },
      stop: () => (stopped ??= cleanup()),
    };
  } catch (err) {
    await cleanup();
    throw err;
  }
}
