/** `kclrun controller`: runs the Flux controller for KCLRun until SIGINT/SIGTERM. */
import { parseArgs } from 'node:util';
import { loadKubeConfig, runController } from '../../controller/run.js';
import { parseAddr } from '../../controller/server.js';
import { parseDuration } from '../../controller/api/types.js';
import { CONTROLLER_NAME } from '../../controller/api/group.js';
import { jsonLogger, LOG_LEVELS, type LogLevel } from '../../controller/log.js';
import { parseBytes } from '../../fn/limits.js';
import { UsageError, write } from '../io.js';

/** Help text for `kclrun controller`. */
export const CONTROLLER_HELP = `Usage: kclrun controller [flags]

Runs the KCLRun controller (krm.kcl.dev.fluxcd/v1alpha1): follows Flux sources, renders
their KCL, applies it with server-side apply, prunes, checks health, reports status.
Uses --kubeconfig, else KUBECONFIG, else the in-cluster config. Logs are JSON lines.

Flags (Flux's names and defaults):
      --kubeconfig FILE                 kubeconfig to use
      --metrics-addr ADDR               Prometheus metrics address (default :8080)
      --health-addr ADDR                /healthz and /readyz address (default :9440)
      --concurrent N                    parallel reconciles (default 4)
      --requeue-dependency DURATION     retry delay for sources/dependencies not ready (default 30s)
      --http-retry N                    artifact download retries (default 9)
      --http-timeout DURATION           timeout of one artifact download attempt (default 30s)
      --enable-leader-election          elect a leader with a coordination.k8s.io Lease
      --leader-election-namespace NS    namespace of the Lease (default RUNTIME_NAMESPACE)
      --leader-election-lease-duration, --leader-election-renew-deadline, --leader-election-retry-period
      --watch-all-namespaces[=false]    watch every namespace (default true; false: RUNTIME_NAMESPACE)
      --no-cross-namespace-refs         deny references to sources/dependencies in other namespaces
      --default-service-account NAME    impersonate this ServiceAccount when a KCLRun names none
      --insecure-kubeconfig-exec        allow exec and auth-provider plugins in remote kubeconfigs
                                        (they run commands inside the controller)
      --insecure-kubeconfig-tls         allow insecure-skip-tls-verify and http:// servers in remote kubeconfigs
      --min-retry-delay, --max-retry-delay DURATION   error backoff (default 750ms, 15m)
      --render-workers N                engine worker processes rendering in parallel (default: CPUs available)
      --render-timeout DURATION         stop a render after this long (default 60s; a KCLRun's spec.timeout lowers it)
      --render-memory-limit SIZE        stop a render whose worker uses more memory (default 512Mi)
      --render-max-objects N            fail a render with more resources (default 10000)
      --render-max-bytes SIZE           fail a render with more YAML output (default 64Mi)
      --log-level debug|info|error      (default info)
      --log-encoding json               (the only encoding; default json)
`;

function duration(flag: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const ms = parseDuration(v);
  if (ms === undefined) throw new UsageError(`--${flag}: invalid duration "${v}" (e.g. 30s, 5m)`);
  return ms;
}

function positiveDuration(flag: string, v: string | undefined): number | undefined {
  const ms = duration(flag, v);
  if (ms === 0) throw new UsageError(`--${flag}: must be longer than 0s`);
  return ms;
}

function int(flag: string, v: string | undefined, min = 0): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!/^\d+$/.test(v) || !Number.isSafeInteger(n) || n < min) {
    throw new UsageError(`--${flag}: expected a ${min > 0 ? 'positive' : 'non-negative'} integer, got "${v}"`);
  }
  return n;
}

function bytes(flag: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = parseBytes(v);
  if (n === undefined) throw new UsageError(`--${flag}: invalid size "${v}" (e.g. 512Mi, 1Gi, 64Mi)`);
  return n;
}

function addr(flag: string, v: string): string {
  const { port } = parseAddr(v);
  if (!v.includes(':') || !/^\d+$/.test(v.slice(v.lastIndexOf(':') + 1)) || port > 65535) {
    throw new UsageError(`--${flag}: invalid address "${v}" (expected [host]:port, e.g. :8080 or 127.0.0.1:8080)`);
  }
  return v;
}

/** Fails early, as a usage error, when the kubeconfig cannot be loaded. */
function kubeconfigFile(flag: string | undefined, env: string | undefined): string | undefined {
  const file = flag ?? env?.split(':').find((f) => f !== '');
  if (file === undefined) return undefined;
  try {
    loadKubeConfig(file);
  } catch (err) {
    throw new UsageError(`${flag !== undefined ? '--kubeconfig' : 'KUBECONFIG'}: cannot load ${file}: ${(err as Error).message}`);
  }
  return file;
}

/** client-go's rule: lease duration > renew deadline > retry period. */
function leaseTimings(lease?: number, renew?: number, retry?: number): void {
  const [l, d, r] = [lease ?? 35_000, renew ?? 30_000, retry ?? 5_000];
  if (d >= l) throw new UsageError(`--leader-election-renew-deadline: the renew deadline (${d / 1000}s) must be shorter than the lease duration (${l / 1000}s)`);
  if (r >= d) throw new UsageError(`--leader-election-retry-period: the retry period (${r / 1000}s) must be shorter than the renew deadline (${d / 1000}s)`);
}

/** Runs `kclrun controller`; resolves with the exit code after a signal stops it. */
export async function controllerCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv.map((a) => (a === '--watch-all-namespaces=false' ? '--no-watch-all-namespaces' : a.replace(/^--watch-all-namespaces=true$/, '--watch-all-namespaces'))),
    options: {
      kubeconfig: { type: 'string' },
      'metrics-addr': { type: 'string', default: ':8080' },
      'health-addr': { type: 'string', default: ':9440' },
      concurrent: { type: 'string' },
      'requeue-dependency': { type: 'string' },
      'http-retry': { type: 'string' },
      'http-timeout': { type: 'string' },
      'enable-leader-election': { type: 'boolean' },
      'leader-election-namespace': { type: 'string' },
      'leader-election-lease-duration': { type: 'string' },
      'leader-election-renew-deadline': { type: 'string' },
      'leader-election-retry-period': { type: 'string' },
      'watch-all-namespaces': { type: 'boolean' },
      'no-watch-all-namespaces': { type: 'boolean' },
      'no-cross-namespace-refs': { type: 'boolean' },
      'default-service-account': { type: 'string' },
      'insecure-kubeconfig-exec': { type: 'boolean' },
      'insecure-kubeconfig-tls': { type: 'boolean' },
      'min-retry-delay': { type: 'string' },
      'max-retry-delay': { type: 'string' },
      'render-workers': { type: 'string' },
      'render-timeout': { type: 'string' },
      'render-memory-limit': { type: 'string' },
      'render-max-objects': { type: 'string' },
      'render-max-bytes': { type: 'string' },
      'log-level': { type: 'string', default: 'info' },
      'log-encoding': { type: 'string', default: 'json' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    await write(process.stdout, CONTROLLER_HELP);
    return 0;
  }
  const level = values['log-level'] as LogLevel;
  if (!LOG_LEVELS.includes(level)) throw new UsageError(`--log-level must be one of ${LOG_LEVELS.join(', ')}`);
  if (values['log-encoding'] !== 'json') throw new UsageError(`--log-encoding: only json is supported, got "${values['log-encoding']}"`);
  const leaseDurationMs = duration('leader-election-lease-duration', values['leader-election-lease-duration']);
  const renewDeadlineMs = duration('leader-election-renew-deadline', values['leader-election-renew-deadline']);
  const retryPeriodMs = duration('leader-election-retry-period', values['leader-election-retry-period']);
  if (values['enable-leader-election']) leaseTimings(leaseDurationMs, renewDeadlineMs, retryPeriodMs);
  if (values['no-watch-all-namespaces'] && !process.env.RUNTIME_NAMESPACE) {
    throw new UsageError('--watch-all-namespaces=false restricts the controller to RUNTIME_NAMESPACE, which is not set');
  }
  // From here on every line on stderr is JSON, failures included.
  const log = jsonLogger(level, { logger: CONTROLLER_NAME });
  const opts = {
    kubeconfig: kubeconfigFile(values.kubeconfig, process.env.KUBECONFIG),
    metricsAddr: addr('metrics-addr', values['metrics-addr']!),
    healthAddr: addr('health-addr', values['health-addr']!),
    concurrent: int('concurrent', values.concurrent, 1),
    requeueDependencyMs: duration('requeue-dependency', values['requeue-dependency']),
    httpRetry: int('http-retry', values['http-retry']),
    httpTimeoutMs: positiveDuration('http-timeout', values['http-timeout']),
    enableLeaderElection: values['enable-leader-election'],
    leaderElectionNamespace: values['leader-election-namespace'],
    leaseDurationMs,
    renewDeadlineMs,
    retryPeriodMs,
    watchAllNamespaces: !values['no-watch-all-namespaces'],
    runtimeNamespace: process.env.RUNTIME_NAMESPACE,
    noCrossNamespaceRefs: values['no-cross-namespace-refs'],
    defaultServiceAccount: values['default-service-account'],
    insecureKubeconfigExec: values['insecure-kubeconfig-exec'],
    insecureKubeconfigTls: values['insecure-kubeconfig-tls'],
    minRetryDelayMs: duration('min-retry-delay', values['min-retry-delay']),
    maxRetryDelayMs: duration('max-retry-delay', values['max-retry-delay']),
    renderWorkers: int('render-workers', values['render-workers'], 1),
    renderTimeoutMs: positiveDuration('render-timeout', values['render-timeout']),
    renderMemoryLimitBytes: bytes('render-memory-limit', values['render-memory-limit']),
    renderMaxObjects: int('render-max-objects', values['render-max-objects'], 1),
    renderMaxBytes: bytes('render-max-bytes', values['render-max-bytes']),
    logLevel: level,
    logger: log,
  };
  // Signals are handled from here on, start-up included: a SIGTERM while starting stops cleanly once started
  // (Node's default would kill the process before it releases anything).
  const signalled = new Promise<undefined>((resolve) => {
    const onSignal = () => resolve(undefined);
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
  });
  let running;
  try {
    running = await runController(opts);
  } catch (err) {
    log.error('unable to start the controller', { error: (err as Error).message });
    return 1;
  }
  // Run until a signal, or until the controller cannot go on (start failed after winning the election, or the
  // lease was lost): then stop cleanly and exit 1, so the Deployment restarts it and it campaigns again (as Flux).
  const fatal = await Promise.race([signalled, running.fatal]);
  if (fatal) log.error('controller failed, exiting', { error: fatal.message });
  await running.stop();
  return fatal ? 1 : 0;
}
