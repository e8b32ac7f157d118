/**
 * The install manifests (`kclrun install | kubectl apply -f -`): the KCLRun CRD, a namespace, a dedicated
 * ServiceAccount with RBAC limited to what the controller does, and a hardened Deployment. The image tag is the
 * kclrun version, so `kclrun --version`, the image and the manifests agree.
 */
import { CONTROLLER_NAME, GROUP, PLURAL, SOURCE_GROUP } from './api/group.js';
import { kclRunCRD } from './api/crd.js';
import { SHARD_KEY, UNSHARDED_SELECTOR, shardSelector } from './label-selector.js';

/** Install settings. */
export interface InstallOptions {
  version: string;
  namespace?: string;
  /** Image repository (default ghcr.io/kclrun/kclrun); the tag is the version. */
  image?: string;
  /**
   * Shard names (Flux's sharding): one more Deployment per shard, reconciling the KCLRuns labelled
   * `sharding.fluxcd.io/key: NAME`; the main Deployment then takes only the KCLRuns without that label.
   */
  shards?: string[];
}

/** A shard name: a DNS label short enough to suffix the Deployment name. */
export const SHARD_NAME = /^[a-z0-9]([-a-z0-9]{0,38}[a-z0-9])?$/;

const VERBS_ALL = ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'];
const READ = ['get', 'list', 'watch'];

/** What the controller itself does: its own API, sources, argument references, events, leases, impersonation. */
function managerRules(): unknown[] {
  return [
    { apiGroups: [GROUP], resources: [PLURAL], verbs: VERBS_ALL },
    { apiGroups: [GROUP], resources: [`${PLURAL}/status`], verbs: ['get', 'update', 'patch'] },
    { apiGroups: [GROUP], resources: [`${PLURAL}/finalizers`], verbs: ['create', 'delete', 'get', 'patch', 'update'] },
    { apiGroups: [SOURCE_GROUP], resources: ['gitrepositories', 'ocirepositories', 'buckets'], verbs: READ },
    { apiGroups: [SOURCE_GROUP], resources: ['gitrepositories/status', 'ocirepositories/status', 'buckets/status'], verbs: ['get'] },
    { apiGroups: [''], resources: ['configmaps', 'secrets', 'serviceaccounts'], verbs: READ },
    { apiGroups: [''], resources: ['events'], verbs: ['create', 'patch'] },
    { apiGroups: ['events.k8s.io'], resources: ['events'], verbs: ['create', 'patch'] },
    { apiGroups: [''], resources: ['serviceaccounts'], verbs: ['impersonate'] },
  ];
}

/**
 * What applying typical application manifests needs. Deliberately not cluster-admin: to let KCLRuns manage other
 * kinds (RBAC, CRDs, …), bind more to this ServiceAccount, or give each tenant's KCLRun a `serviceAccountName`.
 */
function reconcilerRules(): unknown[] {
  return [
    { apiGroups: [''], resources: ['configmaps', 'secrets', 'services', 'serviceaccounts', 'persistentvolumeclaims', 'namespaces', 'limitranges', 'resourcequotas'], verbs: VERBS_ALL },
    { apiGroups: ['apps'], resources: ['deployments', 'statefulsets', 'daemonsets', 'replicasets'], verbs: VERBS_ALL },
    { apiGroups: ['batch'], resources: ['jobs', 'cronjobs'], verbs: VERBS_ALL },
    { apiGroups: ['autoscaling'], resources: ['horizontalpodautoscalers'], verbs: VERBS_ALL },
    { apiGroups: ['policy'], resources: ['poddisruptionbudgets'], verbs: VERBS_ALL },
    { apiGroups: ['networking.k8s.io'], resources: ['ingresses', 'networkpolicies'], verbs: VERBS_ALL },
    { apiGroups: [''], resources: ['pods'], verbs: READ },
  ];
}

/** The install manifests, in apply order. */
export function installManifests(opts: InstallOptions): Record<string, unknown>[] {
  const ns = opts.namespace ?? 'kclrun-system';
  const name = CONTROLLER_NAME;
  const labels = { 'app.kubernetes.io/name': 'kclrun', 'app.kubernetes.io/component': 'controller', 'app.kubernetes.io/version': opts.version };
  const image = `${opts.image ?? 'ghcr.io/kclrun/kclrun'}:${opts.version}`;
  const subject = [{ kind: 'ServiceAccount', name, namespace: ns }];
  for (const shard of opts.shards ?? []) if (!SHARD_NAME.test(shard)) throw new RangeError(`invalid shard name "${shard}"`);
  return [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns, labels: { 'app.kubernetes.io/name': 'kclrun', 'pod-security.kubernetes.io/enforce': 'restricted' } } },
    kclRunCRD(),
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name, namespace: ns, labels } },
    { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: `${name}-manager`, labels }, rules: managerRules() },
    { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: `${name}-reconciler`, labels }, rules: reconcilerRules() },
    { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: { name: `${name}-manager`, labels }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: `${name}-manager` }, subjects: subject },
    { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: { name: `${name}-reconciler`, labels }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: `${name}-reconciler` }, subjects: subject },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: { name: `${name}-leader-election`, namespace: ns, labels },
      rules: [{ apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: VERBS_ALL }],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: `${name}-leader-election`, namespace: ns, labels },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: `${name}-leader-election` },
      subjects: subject,
    },
    controllerDeployment(ns, name, labels, image, opts.shards?.length ? UNSHARDED_SELECTOR : undefined),
    ...(opts.shards ?? []).map((shard) => {
      const shardLabels = { ...labels, 'app.kubernetes.io/component': 'controller-shard', [SHARD_KEY]: shard };
      return controllerDeployment(ns, `${name}-${shard}`, shardLabels, image, shardSelector(shard));
    }),
  ];
}

/**
 * The controller Deployment; `selector` becomes `--watch-label-selector` (the Lease name is derived from it, so
 * shards do not compete for one Lease). Pod selectors do not overlap: shards carry their own component and key.
 */
function controllerDeployment(
  ns: string,
  name: string,
  labels: Record<string, string>,
  image: string,
  selector?: string,
): Record<string, unknown> {
  const selectorLabels = Object.fromEntries(Object.entries(labels).filter(([k]) => k !== 'app.kubernetes.io/version'));
  // Two engine workers of at most 512Mi each (--render-memory-limit), within the container's memory limit: the
  // CPU count Node sees is the node's, not the container's, so the worker count is set here.
  // The package cache lives on the pod's /tmp volume, so a restarted container keeps what it downloaded.
  const args = ['controller', '--enable-leader-election', '--watch-all-namespaces', '--log-level=info', '--metrics-addr=:8080', '--health-addr=:9440', '--render-workers=2', '--kcl-pkg-cache=/tmp/kcl-packages'];
  if (selector) args.push(`--watch-label-selector=${selector}`);
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: ns, labels },
    spec: {
      replicas: 1,
      selector: { matchLabels: selectorLabels },
      template: {
        metadata: { labels, annotations: { 'prometheus.io/scrape': 'true', 'prometheus.io/port': '8080' } },
        spec: {
          serviceAccountName: CONTROLLER_NAME,
          terminationGracePeriodSeconds: 60,
          securityContext: { runAsNonRoot: true, runAsUser: 65532, runAsGroup: 65532, fsGroup: 1337, seccompProfile: { type: 'RuntimeDefault' } },
          containers: [
            {
              name: 'manager',
              image,
              imagePullPolicy: 'IfNotPresent',
              args,
              env: [{ name: 'RUNTIME_NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } }],
              ports: [
                { name: 'http-prom', containerPort: 8080, protocol: 'TCP' },
                { name: 'healthz', containerPort: 9440, protocol: 'TCP' },
              ],
              livenessProbe: { httpGet: { path: '/healthz', port: 'healthz' } },
              readinessProbe: { httpGet: { path: '/readyz', port: 'healthz' } },
              resources: { limits: { cpu: '2', memory: '1536Mi' }, requests: { cpu: '100m', memory: '256Mi' } },
              securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } },
              volumeMounts: [{ name: 'temp', mountPath: '/tmp' }],
            },
          ],
          volumes: [{ name: 'temp', emptyDir: {} }],
        },
      },
    },
  };
}
