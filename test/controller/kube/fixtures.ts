/**
 * Shared helpers for the cluster-library e2e tests: clients for the harness control plane and manifest builders.
 */
import { randomBytes } from 'node:crypto';
import { KubeClient } from '../../../controller/kube/index.js';
import type { JsonObject } from '../../../controller/kube/index.js';
import { loadKubeConfig } from '../../../controller/kube/kubeconfig.js';
import type { ControlPlane } from '../../harness/control-plane.js';

/** A KubeClient authenticating with the admin bearer token. */
export function adminClient(cp: ControlPlane): KubeClient {
  return new KubeClient({ kubeConfig: loadKubeConfig(cp.kubeconfigPath), userAgent: 'kclrun-test' });
}

/** A KubeClient authenticating with a client certificate for `user` (no RBAC grants). */
export async function certClient(cp: ControlPlane, user: string, groups: string[] = []): Promise<KubeClient> {
  return new KubeClient({ kubeConfig: loadKubeConfig(await cp.userKubeconfig(user, groups)) });
}

/** A short random suffix. */
export function rand(): string {
  return randomBytes(3).toString('hex');
}

/** A ConfigMap manifest. */
export function configMap(namespace: string, name: string, data: Record<string, string>, extra: JsonObject = {}): JsonObject {
  const { metadata, ...rest } = extra as { metadata?: JsonObject };
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace, ...(metadata ?? {}) }, data, ...rest };
}

/** A namespaced CRD `<plural>.<group>` with kind `kind`, served at `v1`, schema-less (preserve unknown fields). */
export function crd(group: string, kind: string): JsonObject {
  const plural = `${kind.toLowerCase()}s`;
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${plural}.${group}` },
    spec: {
      group,
      scope: 'Namespaced',
      names: { kind, plural, singular: kind.toLowerCase(), listKind: `${kind}List` },
      versions: [
        {
          name: 'v1',
          served: true,
          storage: true,
          schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } },
        },
      ],
    },
  };
}

/** A Deployment manifest with one nginx container. */
export function deployment(namespace: string, name: string): JsonObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'web', image: 'nginx:1.27' }] } },
    },
  };
}

/** The labels of a live object. */
export function labelsOf(obj: JsonObject): Record<string, string> {
  return ((obj['metadata'] as JsonObject)['labels'] ?? {}) as Record<string, string>;
}

/** The uid of a live object. */
export function uidOf(obj: JsonObject): string {
  return String((obj['metadata'] as JsonObject)['uid']);
}
