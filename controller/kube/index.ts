/**
 * The controller's Kubernetes client: raw-JSON REST with KubeConfig auth, impersonation, discovery and watches.
 */
export { KubeClient, refOf } from './client.js';
export type { KubeClientOptions, RequestOptions, WatchEnd, WatchEvent, WatchOptions } from './client.js';
export { inClusterConfig, KubeconfigInvalidError, KubeconfigLoadError, loadKubeConfig } from './kubeconfig.js';
export type { ClusterConfig, ExecConfig, KubeConfig, UserConfig } from './kubeconfig.js';
export type { KubeResult, ResourceMapping, ObjectRef, ObjectList, JsonObject, JsonValue } from './types.js';
export { splitApiVersion } from './types.js';
export { apiPath, pathSegment, pathSegmentProblem, InvalidPathSegmentError } from './paths.js';
export type { ApiPath } from './paths.js';
export type { MappingResult } from './discovery.js';
