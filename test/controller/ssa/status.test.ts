import test from 'ava';
import { computeStatus } from '../../../controller/ssa/index.js';
import type { HealthStatus, JsonObject } from '../../../controller/ssa/index.js';

type Row = [title: string, obj: JsonObject, status: HealthStatus, message?: RegExp];

const cond = (type: string, status: string, reason = '', message = ''): JsonObject => ({ type, status, reason, message });
const deploy = (spec: JsonObject, status: JsonObject, generation = 1): JsonObject => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'web', namespace: 'default', generation },
  spec,
  status,
});
const readyDeployStatus: JsonObject = {
  observedGeneration: 1,
  replicas: 2,
  updatedReplicas: 2,
  readyReplicas: 2,
  availableReplicas: 2,
  conditions: [cond('Progressing', 'True', 'NewReplicaSetAvailable'), cond('Available', 'True', 'MinimumReplicasAvailable')],
};

const rows: Row[] = [
  ['ConfigMap is always current', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' } }, 'Current'],
  ['Secret is always current', { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's' } }, 'Current'],
  ['being deleted', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', deletionTimestamp: '2026-01-01T00:00:00Z' } }, 'InProgress', /deletion/],
  // Deployment
  ['new Deployment without status', deploy({ replicas: 2 }, {}), 'InProgress', /^Replicas: 0\/2$/],
  ['Deployment default 1 replica', deploy({}, {}), 'InProgress', /Replicas: 0\/1/],
  ['Deployment generation not observed', deploy({ replicas: 2 }, readyDeployStatus, 2), 'InProgress', /generation is 2, but latest observed generation is 1/],
  ['Deployment updated < spec', deploy({ replicas: 2 }, { ...readyDeployStatus, updatedReplicas: 1 }), 'InProgress', /Updated: 1\/2/],
  ['Deployment extra pods', deploy({ replicas: 2 }, { ...readyDeployStatus, replicas: 3 }), 'InProgress', /Pending termination: 1/],
  ['Deployment not available', deploy({ replicas: 2 }, { ...readyDeployStatus, availableReplicas: 1 }), 'InProgress', /Available: 1\/2/],
  ['Deployment not ready', deploy({ replicas: 2 }, { ...readyDeployStatus, readyReplicas: 1 }), 'InProgress', /Ready: 1\/2/],
  [
    'Deployment without NewReplicaSetAvailable',
    deploy({ replicas: 2 }, { ...readyDeployStatus, conditions: [cond('Available', 'True')] }),
    'InProgress',
    /ReplicaSet not Available/,
  ],
  [
    'Deployment progress deadline exceeded',
    deploy({ replicas: 2 }, { ...readyDeployStatus, conditions: [cond('Progressing', 'False', 'ProgressDeadlineExceeded')] }),
    'Failed',
    /Progress deadline exceeded/,
  ],
  ['Deployment ready', deploy({ replicas: 2 }, readyDeployStatus), 'Current', /Deployment is available. Replicas: 2/],
  // StatefulSet
  [
    'StatefulSet revision mismatch',
    {
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata: { name: 's' },
      spec: { replicas: 1 },
      status: { replicas: 1, readyReplicas: 1, currentReplicas: 1, updatedReplicas: 1, currentRevision: 'a', updateRevision: 'b' },
    },
    'InProgress',
    /Waiting for updated revision b/,
  ],
  [
    'StatefulSet ready',
    {
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata: { name: 's' },
      spec: { replicas: 1 },
      status: { replicas: 1, readyReplicas: 1, currentReplicas: 1, updatedReplicas: 1, currentRevision: 'a', updateRevision: 'a' },
    },
    'Current',
  ],
  [
    'StatefulSet partitioned',
    {
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata: { name: 's' },
      spec: { replicas: 3, updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 2 } } },
      status: { replicas: 3, readyReplicas: 3, updatedReplicas: 1 },
    },
    'Current',
    /Partitioned/,
  ],
  ['StatefulSet OnDelete', { apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name: 's' }, spec: { updateStrategy: { type: 'OnDelete' } } }, 'Current'],
  // DaemonSet
  ['DaemonSet without status', { apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: { name: 'd' } }, 'InProgress', /desiredNumberScheduled/],
  [
    'DaemonSet not ready',
    { apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: { name: 'd' }, status: { desiredNumberScheduled: 2, currentNumberScheduled: 2, updatedNumberScheduled: 2, numberAvailable: 2, numberReady: 1 } },
    'InProgress',
    /Ready: 1\/2/,
  ],
  [
    'DaemonSet ready',
    { apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: { name: 'd' }, status: { desiredNumberScheduled: 2, currentNumberScheduled: 2, updatedNumberScheduled: 2, numberAvailable: 2, numberReady: 2 } },
    'Current',
  ],
  // ReplicaSet
  [
    'ReplicaSet failure condition',
    { apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name: 'r' }, spec: { replicas: 1 }, status: { conditions: [cond('ReplicaFailure', 'True')] } },
    'InProgress',
    /Replica Failure/,
  ],
  [
    'ReplicaSet ready',
    { apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name: 'r' }, spec: { replicas: 1 }, status: { replicas: 1, fullyLabeledReplicas: 1, availableReplicas: 1, readyReplicas: 1 } },
    'Current',
  ],
  // Job (Flux's reader: Current only when Complete)
  ['Job not started', { apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'j' }, spec: {} }, 'InProgress', /not started/],
  [
    'Job running is not current',
    { apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'j' }, status: { startTime: '2026-01-01T00:00:00Z', active: 1 } },
    'InProgress',
    /Job in progress/,
  ],
  [
    'Job complete',
    { apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'j' }, status: { succeeded: 1, conditions: [cond('Complete', 'True')] } },
    'Current',
    /Job Completed. succeeded: 1\/1/,
  ],
  [
    'Job failed',
    { apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'j' }, status: { failed: 3, conditions: [cond('Failed', 'True', 'BackoffLimitExceeded')] } },
    'Failed',
    /Job Failed/,
  ],
  // Service
  ['ClusterIP Service', { apiVersion: 'v1', kind: 'Service', metadata: { name: 's' }, spec: { clusterIP: '10.0.0.3' } }, 'Current'],
  ['LoadBalancer without ingress', { apiVersion: 'v1', kind: 'Service', metadata: { name: 's' }, spec: { type: 'LoadBalancer', clusterIP: '10.0.0.3' } }, 'InProgress', /ingress/],
  [
    'LoadBalancer with ingress',
    { apiVersion: 'v1', kind: 'Service', metadata: { name: 's' }, spec: { type: 'LoadBalancer', clusterIP: '10.0.0.3' }, status: { loadBalancer: { ingress: [{ ip: '1.2.3.4' }] } } },
    'Current',
  ],
  // PVC, Pod, CRD, Namespace
  ['PVC pending', { apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'p' }, status: { phase: 'Pending' } }, 'InProgress', /Pending/],
  ['PVC bound', { apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'p' }, status: { phase: 'Bound' } }, 'Current'],
  ['Pod pending', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, status: { phase: 'Pending' } }, 'InProgress'],
  ['Pod running ready', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, status: { phase: 'Running', conditions: [cond('Ready', 'True')] } }, 'Current'],
  ['Pod succeeded', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, status: { phase: 'Succeeded' } }, 'Current'],
  ['Pod failed', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, status: { phase: 'Failed' } }, 'Failed'],
  [
    'Pod crash looping',
    { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, status: { phase: 'Running', containerStatuses: [{ state: { waiting: { reason: 'CrashLoopBackOff' } } }] } },
    'Failed',
    /crashing/,
  ],
  ['CRD installing', { apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', metadata: { name: 'x' } }, 'InProgress', /Install in progress/],
  [
    'CRD established',
    { apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', metadata: { name: 'x' }, status: { conditions: [cond('NamesAccepted', 'True'), cond('Established', 'True')] } },
    'Current',
  ],
  [
    'CRD names not accepted',
    { apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', metadata: { name: 'x' }, status: { conditions: [cond('NamesAccepted', 'False', 'X', 'conflict')] } },
    'Failed',
    /conflict/,
  ],
  ['Namespace active', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'n' }, status: { phase: 'Active' } }, 'Current'],
  ['Namespace terminating', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'n' }, status: { phase: 'Terminating' } }, 'InProgress'],
  // generic
  ['custom resource without status', { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w', generation: 3 } }, 'Current'],
  ['custom resource generation behind', { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w', generation: 3 }, status: { observedGeneration: 2 } }, 'InProgress', /Widget generation is 3/],
  [
    'custom resource Reconciling',
    { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w' }, status: { conditions: [cond('Reconciling', 'True', 'Progressing', 'working on it')] } },
    'InProgress',
    /working on it/,
  ],
  [
    'custom resource Stalled',
    { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w' }, status: { conditions: [cond('Stalled', 'True', 'Broken', 'it broke')] } },
    'Failed',
    /it broke/,
  ],
  [
    'custom resource Ready=False',
    { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w' }, status: { conditions: [cond('Ready', 'False', 'BuildFailed', 'build failed')] } },
    'InProgress',
    /build failed/,
  ],
  [
    'custom resource Ready=True',
    { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w', generation: 2 }, status: { observedGeneration: 2, conditions: [cond('Ready', 'True', 'Ok', 'all good')] } },
    'Current',
  ],
  ['junk conditions are ignored', { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w' }, status: { conditions: ['x', 1, null] } }, 'Current'],
];

for (const [title, obj, status, message] of rows) {
  test(`computeStatus: ${title}`, (t) => {
    const got = computeStatus(obj);
    t.is(got.status, status, got.message);
    if (message) t.regex(got.message, message);
  });
}
