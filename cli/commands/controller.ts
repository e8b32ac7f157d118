/** `kclrun controller`: runs the Flux controller for KCLRun until SIGINT/SIGTERM. */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { loadKubeConfig as LoadKubeConfig } from '../../controller/run.js';
import { parseAddr } from '../../controller/server.js';
import { parseDuration } from '../../controller/api/types.js';
import { CONTROLLER_NAME } from '../../controller/api/group.js';
import { jsonLogger, LOG_ENCODINGS, LOG_LEVELS, type LogEncoding, type LogLevel } from '../../controller/log.js';
import { parseBytes } from '../../fn/limits.js';
import { labelSelectorError } from '../../controller/label-selector.js';
import { UsageError, write } from '../io.js';
import { formatFlags, goBoolArgs, parseOptions } from './controller-flags.js';
import { enableOptimizingCompiler } from '../v8-tiering.js';

/** Help text for `kclrun controller`. */
export const CONTROLLER_HELP = `Usage: kclrun controller [flags]

Runs the KCLRun controller (krm.kcl.dev.fluxcd/v1alpha1): follows Flux sources, renders
their KCL, applies it with server-side apply, prunes, checks health, reports status.
Uses --kubeconfig, else KUBECONFIG, else the in-cluster config. Logs are JSON lines
(--log-encoding=console: zap's console layout). Flags have kustomize-controller's names,
types and defaults.

Flags:
${formatFlags()}`;

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

function int(flag: string, v: string | undefined, min = 0, max = Number.MAX_SAFE_INTEGER): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!/^\d+$/.test(v) || !Number.isSafeInteger(n) || n < min || n > max) {
    const range = max < Number.MAX_SAFE_INTEGER ? ` from ${min} to ${max}` : '';
    throw new UsageError(`--${flag}: expected a ${min > 0 ? 'positive' : 'non-negative'} integer${range}, got "${v}"`);
  }
  return n;
}

function bytes(flag: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = parseBytes(v);
  if (n === undefined) throw new UsageError(`--${flag}: invalid size "${v}" (e.g. 512Mi, 1Gi, 64Mi)`);
  return n;
}

/** A directory flag: a non-empty path, made absolute. */
function directory(flag: string, v: string | undefined): string | undefined {
  if (v === undefined) return undefined;
  if (v.trim() === '') throw new UsageError(`--${flag}: expected a directory, got ""`);
  return resolve(v);
}

/** A float32 flag (`--kube-api-qps`); negative disables, as client-go's QPS. */
function float(flag: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n)) throw new UsageError(`--${flag}: expected a number, got "${v}"`);
  return n;
}

/** `--events-addr`: an http(s) URL (Flux parses it with url.Parse and POSTs to it). */
function eventsUrl(v: string | undefined): string | undefined {
  if (v === undefined || v === '') return undefined;
  let url: URL;
  try {
    url = new URL(v);
  } catch {
    throw new UsageError(`--events-addr: invalid URL "${v}" (e.g. http://notification-controller.flux-system.svc.cluster.local./)`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError(`--events-addr: expected an http or https URL, got "${v}"`);
  return url.href;
}

function addr(flag: string, v: string): string {
  const { port } = parseAddr(v);
  if (!v.includes(':') || !/^\d+$/.test(v.slice(v.lastIndexOf(':') + 1)) || port > 65535) {
    throw new UsageError(`--${flag}: invalid address "${v}" (expected [host]:port, e.g. :8080 or 127.0.0.1:8080)`);
  }
  return v;
}

/** Fails early, as a usage error, when the kubeconfig cannot be loaded. */
function kubeconfigFile(loadKubeConfig: typeof LoadKubeConfig, flag: string | undefined, env: string | undefined): string | undefined {
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
  enableOptimizingCompiler();
  const go = goBoolArgs(argv);
  if (go.error) throw new UsageError(go.error);
  const { values: parsed } = parseArgs({ args: go.args, options: parseOptions() });
  const values = parsed as Record<string, string | string[] | boolean | undefined> & {
    help?: boolean;
    'override-manager'?: string[];
  };
  const str = (name: string): string | undefined => values[name] as string | undefined;
  const flag = (name: string): boolean | undefined => (go.falseFlags.has(name) ? false : (values[name] as boolean | undefined));
  if (values.help) {
    await write(process.stdout, CONTROLLER_HELP);
    return 0;
  }
  const level = (str('log-level') ?? 'info') as LogLevel;
  if (!LOG_LEVELS.includes(level)) throw new UsageError(`--log-level must be one of ${LOG_LEVELS.join(', ')}`);
  const encoding = (str('log-encoding') ?? 'json') as LogEncoding;
  if (!LOG_ENCODINGS.includes(encoding)) throw new UsageError(`--log-encoding must be one of ${LOG_ENCODINGS.join(', ')}, got "${encoding}"`);
  const leaseDurationMs = duration('leader-election-lease-duration', str('leader-election-lease-duration'));
  const renewDeadlineMs = duration('leader-election-renew-deadline', str('leader-election-renew-deadline'));
  const retryPeriodMs = duration('leader-election-retry-period', str('leader-election-retry-period'));
  if (flag('enable-leader-election')) leaseTimings(leaseDurationMs, renewDeadlineMs, retryPeriodMs);
  const watchAllNamespaces = flag('watch-all-namespaces') ?? true;
  if (!watchAllNamespaces && !process.env.RUNTIME_NAMESPACE) {
    throw new UsageError('--watch-all-namespaces=false restricts the controller to RUNTIME_NAMESPACE, which is not set');
  }
  const overrideManagers = values['override-manager'] ?? [];
  for (const m of overrideManagers) if (m.trim() === '') throw new UsageError('--override-manager: a field manager name must not be empty');
  const jitter = int('interval-jitter-percentage', str('interval-jitter-percentage'), 0, 99);
  const selector = str('watch-label-selector');
  const selectorError = !selector ? undefined : labelSelectorError(selector);
  if (selectorError) throw new UsageError(`--watch-label-selector: ${selectorError.message}`);
  const opts = {
    metricsAddr: addr('metrics-addr', str('metrics-addr') ?? ':8080'),
    healthAddr: addr('health-addr', str('health-addr') ?? ':9440'),
    eventsAddr: eventsUrl(str('events-addr')),
    concurrent: int('concurrent', str('concurrent'), 1),
    concurrentSsa: int('concurrent-ssa', str('concurrent-ssa'), 1),
    requeueDependencyMs: duration('requeue-dependency', str('requeue-dependency')),
    httpRetry: int('http-retry', str('http-retry')),
    httpTimeoutMs: positiveDuration('http-timeout', str('http-timeout')),
    overrideManagers,
    intervalJitter: jitter === undefined ? undefined : jitter / 100,
    kubeApiQps: float('kube-api-qps', str('kube-api-qps')),
    kubeApiBurst: int('kube-api-burst', str('kube-api-burst'), 1),
    enableLeaderElection: flag('enable-leader-election'),
    leaderElectionNamespace: str('leader-election-namespace'),
    leaseDurationMs,
    renewDeadlineMs,
    retryPeriodMs,
    watchAllNamespaces,
    watchLabelSelector: selector || undefined,
    runtimeNamespace: process.env.RUNTIME_NAMESPACE,
    noCrossNamespaceRefs: flag('no-cross-namespace-refs'),
    defaultServiceAccount: str('default-service-account'),
    insecureKubeconfigExec: flag('insecure-kubeconfig-exec'),
    insecureKubeconfigTls: flag('insecure-kubeconfig-tls'),
    minRetryDelayMs: duration('min-retry-delay', str('min-retry-delay')),
    maxRetryDelayMs: duration('max-retry-delay', str('max-retry-delay')),
    renderWorkers: int('render-workers', str('render-workers'), 1),
    renderTimeoutMs: positiveDuration('render-timeout', str('render-timeout')),
    renderMemoryLimitBytes: bytes('render-memory-limit', str('render-memory-limit')),
    renderMaxObjects: int('render-max-objects', str('render-max-objects'), 1),
    renderMaxBytes: bytes('render-max-bytes', str('render-max-bytes')),
    kclPkgCache: directory('kcl-pkg-cache', str('kcl-pkg-cache')),
    noRemoteDependencies: flag('no-remote-dependencies'),
    logLevel: level,
  };
  // The controller's modules (the Kubernetes client among them) load only once every other flag is valid, so a
  // usage error answers at once.
  const { loadKubeConfig, runController } = await import('../../controller/run.js');
  const kubeconfig = kubeconfigFile(loadKubeConfig, str('kubeconfig'), process.env.KUBECONFIG);
  // From here on every line on stderr is a log line (JSON unless --log-encoding=console), failures included.
  const log = jsonLogger(level, { logger: CONTROLLER_NAME }, process.stderr, encoding);
  // Signals are handled from here on, start-up included: a SIGTERM while starting stops cleanly once started
  // (Node's default would kill the process before it releases anything).
  const signalled = new Promise<undefined>((resolve) => {
    const onSignal = () => resolve(undefined);
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
  });
  let running;
  try {
    running = await runController({ ...opts, kubeconfig, logger: log });
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
