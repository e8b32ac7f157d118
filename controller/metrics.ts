/**
 * Prometheus metrics with prom-client, in Flux's names and labels so Flux's Grafana dashboards and alerts work for
 * KCLRuns:
 * - `gotk_reconcile_duration_seconds` histogram {kind, name, namespace}, fluxcd/pkg/runtime/metrics' buckets;
 * - `gotk_reconcile_condition` {kind, name, namespace, type, status} and `gotk_suspend_status` gauges (the series
 *   fluxcd/pkg/runtime/metrics defines; Flux controllers ≥ 2.1 leave them to kube-state-metrics);
 * - `gotk_resource_info` {customresource_group, customresource_kind, customresource_version, exported_namespace,
 *   name, ready, suspended, revision, source_name}: the series flux2-monitoring-example's kube-state-metrics
 *   configuration produces for a Kustomization, exported directly;
 * - the Node.js process metrics (`process_*`, `nodejs_*`), once per process.
 * A deleted KCLRun's series are removed, as Flux does.
 */
import { collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import { GROUP, KIND, VERSION } from './api/group.js';
import type { KCLRun, KCLRunStatus } from './api/types.js';

/** What the reconciler records. */
export interface Metrics {
  /** Observes one reconcile's duration. */
  duration(k: KCLRun, seconds: number): void;
  /** Records the conditions and the resource info of a status just written. */
  status(k: KCLRun, status: KCLRunStatus): void;
  /** Records whether the object is suspended. */
  suspended(k: KCLRun, suspended: boolean): void;
  /** Removes every series of a deleted object. */
  forget(k: KCLRun): void;
}

/** fluxcd/pkg/runtime/metrics: `prometheus.ExponentialBucketsRange(10e-3, 1800, 10)`. */
export const DURATION_BUCKETS: readonly number[] = exponentialBucketsRange(10e-3, 1800, 10);

/** Go's `prometheus.ExponentialBucketsRange`, computed the same way. */
function exponentialBucketsRange(min: number, max: number, count: number): number[] {
  const growth = Math.pow(max / min, 1 / (count - 1));
  return Array.from({ length: count }, (_, i) => min * Math.pow(growth, i));
}
/** Condition types exported in `gotk_reconcile_condition`. */
const RECORDED_CONDITIONS = ['Ready', 'Stalled', 'Healthy'] as const;
/** Flux's condition statuses (fluxcd/pkg/runtime/metrics RecordCondition). */
const STATUSES = ['True', 'False', 'Unknown'] as const;

type InfoLabels = Record<(typeof INFO_LABELS)[number], string>;
const INFO_LABELS = [
  'customresource_group',
  'customresource_kind',
  'customresource_version',
  'exported_namespace',
  'name',
  'ready',
  'suspended',
  'revision',
  'source_name',
] as const;

/** Node.js process metrics, registered once per process (they describe the process, not a controller). */
let processRegistry: Registry | undefined;
function processMetrics(): Registry {
  if (!processRegistry) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry });
  }
  return processRegistry;
}

/** The Ready status, as kube-state-metrics reads `status.conditions[type=Ready].status`. */
function readyOf(status: KCLRunStatus | undefined): string {
  return status?.conditions?.find((c) => c.type === 'Ready')?.status ?? 'Unknown';
}

function revisionOf(status: KCLRunStatus | undefined): string {
  return status?.lastAppliedRevision ?? '';
}

function key(k: KCLRun): string {
  return `${k.metadata.namespace}/${k.metadata.name}`;
}

/** The metrics of one controller. */
export class MetricsRegistry implements Metrics {
  readonly #registry = new Registry();
  readonly #duration = new Histogram({
    name: 'gotk_reconcile_duration_seconds',
    help: 'The duration in seconds of a GitOps Toolkit resource reconciliation.',
    labelNames: ['kind', 'name', 'namespace'] as const,
    buckets: [...DURATION_BUCKETS],
    registers: [this.#registry],
  });
  readonly #condition = new Gauge({
    name: 'gotk_reconcile_condition',
    help: 'The current condition status of a GitOps Toolkit resource reconciliation.',
    labelNames: ['kind', 'name', 'namespace', 'type', 'status'] as const,
    registers: [this.#registry],
  });
  readonly #suspend = new Gauge({
    name: 'gotk_suspend_status',
    help: 'The current suspend status of a GitOps Toolkit resource.',
    labelNames: ['kind', 'name', 'namespace'] as const,
    registers: [this.#registry],
  });
  readonly #info = new Gauge({
    name: 'gotk_resource_info',
    help: 'The current state of a GitOps Toolkit resource.',
    labelNames: INFO_LABELS,
    registers: [this.#registry],
  });
  /** Per object: the label set of its `gotk_resource_info` series and the condition types it exports. */
  readonly #infoLabels = new Map<string, InfoLabels>();
  readonly #conditionTypes = new Map<string, Set<string>>();

  #ref(k: KCLRun) {
    return { kind: KIND, name: k.metadata.name, namespace: k.metadata.namespace };
  }

  duration(k: KCLRun, seconds: number): void {
    this.#duration.observe(this.#ref(k), seconds);
  }

  status(k: KCLRun, status: KCLRunStatus): void {
    const present = new Set<string>();
    for (const c of status.conditions ?? []) {
      if (!(RECORDED_CONDITIONS as readonly string[]).includes(c.type)) continue;
      present.add(c.type);
      for (const s of STATUSES) this.#condition.set({ ...this.#ref(k), type: c.type, status: s }, s === c.status ? 1 : 0);
    }
    for (const gone of this.#conditionTypes.get(key(k)) ?? []) if (!present.has(gone)) this.#deleteCondition(k, gone);
    this.#conditionTypes.set(key(k), present);
    this.#setInfo(k, { ready: readyOf(status), revision: revisionOf(status), suspended: k.spec.suspend ?? false });
  }

  suspended(k: KCLRun, suspended: boolean): void {
    this.#suspend.set(this.#ref(k), suspended ? 1 : 0);
    // The last status this controller wrote, else the one the object was read with.
    const known = this.#infoLabels.get(key(k));
    this.#setInfo(k, { ready: known?.ready ?? readyOf(k.status), revision: known?.revision ?? revisionOf(k.status), suspended });
  }

  forget(k: KCLRun): void {
    this.#duration.remove(this.#ref(k));
    this.#suspend.remove(this.#ref(k));
    for (const type of this.#conditionTypes.get(key(k)) ?? []) this.#deleteCondition(k, type);
    this.#conditionTypes.delete(key(k));
    const info = this.#infoLabels.get(key(k));
    if (info) this.#info.remove(info);
    this.#infoLabels.delete(key(k));
  }

  #deleteCondition(k: KCLRun, type: string): void {
    for (const s of STATUSES) this.#condition.remove({ ...this.#ref(k), type, status: s });
  }

  /** One `gotk_resource_info` series per object: the previous one goes when a label value changes. */
  #setInfo(k: KCLRun, state: { ready: string; revision: string; suspended: boolean }): void {
    const labels: InfoLabels = {
      customresource_group: GROUP,
      customresource_kind: KIND,
      customresource_version: VERSION,
      exported_namespace: k.metadata.namespace,
      name: k.metadata.name,
      ready: state.ready,
      suspended: String(state.suspended),
      revision: state.revision,
      source_name: k.spec.sourceRef.name,
    };
    const previous = this.#infoLabels.get(key(k));
    if (previous && INFO_LABELS.some((l) => previous[l] !== labels[l])) this.#info.remove(previous);
    this.#info.set(labels, 1);
    this.#infoLabels.set(key(k), labels);
  }

  /** The exposition text: this controller's series, then the process metrics. */
  async render(): Promise<string> {
    return (await this.#registry.metrics()) + (await processMetrics().metrics());
  }

  /** The exposition format's content type. */
  get contentType(): string {
    return this.#registry.contentType;
  }
}
