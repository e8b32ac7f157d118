/**
 * Starts the controller: client, health and metrics endpoints, optional leader election, watches and workers.
 * `kclrun controller` calls this; tests call it in-process.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeClient } from './kube/client.js';
import { loadKubeConfig } from './kube/kubeconfig.js';
import { CONTROLLER_NAME } from './api/group.js';
import { LeaderElector } from './leader.js';
import { jsonLogger, type Logger, type LogLevel } from './log.js';
import { Manager } from './manager.js';
import { MetricsRegistry } from './metrics.js';
import { EventNotifier } from './notify.js';
import { Reconciler } from './reconciler.js';
import { ReconcileCancelled } from './cancel.js';
import { serve } from './server.js';
import { EnginePool } from '../fn/worker/pool.js';
import { PoolClosedError } from '../fn/worker/errors.js';
import { workerSandboxPolicy } from '../fn/worker/sandbox-policy.js';
import { engineLibraryPath } from '../fn/engine/library.js';
import { DEFAULT_MEMORY_LIMIT_BYTES, DEFAULT_OUTPUT_LIMITS, DEFAULT_RENDER_TIMEOUT_MS } from '../fn/limits.js';

/** Controller settings; the flags of `kclrun controller`. */
export interface ControllerOptions {
  /** Kubeconfig file; default the first file of KUBECONFIG, then in-cluster, then ~/.kube/config. */
  kubeconfig?: string;
  metricsAddr?: string;
  healthAddr?: string;
  /** notification-controller's event receiver URL; events also go there (Flux's --events-addr). */
  eventsAddr?: string;
  concurrent?: number;
  /** Server-side applies in flight at once within a stage (`--concurrent-ssa`, default 4). */
  concurrentSsa?: number;
  requeueDependencyMs?: number;
  /** Field managers whose fields are taken over on apply (`--override-manager`). */
  overrideManagers?: readonly string[];
  /** Jitter on the interval, as a fraction (`--interval-jitter-percentage` / 100; default 0.05). */
  intervalJitter?: number;
  /** Client-side rate limit of API requests (`--kube-api-qps`, default 50; <= 0: none). */
  kubeApiQps?: number;
  /** Burst of that limit (`--kube-api-burst`, default 300). */
  kubeApiBurst?: number;
  httpRetry?: number;
  enableLeaderElection?: boolean;
  leaderElectionNamespace?: string;
  leaderElectionId?: string;
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  watchAllNamespaces?: boolean;
  /**
   * Reconcile only KCLRuns matching this label selector (`--watch-label-selector`, Flux sharding); the default
   * Lease name then gets a suffix derived from it, so each shard elects its own leader.
   */
  watchLabelSelector?: string;
  /** The namespace the controller runs in (RUNTIME_NAMESPACE); watched alone when watchAllNamespaces is false. */
  runtimeNamespace?: string;
  noCrossNamespaceRefs?: boolean;
  defaultServiceAccount?: string;
  minRetryDelayMs?: number;
  maxRetryDelayMs?: number;
  logLevel?: LogLevel;
  logger?: Logger;
  /** Delay before the first artifact download retry (tests shorten it). */
  fetchRetryDelayMs?: number;
  /** Timeout of one artifact download attempt (`--http-timeout`, default 30s). */
  httpTimeoutMs?: number;
  /** Allow `exec`/`auth-provider` in remote kubeconfigs (`--insecure-kubeconfig-exec`). */
  insecureKubeconfigExec?: boolean;
  /** Allow `insecure-skip-tls-verify` and plain http in remote kubeconfigs (`--insecure-kubeconfig-tls`). */
  insecureKubeconfigTls?: boolean;
  /** Engine workers rendering in parallel (`--render-workers`, default: the CPUs available). */
  renderWorkers?: number;
  /** Deadline of one render (`--render-timeout`, default 60s); a KCLRun's spec.timeout lowers it. */
  renderTimeoutMs?: number;
  /** Memory cap of one engine worker (`--render-memory-limit`, default 512Mi). */
  renderMemoryLimitBytes?: number;
  /** Output caps of one render (`--render-max-objects`, default 10000; `--render-max-bytes`, default 64Mi). */
  renderMaxObjects?: number;
  renderMaxBytes?: number;
  /**
   * The KCL package cache (`--kcl-pkg-cache`), created if missing and kept; each namespace's dependencies go to its
   * own subdirectory. Default: a fresh temporary directory, removed by `stop()`.
   */
  kclPkgCache?: string;
  /** `--no-remote-dependencies`: renders fetch nothing (kclrun's offline mode in the workers). */
  noRemoteDependencies?: boolean;
}

/**
 * The controller's engine workers (the native host, kclrun-engine-host, when built): an environment holding only
 * `KCL_PKG_PATH` (the package cache, whose top level holds only namespace directories: nothing a program can import
 * by name; and `KCLRUN_OFFLINE=1` with `--no-remote-dependencies`), so a tenant's `file.read_env` sees nothing of the
 * controller's — the renders' package resolution reads the same environment; no stderr (the controller's stderr is
 * JSON logs only); every limit on; and a file-system sandbox (Landlock) that lets the engine read only the artifacts
 * under `artifactsRoot`, the package cache (read-write: `git` runs under the same sandbox) and what the runtime
 * needs — never the controller's service-account token, `/proc`, or anything else the controller's user can read.
 * Dependency downloads (OCI, http) run in the controller's process, under the render's deadline.
 */
export function controllerEngine(opts: ControllerOptions, artifactsRoot: string, packageCache?: string): EnginePool {
  const libraryPath = engineLibraryPath();
  return new EnginePool({
    libraryPath,
    sandbox: workerSandboxPolicy(libraryPath, { readOnly: [artifactsRoot], readWrite: packageCache === undefined ? [] : [packageCache] }),
    workers: opts.renderWorkers,
    timeoutMs: opts.renderTimeoutMs ?? DEFAULT_RENDER_TIMEOUT_MS,
    memoryLimitBytes: opts.renderMemoryLimitBytes ?? DEFAULT_MEMORY_LIMIT_BYTES,
    outputLimits: {
      maxObjects: opts.renderMaxObjects ?? DEFAULT_OUTPUT_LIMITS.maxObjects,
      maxBytes: opts.renderMaxBytes ?? DEFAULT_OUTPUT_LIMITS.maxBytes,
    },
    env: {
      ...(packageCache !== undefined && { KCL_PKG_PATH: packageCache }),
      ...(opts.noRemoteDependencies && { KCLRUN_OFFLINE: '1' }),
    },
    stderr: 'ignore',
  });
}

/** A running controller. */
export interface RunningController {
  manager?: Manager;
  /** The engine workers (closed by `stop()`). */
  engine: EnginePool;
  metrics: MetricsRegistry;
  healthPort: number;
  metricsPort: number;
  /** Resolves when this process leads (immediately without leader election). */
  leading: Promise<void>;
  /**
   * Resolves with an error when the controller cannot go on: the manager failed to start after this process won the
   * election, or the lease was lost. The caller should `stop()` and exit non-zero (Flux exits on a lost lease).
   * Never resolves otherwise.
   */
  fatal: Promise<Error>;
  /**
   * Stops the manager (abandoning renders in flight), stops the engine workers, releases the lease, closes the
   * endpoints and the client's connections. Idempotent.
   */
  stop(): Promise<void>;
}

/** The Lease name: `base`, plus the first 8 hex of sha256(selector) when sharded (fluxcd/pkg `GenerateID`). */
export function leaderElectionId(base: string, labelSelector?: string): string {
  return labelSelector ? `${base}-${createHash('sha256').update(labelSelector).digest('hex').slice(0, 8)}` : base;
}

/** Loads the controller's kubeconfig the way Flux (controller-runtime) does: see kube/kubeconfig.ts. */
export { loadKubeConfig };

/** Starts the controller and returns a handle. */
export async function runController(opts: ControllerOptions = {}): Promise<RunningController> {
  const log = opts.logger ?? jsonLogger(opts.logLevel ?? 'info', { logger: CONTROLLER_NAME });
  const kubeConfig = loadKubeConfig(opts.kubeconfig);
  let elector: LeaderElector | undefined;
  // With leader election, every request first checks the lease's renew deadline (see leader.ts).
  const client = new KubeClient({
    kubeConfig,
    userAgent: CONTROLLER_NAME,
    beforeSend: () => void elector?.checkRenewDeadline(),
    rateLimit: { qps: opts.kubeApiQps ?? 50, burst: opts.kubeApiBurst ?? 300 },
  });
  const metrics = new MetricsRegistry();
  let manager: Manager | undefined;
  let ready = false;
  const health = await serve(opts.healthAddr ?? ':9440', {
    '/healthz': () => [200, 'ok\n'],
    '/readyz': () => (ready ? [200, 'ok\n'] : [503, 'not ready\n']),
  });
  const metricsServer = await serve(opts.metricsAddr ?? ':8080', { '/metrics': async () => [200, await metrics.render()] }).catch((err: unknown) => {
    health.server.close();
    throw err;
  });
  // Artifacts are unpacked here, and only here (and in the package cache) can the engine workers read.
  const artifactsRoot = mkdtempSync(join(tmpdir(), 'kclrun-artifacts-'));
  const packageCache = opts.kclPkgCache ?? mkdtempSync(join(tmpdir(), 'kclrun-pkg-cache-'));
  mkdirSync(packageCache, { recursive: true, mode: 0o700 });
  const engine = controllerEngine(opts, artifactsRoot, packageCache);
  // A first worker starts now (it idles out like any other) to say whether the workers are sandboxed.
  engine.probe().then(
    (status) => {
      if (status?.applied) log.info('engine workers sandboxed', { landlockAbi: status.abi, readable: [artifactsRoot, packageCache], native: engine.native });
      else if (status) log.error('engine workers run without a file-system sandbox', { reason: status.reason });
    },
    (err: unknown) => {
      if (!(err instanceof PoolClosedError)) log.error('engine workers cannot start', { error: (err as Error).message });
    },
  );
  const notifier = opts.eventsAddr ? new EventNotifier({ address: opts.eventsAddr, log }) : undefined;
  const reconciler = new Reconciler(client, log, metrics, {
    engine,
    notifier,
    overrideManagers: opts.overrideManagers,
    concurrentSsa: opts.concurrentSsa,
    jitter: opts.intervalJitter,
    noCrossNamespaceRefs: opts.noCrossNamespaceRefs,
    defaultServiceAccount: opts.defaultServiceAccount,
    requeueDependencyMs: opts.requeueDependencyMs,
    fetch: { retries: opts.httpRetry, retryDelayMs: opts.fetchRetryDelayMs, timeoutMs: opts.httpTimeoutMs, hostOverride: process.env.SOURCE_CONTROLLER_LOCALHOST, tempRoot: artifactsRoot },
    insecureKubeconfigExec: opts.insecureKubeconfigExec,
    insecureKubeconfigTls: opts.insecureKubeconfigTls,
    packageCache,
  });
  const namespace = opts.watchAllNamespaces === false ? opts.runtimeNamespace ?? 'default' : undefined;
  const startManager = async () => {
    manager = new Manager(client, reconciler, log, {
      namespace,
      labelSelector: opts.watchLabelSelector,
      concurrency: opts.concurrent,
      minRetryDelayMs: opts.minRetryDelayMs,
      maxRetryDelayMs: opts.maxRetryDelayMs,
    });
    await manager.start();
    if (stopping) return void (await manager.stop());
    ready = true;
    log.info('controller started', { namespace: namespace ?? '(all)', concurrent: opts.concurrent ?? 4, labelSelector: opts.watchLabelSelector });
  };
  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      ready = false;
      await manager?.stop();
      await engine.close();
      rmSync(artifactsRoot, { recursive: true, force: true });
      await notifier?.close();
      await elector?.release();
      health.server.close();
      metricsServer.server.close();
      health.server.closeAllConnections?.();
      metricsServer.server.closeAllConnections?.();
      client.close();
      if (opts.kclPkgCache === undefined) rmSync(packageCache, { recursive: true, force: true });
      log.info('controller stopped');
    })());
  let fail!: (err: Error) => void;
  const fatal = new Promise<Error>((resolve) => (fail = resolve));
  let leading: Promise<void>;
  const leaseName = opts.leaderElectionId ?? leaderElectionId(`${CONTROLLER_NAME}-leader-election`, opts.watchLabelSelector);
  if (opts.enableLeaderElection) {
    elector = new LeaderElector(client, log, {
      namespace: opts.leaderElectionNamespace ?? opts.runtimeNamespace ?? 'default',
      name: leaseName,
      identity: `${hostname()}_${process.pid}_${Math.random().toString(36).slice(2, 8)}`,
      leaseDurationMs: opts.leaseDurationMs,
      renewDeadlineMs: opts.renewDeadlineMs,
      retryPeriodMs: opts.retryPeriodMs,
    });
    const e = elector;
    // Flux's behaviour: a replica that lost its lease stops all work at once (every running reconcile is aborted
    // before this returns, and writes nothing more) and exits, to campaign again after a restart.
    const onLost = () => {
      void manager?.stop(new ReconcileCancelled('LeaseLost'));
      fail(new Error(`leader election lost (lease ${opts.leaderElectionNamespace ?? opts.runtimeNamespace ?? 'default'}/${leaseName})`));
    };
    leading = e.acquire(onLost).then(() => (stopping ? undefined : startManager()));
    leading.catch((err: unknown) => fail(err instanceof Error ? err : new Error(String(err))));
    ready = true;
  } else {
    leading = startManager();
    try {
      await leading;
    } catch (err) {
      await stop();
      throw err;
    }
  }
  return {
    get manager() {
      return manager;
    },
    metrics,
    engine,
    healthPort: health.port,
    metricsPort: metricsServer.port,
    leading,
    fatal,
    stop,
  };
}
