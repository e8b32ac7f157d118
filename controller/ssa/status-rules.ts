/**
 * kstatus rules for built-in kinds (cli-utils `kstatus/status/core.go`, with Flux's Job reader: a Job is Current
 * only when Complete). Each rule sees an object that already passed the generic checks. Pure.
 */
import type { JsonObject, JsonValue } from '../kube/types.js';
import { asObject } from './meta.js';
import type { HealthResult } from './types.js';

/** A rule for one kind. */
export type StatusRule = (obj: JsonObject) => HealthResult;

/** A condition as it appears in `status.conditions`. */
export interface Cond {
  type: string;
  status: string;
  reason?: string;
  message?: string;
}

/** The value at a dotted path. */
export function field(obj: JsonObject, path: string): JsonValue | undefined {
  let cur: JsonValue | undefined = obj;
  for (const p of path.split('.')) cur = asObject(cur)?.[p];
  return cur;
}

/** An integer field, or `dflt`. */
export function int(obj: JsonObject, path: string, dflt: number): number {
  const v = field(obj, path);
  return typeof v === 'number' ? v : dflt;
}

function str(obj: JsonObject, path: string, dflt = ''): string {
  const v = field(obj, path);
  return typeof v === 'string' ? v : dflt;
}

/** `status.conditions`, tolerant of junk. */
export function conditions(obj: JsonObject): Cond[] {
  const v = field(obj, 'status.conditions');
  if (!Array.isArray(v)) return [];
  return v.flatMap((c) => {
    const o = asObject(c);
    return o && typeof o['type'] === 'string'
      ? [{ type: o['type'], status: String(o['status'] ?? ''), reason: o['reason'] as string | undefined, message: o['message'] as string | undefined }]
      : [];
  });
}

const current = (message: string): HealthResult => ({ status: 'Current', message });
const inProgress = (message: string): HealthResult => ({ status: 'InProgress', message });
const failed = (message: string): HealthResult => ({ status: 'Failed', message });

const deployment: StatusRule = (obj) => {
  let progressing = false;
  let available = false;
  for (const c of conditions(obj)) {
    if (c.type === 'Progressing') {
      if (c.reason === 'ProgressDeadlineExceeded') return failed('Progress deadline exceeded');
      if (c.status === 'True' && c.reason === 'NewReplicaSetAvailable') progressing = true;
    } else if (c.type === 'Available' && c.status === 'True') available = true;
  }
  const spec = int(obj, 'spec.replicas', 1);
  const replicas = int(obj, 'status.replicas', 0);
  const updated = int(obj, 'status.updatedReplicas', 0);
  const ready = int(obj, 'status.readyReplicas', 0);
  const avail = int(obj, 'status.availableReplicas', 0);
  if (spec > replicas) return inProgress(`Replicas: ${replicas}/${spec}`);
  if (spec > updated) return inProgress(`Updated: ${updated}/${spec}`);
  if (replicas > spec) return inProgress(`Pending termination: ${replicas - spec}`);
  if (updated > avail) return inProgress(`Available: ${avail}/${updated}`);
  if (spec > ready) return inProgress(`Ready: ${ready}/${spec}`);
  if (!progressing) return inProgress('ReplicaSet not Available');
  if (!available) return inProgress('Deployment not Available');
  return current(`Deployment is available. Replicas: ${replicas}`);
};

const statefulSet: StatusRule = (obj) => {
  if (str(obj, 'spec.updateStrategy.type') === 'OnDelete') return current('StatefulSet is using the OnDelete update strategy');
  const spec = int(obj, 'spec.replicas', 1);
  const replicas = int(obj, 'status.replicas', 0);
  const ready = int(obj, 'status.readyReplicas', 0);
  const currentReplicas = int(obj, 'status.currentReplicas', 0);
  const updated = int(obj, 'status.updatedReplicas', 0);
  const partition = int(obj, 'spec.updateStrategy.rollingUpdate.partition', -1);
  if (spec > replicas) return inProgress(`Replicas: ${replicas}/${spec}`);
  if (spec > ready) return inProgress(`Ready: ${ready}/${spec}`);
  if (replicas > spec) return inProgress(`Pending termination: ${replicas - spec}`);
  if (partition !== -1) {
    if (updated < spec - partition) return inProgress(`Updated: ${updated}/${spec - partition}`);
    return current(`Partitioned roll out complete. Updated: ${updated}`);
  }
  if (spec > currentReplicas) return inProgress(`Current: ${currentReplicas}/${spec}`);
  const cur = str(obj, 'status.currentRevision');
  const upd = str(obj, 'status.updateRevision');
  if (cur !== upd) return inProgress(`Waiting for updated revision ${upd} to match current ${cur}`);
  return current(`All replicas scheduled as expected. Replicas: ${replicas}`);
};

const daemonSet: StatusRule = (obj) => {
  const desired = int(obj, 'status.desiredNumberScheduled', -1);
  if (desired === -1) return inProgress('Missing .status.desiredNumberScheduled');
  const checks: [string, number][] = [
    ['Current', int(obj, 'status.currentNumberScheduled', 0)],
    ['Updated', int(obj, 'status.updatedNumberScheduled', 0)],
    ['Available', int(obj, 'status.numberAvailable', 0)],
    ['Ready', int(obj, 'status.numberReady', 0)],
  ];
  for (const [what, n] of checks) if (desired > n) return inProgress(`${what}: ${n}/${desired}`);
  return current(`All replicas scheduled as expected. Replicas: ${desired}`);
};

const replicaSet: StatusRule = (obj) => {
  if (conditions(obj).some((c) => c.type === 'ReplicaFailure' && c.status === 'True')) {
    return inProgress('Replica Failure condition. Check Pods');
  }
  const spec = int(obj, 'spec.replicas', 1);
  const replicas = int(obj, 'status.replicas', 0);
  const checks: [string, number][] = [
    ['Labelled', int(obj, 'status.fullyLabeledReplicas', 0)],
    ['Available', int(obj, 'status.availableReplicas', 0)],
    ['Ready', int(obj, 'status.readyReplicas', 0)],
  ];
  for (const [what, n] of checks) if (spec > n) return inProgress(`${what}: ${n}/${spec}`);
  if (replicas > spec) return inProgress(`Pending termination: ${replicas - spec}`);
  return current(`ReplicaSet is available. Replicas: ${replicas}`);
};

const job: StatusRule = (obj) => {
  const parallelism = int(obj, 'spec.parallelism', 1);
  const completions = int(obj, 'spec.completions', parallelism);
  const succeeded = int(obj, 'status.succeeded', 0);
  const active = int(obj, 'status.active', 0);
  const failures = int(obj, 'status.failed', 0);
  for (const c of conditions(obj)) {
    if (c.type === 'Complete' && c.status === 'True') return current(`Job Completed. succeeded: ${succeeded}/${completions}`);
    if (c.type === 'Failed' && c.status === 'True') return failed(`Job Failed. failed: ${failures}/${completions}`);
  }
  if (!str(obj, 'status.startTime')) return inProgress('Job not started');
  return inProgress(`Job in progress. success: ${succeeded}, active: ${active}, failed: ${failures}`);
};

const service: StatusRule = (obj) => {
  if (str(obj, 'spec.type', 'ClusterIP') === 'LoadBalancer') {
    if (!str(obj, 'spec.clusterIP')) return inProgress('ClusterIP not assigned');
    const ingress = field(obj, 'status.loadBalancer.ingress');
    if (!Array.isArray(ingress) || ingress.length === 0) return inProgress('LoadBalancer ingress not assigned');
  }
  return current('Service is ready');
};

const pvc: StatusRule = (obj) => {
  const phase = str(obj, 'status.phase');
  return phase === 'Bound' ? current('PVC is Bound') : inProgress(`PVC is not Bound. phase: ${phase || 'unknown'}`);
};

const pod: StatusRule = (obj) => {
  const phase = str(obj, 'status.phase');
  if (phase === 'Succeeded') return current('Pod has completed successfully');
  if (phase === 'Failed') return failed('Pod has completed, but not successfully');
  const conds = conditions(obj);
  if (phase === 'Running' && conds.some((c) => c.type === 'Ready' && c.status === 'True')) return current('Pod is Ready');
  const statuses = field(obj, 'status.containerStatuses');
  for (const cs of Array.isArray(statuses) ? statuses : []) {
    const reason = field(asObject(cs) ?? {}, 'state.waiting.reason');
    if (reason === 'CrashLoopBackOff') return failed('Pod has crashing containers');
    if (reason === 'ImagePullBackOff' || reason === 'ErrImagePull') return failed(`Pod cannot pull its image (${reason})`);
  }
  const sched = conds.find((c) => c.type === 'PodScheduled');
  if (sched?.status === 'False' && sched.reason === 'Unschedulable') return inProgress(`Pod could not be scheduled: ${sched.message ?? ''}`.trim());
  return inProgress(phase ? `Pod phase is ${phase}` : 'Pod phase not available');
};

const pdb: StatusRule = (obj) => {
  const desired = int(obj, 'status.desiredHealthy', 0);
  const healthy = int(obj, 'status.currentHealthy', 0);
  if (desired > healthy) return inProgress(`Budget not met. healthy replicas: ${healthy}/${desired}`);
  return current(`Budget is met. Replicas: ${healthy}/${desired}`);
};

const crd: StatusRule = (obj) => {
  for (const c of conditions(obj)) {
    if (c.type === 'NamesAccepted' && c.status === 'False') return failed(c.message || 'CRD names not accepted');
    if (c.type === 'Established') {
      if (c.status === 'True') return current('CRD is established');
      if (c.status === 'False') return inProgress('Install in progress');
    }
  }
  return inProgress('Install in progress');
};

const namespace: StatusRule = (obj) => {
  const phase = str(obj, 'status.phase');
  return phase === 'Active' ? current('Namespace is active') : inProgress(`Namespace phase is ${phase || 'unknown'}`);
};

/** Rules keyed by `group/Kind` (`Kind` for the core group). */
export const RULES: Readonly<Record<string, StatusRule>> = {
  'apps/Deployment': deployment,
  'apps/StatefulSet': statefulSet,
  'apps/DaemonSet': daemonSet,
  'apps/ReplicaSet': replicaSet,
  'batch/Job': job,
  'policy/PodDisruptionBudget': pdb,
  'apiextensions.k8s.io/CustomResourceDefinition': crd,
  Service: service,
  PersistentVolumeClaim: pvc,
  Pod: pod,
  Namespace: namespace,
};
