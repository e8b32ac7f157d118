/**
 * Prometheus metrics in Flux's naming: `gotk_reconcile_duration_seconds` (histogram), `gotk_reconcile_condition`
 * and `gotk_suspend_status` (gauges), labelled by kind, name and namespace. Rendered in the text exposition format.
 */
import { KIND } from './api/group.js';
import type { Condition } from './api/conditions.js';
import type { KCLRun } from './api/types.js';

/** What the reconciler records. */
export interface Metrics {
  duration(k: KCLRun, seconds: number): void;
  conditions(k: KCLRun, conditions: readonly Condition[]): void;
  suspended(k: KCLRun, suspended: boolean): void;
  forget(k: KCLRun): void;
}

const BUCKETS = [0.01, 0.1, 1, 10, 100];
const STATUSES = ['True', 'False', 'Unknown', 'Deleted'] as const;

interface Histogram {
  counts: number[];
  sum: number;
  count: number;
}

function labels(l: Record<string, string>): string {
  return `{${Object.entries(l)
    .map(([k, v]) => `${k}="${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`)
    .join(',')}}`;
}

/** In-memory metrics registry. */
export class MetricsRegistry implements Metrics {
  readonly #durations = new Map<string, Histogram>();
  readonly #conditions = new Map<string, Map<string, string>>();
  readonly #suspend = new Map<string, number>();

  #key(k: KCLRun): string {
    return `${k.metadata.namespace}/${k.metadata.name}`;
  }

  /** Observes one reconcile's duration. */
  duration(k: KCLRun, seconds: number): void {
    const key = this.#key(k);
    const h = this.#durations.get(key) ?? { counts: BUCKETS.map(() => 0), sum: 0, count: 0 };
    BUCKETS.forEach((b, i) => {
      if (seconds <= b) h.counts[i]!++;
    });
    h.sum += seconds;
    h.count++;
    this.#durations.set(key, h);
  }

  /** Records the current status of each condition type. */
  conditions(k: KCLRun, conditions: readonly Condition[]): void {
    const m = new Map<string, string>();
    for (const c of conditions) if (c.type === 'Ready' || c.type === 'Stalled' || c.type === 'Healthy') m.set(c.type, c.status);
    this.#conditions.set(this.#key(k), m);
  }

  /** Records whether the object is suspended. */
  suspended(k: KCLRun, suspended: boolean): void {
    this.#suspend.set(this.#key(k), suspended ? 1 : 0);
  }

  /** Marks a deleted object (its condition gauges report Deleted). */
  forget(k: KCLRun): void {
    const key = this.#key(k);
    this.#conditions.set(key, new Map([['Ready', 'Deleted']]));
    this.#suspend.delete(key);
  }

  /** The exposition text. */
  render(): string {
    const out: string[] = [];
    const base = (key: string) => {
      const [namespace, name] = key.split('/') as [string, string];
      return { kind: KIND, name, namespace };
    };
    out.push('# HELP gotk_reconcile_duration_seconds The duration in seconds of a GitOps Toolkit resource reconciliation.');
    out.push('# TYPE gotk_reconcile_duration_seconds histogram');
    for (const [key, h] of this.#durations) {
      BUCKETS.forEach((b, i) => out.push(`gotk_reconcile_duration_seconds_bucket${labels({ ...base(key), le: String(b) })} ${h.counts[i]}`));
      out.push(`gotk_reconcile_duration_seconds_bucket${labels({ ...base(key), le: '+Inf' })} ${h.count}`);
      out.push(`gotk_reconcile_duration_seconds_sum${labels(base(key))} ${h.sum}`);
      out.push(`gotk_reconcile_duration_seconds_count${labels(base(key))} ${h.count}`);
    }
    out.push('# HELP gotk_reconcile_condition The current condition status of a GitOps Toolkit resource reconciliation.');
    out.push('# TYPE gotk_reconcile_condition gauge');
    for (const [key, m] of this.#conditions) {
      for (const [type, status] of m) {
        for (const s of STATUSES) out.push(`gotk_reconcile_condition${labels({ ...base(key), type, status: s })} ${s === status ? 1 : 0}`);
      }
    }
    out.push('# HELP gotk_suspend_status The current suspend status of a GitOps Toolkit resource.');
    out.push('# TYPE gotk_suspend_status gauge');
    for (const [key, v] of this.#suspend) out.push(`gotk_suspend_status${labels(base(key))} ${v}`);
    const mem = process.memoryUsage();
    out.push('# HELP process_resident_memory_bytes Resident memory size in bytes.');
    out.push('# TYPE process_resident_memory_bytes gauge');
    out.push(`process_resident_memory_bytes ${mem.rss}`);
    return out.join('\n') + '\n';
  }
}
