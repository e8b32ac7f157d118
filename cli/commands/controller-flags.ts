/**
 * The flags of `kclrun controller`, declared once: Flux's names, types, defaults and descriptions (kustomize-controller
 * and fluxcd/pkg/runtime). The parser options and the `--help` text (pflag's layout) are both made from this table.
 */
import type { ParseArgsConfig } from 'node:util';

/** A flag's value type, as pflag prints it. */
export type FlagType = 'bool' | 'string' | 'int' | 'uint8' | 'float32' | 'duration' | 'stringArray';

/** One flag. */
export interface FlagSpec {
  name: string;
  type: FlagType;
  /** The default as `--help` shows it (and, for string flags, the value used when the flag is absent). */
  default?: string;
  /** The description. */
  usage: string;
}

/** Every flag of `kclrun controller`. */
export const CONTROLLER_FLAGS: readonly FlagSpec[] = [
  { name: 'kubeconfig', type: 'string', usage: 'Path to a kubeconfig file; default the first file of KUBECONFIG, then the in-cluster config, then ~/.kube/config.' },
  { name: 'metrics-addr', type: 'string', default: ':8080', usage: 'The address the metric endpoint binds to.' },
  { name: 'health-addr', type: 'string', default: ':9440', usage: 'The address the health endpoint binds to.' },
  { name: 'events-addr', type: 'string', usage: 'The address of the events receiver (notification-controller), e.g. http://notification-controller.flux-system.svc.cluster.local./' },
  { name: 'concurrent', type: 'int', default: '4', usage: 'The number of concurrent KCLRun reconciles.' },
  { name: 'concurrent-ssa', type: 'int', default: '4', usage: 'The number of concurrent server-side apply operations.' },
  { name: 'requeue-dependency', type: 'duration', default: '30s', usage: 'The interval at which failing dependencies are reevaluated.' },
  { name: 'http-retry', type: 'int', default: '9', usage: 'The maximum number of retries when failing to fetch artifacts over HTTP.' },
  { name: 'http-timeout', type: 'duration', default: '30s', usage: 'The timeout of one attempt to fetch an artifact over HTTP.' },
  { name: 'default-service-account', type: 'string', usage: 'Default service account used for impersonation.' },
  { name: 'insecure-kubeconfig-exec', type: 'bool', usage: 'Allow use of the user.exec and auth-provider sections in kubeconfigs provided for remote apply (they run commands inside the controller).' },
  { name: 'insecure-kubeconfig-tls', type: 'bool', usage: 'Allow that kubeconfigs provided for remote apply can disable TLS verification (insecure-skip-tls-verify, http:// servers).' },
  { name: 'override-manager', type: 'stringArray', usage: 'Field manager disallowed to perform changes on managed resources (repeatable).' },
  { name: 'no-cross-namespace-refs', type: 'bool', usage: 'When set to true, references between custom resources are allowed only if the reference and the referee are in the same namespace.' },
  { name: 'watch-all-namespaces', type: 'bool', default: 'true', usage: 'Watch for custom resources in all namespaces, if set to false it will only watch the runtime namespace.' },
  { name: 'watch-label-selector', type: 'string', default: '', usage: "Watch for resources with matching labels e.g. 'sharding.fluxcd.io/key in (shard1)' or '!sharding.fluxcd.io/key'." },
  { name: 'interval-jitter-percentage', type: 'uint8', default: '5', usage: 'Percentage of jitter to apply to interval durations. A value of 10 will apply a jitter of +/-10% to the interval duration. It cannot be negative, and must be less than 100.' },
  { name: 'kube-api-qps', type: 'float32', default: '50', usage: 'The maximum queries-per-second of requests sent to the Kubernetes API.' },
  { name: 'kube-api-burst', type: 'int', default: '300', usage: 'The maximum burst queries-per-second of requests sent to the Kubernetes API.' },
  { name: 'enable-leader-election', type: 'bool', usage: 'Enable leader election for controller manager. Enabling this will ensure there is only one active controller manager.' },
  { name: 'leader-election-namespace', type: 'string', usage: 'Namespace of the leader election Lease; default RUNTIME_NAMESPACE.' },
  { name: 'leader-election-lease-duration', type: 'duration', default: '35s', usage: 'Interval at which non-leader candidates will wait to force acquire leadership (duration string).' },
  { name: 'leader-election-renew-deadline', type: 'duration', default: '30s', usage: 'Duration that the leading controller manager will retry refreshing leadership before giving up (duration string).' },
  { name: 'leader-election-retry-period', type: 'duration', default: '5s', usage: 'Duration the LeaderElector clients should wait between tries of actions (duration string).' },
  { name: 'min-retry-delay', type: 'duration', default: '750ms', usage: 'The minimum amount of time for which an object being reconciled will have to wait before a retry.' },
  { name: 'max-retry-delay', type: 'duration', default: '15m0s', usage: 'The maximum amount of time for which an object being reconciled will have to wait before a retry.' },
  { name: 'render-workers', type: 'int', usage: 'Engine worker processes rendering in parallel, at most (default: the CPUs available); the first starts with the first render, each further one once a render has waited 250ms; each exits after 30s idle.' },
  { name: 'render-timeout', type: 'duration', default: '60s', usage: "Stop a render after this long (a KCLRun's spec.timeout lowers it)." },
  { name: 'render-memory-limit', type: 'string', default: '512Mi', usage: 'Stop a render whose worker uses more memory.' },
  { name: 'render-max-objects', type: 'int', default: '10000', usage: 'Fail a render with more resources.' },
  { name: 'render-max-bytes', type: 'string', default: '64Mi', usage: 'Fail a render with more YAML output.' },
  { name: 'kcl-pkg-cache', type: 'string', usage: "Directory caching the KCL packages that kcl.mod dependencies download, one subdirectory per namespace; kept across restarts (default: a temporary directory removed on exit)." },
  { name: 'no-remote-dependencies', type: 'bool', usage: "Do not download kcl.mod dependencies (registry, OCI, git): only vendored and path dependencies and what --kcl-pkg-cache already holds are used, like Flux's --no-remote-bases." },
  { name: 'log-encoding', type: 'string', default: 'json', usage: "Log encoding format. Can be 'json' or 'console'." },
  { name: 'log-level', type: 'string', default: 'info', usage: "Log verbosity level. Can be one of 'trace', 'debug', 'info', 'error'." },
];

/** The `parseArgs` options for {@link CONTROLLER_FLAGS} (values stay strings; the command converts and checks them). */
export function parseOptions(flags: readonly FlagSpec[] = CONTROLLER_FLAGS): NonNullable<ParseArgsConfig['options']> {
  const options: NonNullable<ParseArgsConfig['options']> = { help: { type: 'boolean', short: 'h' } };
  for (const f of flags) {
    options[f.name] = f.type === 'bool' ? { type: 'boolean' } : { type: 'string', ...(f.type === 'stringArray' ? { multiple: true } : {}) };
  }
  return options;
}

/** A flag's column in `--help`: `--name type` (no type for bools), as pflag prints it. */
function flagColumn(f: FlagSpec): string {
  return `      --${f.name}${f.type === 'bool' ? '' : ` ${f.type}`}`;
}

/** pflag's `(default …)`: strings quoted, false bools and empty values left out. */
function defaultNote(f: FlagSpec): string {
  if (f.default === undefined || (f.type === 'bool' && f.default === 'false')) return '';
  return ` (default ${f.type === 'string' ? JSON.stringify(f.default) : f.default})`;
}

/** The flags section of `--help`, pflag's layout: one flag a line, descriptions aligned. */
export function formatFlags(flags: readonly FlagSpec[] = CONTROLLER_FLAGS): string {
  const rows = [...flags.map((f) => [flagColumn(f), `${f.usage}${defaultNote(f)}`]), ['  -h, --help', 'help for controller']];
  const width = Math.max(...rows.map(([c]) => c!.length)) + 3;
  return rows.map(([c, u]) => `${c!.padEnd(width)}${u}`).join('\n') + '\n';
}

/**
 * Rewrites Go-style boolean values (`--flag=true`, `--flag=false`) that `parseArgs` does not take: returns the
 * arguments left for it and the flags set to false explicitly. Any other value for a bool is an error message.
 */
export function goBoolArgs(argv: readonly string[], flags: readonly FlagSpec[] = CONTROLLER_FLAGS): { args: string[]; falseFlags: Set<string>; error?: string } {
  const bools = new Set(flags.filter((f) => f.type === 'bool').map((f) => f.name));
  const args: string[] = [];
  const falseFlags = new Set<string>();
  for (const a of argv) {
    const m = /^--([a-z0-9-]+)=(.*)$/.exec(a);
    if (!m || !bools.has(m[1]!)) {
      args.push(a);
      continue;
    }
    const [, name, value] = m as unknown as [string, string, string];
    if (value === 'true') args.push(`--${name}`);
    else if (value === 'false') falseFlags.add(name);
    else return { args, falseFlags, error: `--${name}: invalid boolean "${value}" (true or false)` };
  }
  return { args, falseFlags };
}
