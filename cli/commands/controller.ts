/** `kclrun controller`: runs the Flux controller for KCLRun until SIGINT/SIGTERM. */
import { parseArgs } from 'node:util';
import { runController } from '../../controller/run.js';
import { parseDuration } from '../../controller/api/types.js';
import { LOG_LEVELS, type LogLevel } from '../../controller/log.js';
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
      --enable-leader-election          elect a leader with a coordination.k8s.io Lease
      --leader-election-namespace NS    namespace of the Lease (default RUNTIME_NAMESPACE)
      --leader-election-lease-duration, --leader-election-renew-deadline, --leader-election-retry-period
      --watch-all-namespaces[=false]    watch every namespace (default true; false: RUNTIME_NAMESPACE)
      --no-cross-namespace-refs         deny references to sources/dependencies in other namespaces
      --default-service-account NAME    impersonate this ServiceAccount when a KCLRun names none
      --min-retry-delay, --max-retry-delay DURATION   error backoff (default 750ms, 15m)
      --log-level debug|info|error      (default info)
`;

function duration(flag: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const ms = parseDuration(v);
  if (ms === undefined) throw new UsageError(`--${flag}: invalid duration "${v}" (e.g. 30s, 5m)`);
  return ms;
}

function int(flag: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new UsageError(`--${flag}: expected a non-negative integer, got "${v}"`);
  return n;
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
      'enable-leader-election': { type: 'boolean' },
      'leader-election-namespace': { type: 'string' },
      'leader-election-lease-duration': { type: 'string' },
      'leader-election-renew-deadline': { type: 'string' },
      'leader-election-retry-period': { type: 'string' },
      'watch-all-namespaces': { type: 'boolean' },
      'no-watch-all-namespaces': { type: 'boolean' },
      'no-cross-namespace-refs': { type: 'boolean' },
      'default-service-account': { type: 'string' },
      'min-retry-delay': { type: 'string' },
      'max-retry-delay': { type: 'string' },
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
  const running = await runController({
    kubeconfig: values.kubeconfig ?? process.env.KUBECONFIG?.split(':')[0],
    metricsAddr: values['metrics-addr'],
    healthAddr: values['health-addr'],
    concurrent: int('concurrent', values.concurrent),
    requeueDependencyMs: duration('requeue-dependency', values['requeue-dependency']),
    httpRetry: int('http-retry', values['http-retry']),
    enableLeaderElection: values['enable-leader-election'],
    leaderElectionNamespace: values['leader-election-namespace'],
    leaseDurationMs: duration('leader-election-lease-duration', values['leader-election-lease-duration']),
    renewDeadlineMs: duration('leader-election-renew-deadline', values['leader-election-renew-deadline']),
    retryPeriodMs: duration('leader-election-retry-period', values['leader-election-retry-period']),
    watchAllNamespaces: !values['no-watch-all-namespaces'],
    runtimeNamespace: process.env.RUNTIME_NAMESPACE,
    noCrossNamespaceRefs: values['no-cross-namespace-refs'],
    defaultServiceAccount: values['default-service-account'],
    minRetryDelayMs: duration('min-retry-delay', values['min-retry-delay']),
    maxRetryDelayMs: duration('max-retry-delay', values['max-retry-delay']),
    logLevel: level,
  });
  await new Promise<void>((resolve) => {
    const onSignal = () => resolve();
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
  });
  await running.stop();
  return 0;
}
