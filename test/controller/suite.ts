/**
 * Shared harness for controller tests: one real control plane per test file (etcd + kube-apiserver), the KCLRun and
 * Flux source CRDs, the controller running in-process against it, artifacts served on loopback, and helpers that
 * assert what a user sees (objects in the API server, conditions on status).
 */
import type { TestFn } from 'ava';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { repoRoot } from '../harness/tools.js';
import { startControlPlane } from '../harness/control-plane.js';
import { installFluxSourceCRDs } from '../harness/flux-crds.js';
import { patchSourceArtifact, serveArtifact, type Artifact, type ArtifactContent } from '../harness/artifact-server.js';
import type { ControlPlane } from '../harness/control-plane.js';
import { waitFor } from '../harness/processes.js';
import { kclRunCRD } from '../../controller/api/crd.js';
import { runController, type ControllerOptions, type RunningController } from '../../controller/run.js';
import { silentLogger, jsonLogger } from '../../controller/log.js';
import type { KCLRun, KCLRunSpec } from '../../controller/api/types.js';
import type { Condition } from '../../controller/api/conditions.js';

/** What a controller test file gets. */
export interface ControllerSuite {
  cp: ControlPlane;
  controller: RunningController;
}

/** Options passed to the in-process controller (fast retries for tests). */
export const TEST_CONTROLLER_OPTIONS: ControllerOptions = {
  healthAddr: '127.0.0.1:0',
  metricsAddr: '127.0.0.1:0',
  requeueDependencyMs: 1000,
  minRetryDelayMs: 200,
  maxRetryDelayMs: 2000,
  httpRetry: 1,
  fetchRetryDelayMs: 100,
  concurrent: 4,
};

/** Installs the KCLRun CRD and waits until it is established. */
export async function installKCLRunCRD(cp: ControlPlane): Promise<void> {
  const crd = kclRunCRD();
  const res = await cp.request('POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', { body: crd });
  if (!res.ok && res.status !== 409) throw new Error(`install KCLRun CRD: HTTP ${res.status}: ${res.text}`);
  await waitFor(async () => {
    const r = await cp.request<{ status?: { conditions?: Condition[] } }>('GET', `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/kclruns.krm.kcl.dev.fluxcd`);
    return r.ok && !!r.body.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True');
  }, { timeoutMs: 30_000, what: 'KCLRun CRD established' });
}

/** Registers hooks that start a control plane and a controller for this test file. */
export function useController<C>(test: TestFn<C>, opts: ControllerOptions = {}): () => ControllerSuite {
  let suite: ControllerSuite | undefined;
  let cp: ControlPlane | undefined;
  test.before('start control plane and controller', async (t) => {
    t.timeout(180_000);
    cp = await startControlPlane();
    t.log(`control plane ${cp.server} ready in ${cp.startupMs} ms`);
    await installFluxSourceCRDs(cp);
    await installKCLRunCRD(cp);
    const controller = await runController({
      ...TEST_CONTROLLER_OPTIONS,
      kubeconfig: cp.kubeconfigPath,
      logger: process.env.KCLRUN_TEST_LOGS ? jsonLogger('debug') : silentLogger,
      ...opts,
    });
    suite = { cp, controller };
  });
  test.after.always('stop controller and control plane', async () => {
    await suite?.controller.stop();
    await cp?.stop();
  });
  return () => {
    if (!suite) throw new Error('controller suite not started (see the failed before hook)');
    return suite;
  };
}

/** Creates a GitRepository `name` in `ns` and sets its artifact to `content` (as source-controller would). */
export async function gitSource(cp: ControlPlane, ns: string, name: string, content: ArtifactContent, revision?: string): Promise<Artifact> {
  const path = `/apis/source.toolkit.fluxcd.io/v1/namespaces/${ns}/gitrepositories`;
  const res = await cp.request('POST', path, {
    body: { apiVersion: 'source.toolkit.fluxcd.io/v1', kind: 'GitRepository', metadata: { name, namespace: ns }, spec: { interval: '10m', url: 'http://127.0.0.1/unused.git', ref: { branch: 'main' } } },
  });
  if (!res.ok && res.status !== 409) throw new Error(`create GitRepository: HTTP ${res.status}: ${res.text}`);
  return setArtifact(cp, ns, name, content, revision);
}

/** Serves `content` and points the GitRepository's status.artifact at it. */
export async function setArtifact(cp: ControlPlane, ns: string, name: string, content: ArtifactContent, revision?: string): Promise<Artifact> {
  const artifact = await serveArtifact(content, { kind: 'GitRepository', namespace: ns, name, revision });
  await patchSourceArtifact(cp, 'GitRepository', ns, name, artifact);
  return artifact;
}

/** Points a GitRepository's status.artifact at an arbitrary artifact (e.g. a wrong digest). */
export async function setRawArtifact(cp: ControlPlane, ns: string, name: string, artifact: Artifact): Promise<void> {
  await patchSourceArtifact(cp, 'GitRepository', ns, name, artifact);
}

/** Creates a KCLRun. */
export async function createKCLRun(cp: ControlPlane, ns: string, name: string, spec: Partial<KCLRunSpec> & Pick<KCLRunSpec, 'sourceRef'>): Promise<void> {
  const res = await cp.request('POST', `/apis/krm.kcl.dev.fluxcd/v1alpha1/namespaces/${ns}/kclruns`, {
    body: { apiVersion: 'krm.kcl.dev.fluxcd/v1alpha1', kind: 'KCLRun', metadata: { name, namespace: ns }, spec },
  });
  if (!res.ok) throw new Error(`create KCLRun: HTTP ${res.status}: ${res.text}`);
}

/** Merge-patches a KCLRun. */
export async function patchKCLRun(cp: ControlPlane, ns: string, name: string, patch: object): Promise<void> {
  const res = await cp.request('PATCH', `/apis/krm.kcl.dev.fluxcd/v1alpha1/namespaces/${ns}/kclruns/${name}`, {
    body: patch,
    contentType: 'application/merge-patch+json',
  });
  if (!res.ok) throw new Error(`patch KCLRun: HTTP ${res.status}: ${res.text}`);
}

/** Deletes KCLRuns and waits until they are gone (their finalizer released): before their namespace goes. */
export async function deleteKCLRuns(cp: ControlPlane, ns: string, names: string[]): Promise<void> {
  for (const name of names) await cp.request('DELETE', `/apis/krm.kcl.dev.fluxcd/v1alpha1/namespaces/${ns}/kclruns/${name}`);
  await waitFor(async () => {
    const gone = await Promise.all(names.map(async (n) => (await getKCLRun(cp, ns, n)) === undefined));
    return gone.every(Boolean);
  }, { timeoutMs: 30_000, what: `KCLRuns ${names.join(', ')} deleted` });
}

/** GETs a KCLRun (undefined when gone). */
export async function getKCLRun(cp: ControlPlane, ns: string, name: string): Promise<KCLRun | undefined> {
  const res = await cp.request<KCLRun>('GET', `/apis/krm.kcl.dev.fluxcd/v1alpha1/namespaces/${ns}/kclruns/${name}`);
  return res.ok ? res.body : undefined;
}

/** The KCLRun's condition of `type`. */
export function condition(k: KCLRun | undefined, type: string): Condition | undefined {
  return k?.status?.conditions?.find((c) => c.type === type);
}

/** Waits until the KCLRun satisfies `check`; returns it. Fails with its last status. */
export async function waitKCLRun(cp: ControlPlane, ns: string, name: string, check: (k: KCLRun) => boolean, timeoutMs = 30_000): Promise<KCLRun> {
  let last: KCLRun | undefined;
  try {
    await waitFor(async () => {
      last = await getKCLRun(cp, ns, name);
      return !!last && check(last);
    }, { timeoutMs, intervalMs: 100, what: `KCLRun ${ns}/${name}` });
  } catch {
    throw new Error(`KCLRun ${ns}/${name} did not reach the expected state; status: ${JSON.stringify(last?.status)}`);
  }
  return last!;
}

/** Ready=True for the given revision. */
export const readyAt = (revision: string) => (k: KCLRun) =>
  condition(k, 'Ready')?.status === 'True' && k.status?.lastAppliedRevision === revision;

/** Ready=False with `reason`. */
export const failedWith = (reason: string) => (k: KCLRun) => condition(k, 'Ready')?.status === 'False' && condition(k, 'Ready')?.reason === reason;

/** GETs any object by API path (undefined on 404). */
export async function getObject<T = Record<string, any>>(cp: ControlPlane, path: string): Promise<T | undefined> {
  const res = await cp.request<T>('GET', path);
  return res.ok ? res.body : undefined;
}

/** A small KCL package rendering ConfigMaps from a map of name → data. */
export function configMapsPackage(maps: Record<string, Record<string, string>>, extra: Record<string, string> = {}): Record<string, string> {
  const items = Object.entries(maps)
    .map(([name, data]) => `    {apiVersion = "v1", kind = "ConfigMap", metadata.name = "${name}", data = ${JSON.stringify(data).replace(/":/g, '": ')}}`)
    .join('\n');
  return {
    'kcl.mod': '[package]\nname = "test"\nversion = "0.0.1"\n',
    'main.k': `items = [\n${items}\n]\n`,
    ...extra,
  };
}

/** A GitRepository sourceRef. */
export const gitRef = (name: string, namespace?: string) => ({ kind: 'GitRepository' as const, name, ...(namespace ? { namespace } : {}) });

/** Sets `reconcile.fluxcd.io/requestedAt` to now (what `flux reconcile` does) and returns the value. */
export async function requestReconcile(cp: ControlPlane, ns: string, name: string): Promise<string> {
  const at = new Date().toISOString();
  await patchKCLRun(cp, ns, name, { metadata: { annotations: { 'reconcile.fluxcd.io/requestedAt': at } } });
  return at;
}

/** A Kubernetes Event as tests read it. */
export interface TestEvent {
  type: string;
  reason: string;
  message: string;
  involvedObject: { kind: string; name: string };
}

/** The Events of `ns` (optionally only those about the KCLRun `name`). */
export async function listEvents(cp: ControlPlane, ns: string, name?: string): Promise<TestEvent[]> {
  const res = await getObject<{ items: TestEvent[] }>(cp, `/api/v1/namespaces/${ns}/events`);
  return (res?.items ?? []).filter((e) => !name || (e.involvedObject.kind === 'KCLRun' && e.involvedObject.name === name));
}

/** Creates (POSTs) an object at a collection path; throws on failure. */
export async function createObject(cp: ControlPlane, path: string, body: object): Promise<void> {
  const res = await cp.request('POST', path, { body });
  if (!res.ok) throw new Error(`create at ${path}: HTTP ${res.status}: ${res.text}`);
}

/** A KCL package whose main.k is `main` (items = [...] etc.). */
export function kclPackage(main: string, extra: Record<string, string> = {}): Record<string, string> {
  return { 'kcl.mod': '[package]\nname = "test"\nversion = "0.0.1"\n', 'main.k': main, ...extra };
}

/**
 * How many reconciles of KCLRun `ns/name` the controller has finished (its `gotk_reconcile_duration_seconds_count`,
 * counted for suspended and failing reconciles too): the positive control of a test that asserts nothing happened.
 */
export async function reconcileCount(controller: RunningController, ns: string, name: string): Promise<number> {
  const line = new RegExp(`^gotk_reconcile_duration_seconds_count\\{kind="KCLRun",name="${name}",namespace="${ns}"\\} (\\d+)$`, 'm');
  return Number(line.exec(await controller.metrics.render())?.[1] ?? 0);
}

/** Waits until the controller has finished a reconcile of `ns/name` beyond the `after`-th. */
export async function waitReconciled(controller: RunningController, ns: string, name: string, after: number, timeoutMs = 15_000): Promise<void> {
  await waitFor(async () => (await reconcileCount(controller, ns, name)) > after, { what: `a reconcile of ${ns}/${name} after #${after}`, timeoutMs, intervalMs: 50 });
}

/** Sleeps. */
export const delay = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

// ---- the controller as a separate process (`bin/kclrun controller`) -------------------------------------------

/** A `kclrun controller` child process with stdout and stderr captured separately. */
export interface ControllerProcess {
  readonly pid: number;
  /** Everything written to stderr so far (the JSON log). */
  stderr(): string;
  /** Everything written to stdout so far. */
  stdout(): string;
  /** Resolves with the exit code (or the signal name) when the process ends. */
  readonly exited: Promise<number | string>;
  /** True once the process has exited. */
  readonly done: boolean;
  /** Sends `signal` (default SIGTERM); SIGKILLs after `graceMs`; resolves with the exit code. */
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<number | string>;
}

const liveControllers = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of liveControllers) c.kill('SIGKILL');
});

/** Starts `bin/kclrun controller ARGS` (env added to the current one). */
export function startControllerProcess(args: readonly string[], env: NodeJS.ProcessEnv = {}): ControllerProcess {
  const bin = join(repoRoot(), 'bin', 'kclrun');
  // Through its shebang, as a user runs it (with its node flags).
  const child = spawn(bin, ['controller', ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  liveControllers.add(child);
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
  let done = false;
  const exited = new Promise<number | string>((resolve) =>
    child.once('exit', (code, signal) => {
      done = true;
      liveControllers.delete(child);
      resolve(code ?? signal ?? -1);
    }),
  );
  return {
    pid: child.pid!,
    stderr: () => err,
    stdout: () => out,
    exited,
    get done() {
      return done;
    },
    async stop(signal: NodeJS.Signals = 'SIGTERM', graceMs = 10_000) {
      if (done) return exited;
      child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}

/** Parses every stderr line of a controller as JSON (throws on the first line that is not). */
export function jsonLines(text: string): Array<Record<string, unknown>> {
  return text
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => {
      try {
        return JSON.parse(l) as Record<string, unknown>;
      } catch {
        throw new Error(`log line is not JSON: ${l}`);
      }
    });
}

/** Writes a kubeconfig that authenticates like `cp`'s admin but acts as `user` (kubeconfig `as:`). */
export async function impersonatingKubeconfig(cp: ControlPlane, user: string): Promise<string> {
  const doc = parseYaml(await readFile(cp.kubeconfigPath, 'utf8')) as { users: Array<{ user: Record<string, unknown> }> };
  for (const u of doc.users) u.user['as'] = user;
  const path = join(cp.dir, `kubeconfig-as-${user.replace(/[^A-Za-z0-9_.-]/g, '_')}`);
  await writeFile(path, stringifyYaml(doc), { mode: 0o600 });
  return path;
}

/** GETs `http://127.0.0.1:<port><path>`; never throws (status 0 when unreachable). */
export async function httpGet(port: number, path: string): Promise<{ status: number; body: string }> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}${path}`);
    return { status: res.status, body: await res.text() };
  } catch {
    return { status: 0, body: '' };
  }
}

/** Grants `sa` in `ns` what applying ConfigMaps needs. */
export async function grantConfigMaps(cp: ControlPlane, ns: string, sa: string): Promise<void> {
  await createObject(cp, `/apis/rbac.authorization.k8s.io/v1/namespaces/${ns}/roles`, {
    apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name: `${sa}-apply` },
    rules: [{ apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'] }],
  });
  await createObject(cp, `/apis/rbac.authorization.k8s.io/v1/namespaces/${ns}/rolebindings`, {
    apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name: `${sa}-apply` },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: `${sa}-apply` },
    subjects: [{ kind: 'ServiceAccount', name: sa, namespace: ns }],
  });
}
