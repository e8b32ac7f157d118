/**
 * The controller's Kubernetes client: raw-JSON REST with KubeConfig auth, impersonation and discovery.
 */
export { KubeClient, refOf } from './client.js';
export type { KubeClientOptions, RequestOptions } from './client.js';
export type { KubeResult, ResourceMapping, ObjectRef, ObjectList, JsonObject, JsonValue } from './types.js';
export { splitApiVersion } from './types.js';
export { apiPath, pathSegment, pathSegmentProblem, InvalidPathSegmentError } from './paths.js';
export type { ApiPath } from './paths.js';
export type { MappingResult } from './discovery.js';
