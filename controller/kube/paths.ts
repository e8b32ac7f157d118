/**
 * API paths built from segments, the only way the controller turns data (KCLRun fields, rendered objects, inventory
 * ids, discovery results) into a URL path. Each segment is checked as client-go's `IsValidPathSegmentName` does —
 * never `.` or `..`, never containing `/` or `%` — and must not be empty, then percent-encoded. A name that would
 * change which object a path addresses (`../../other/secrets/top`) is refused with an {@link InvalidPathSegmentError}.
 */

/** Where an API path points: a group-version (discovery), a collection, an object, or an object's subresource. */
export interface ApiPath {
  /** API group, `''` for the core group (`/api/v1`). */
  group: string;
  version: string;
  /** Namespace of a namespaced collection or object. */
  namespace?: string;
  /** Plural resource name, e.g. `configmaps`. Required with `name`. */
  resource?: string;
  name?: string;
  /** e.g. `status`. Requires `name`. */
  subresource?: string;
}

/** A path segment that would not address what it names. */
export class InvalidPathSegmentError extends Error {
  override readonly name = 'InvalidPathSegmentError';

  /**
   * @param role what the segment holds (`name`, `namespace`, `version`…)
   * @param segment the refused value
   * @param problem why, in client-go's words (`may not be '..'`)
   */
  constructor(
    readonly role: string,
    readonly segment: string,
    readonly problem: string,
  ) {
    super(`invalid ${role} ${JSON.stringify(segment.length > 100 ? `${segment.slice(0, 100)}…` : segment)} in API path: ${problem}`);
  }
}

/** Why `segment` cannot be one path segment, or undefined when it can (client-go's `IsValidPathSegmentName`, plus empty). */
export function pathSegmentProblem(segment: string): string | undefined {
  if (segment === '') return 'may not be empty';
  if (segment === '.' || segment === '..') return `may not be '${segment}'`;
  if (segment.includes('/')) return "may not contain '/'";
  if (segment.includes('%')) return "may not contain '%'";
  return undefined;
}

/** The encoded segment; throws {@link InvalidPathSegmentError} when it is refused. */
export function pathSegment(role: string, segment: string): string {
  const problem = pathSegmentProblem(segment);
  if (problem) throw new InvalidPathSegmentError(role, segment, problem);
  return encodeURIComponent(segment);
}

/**
 * The REST path of `p`: `/api/<version>` or `/apis/<group>/<version>`, then `namespaces/<namespace>`, `<resource>`,
 * `<name>`, `<subresource>` as far as given. Throws {@link InvalidPathSegmentError} for a refused segment.
 */
export function apiPath(p: ApiPath): string {
  if (p.name !== undefined && p.resource === undefined) throw new TypeError('apiPath: name without resource');
  if (p.subresource !== undefined && p.name === undefined) throw new TypeError('apiPath: subresource without name');
  const segments = p.group === '' ? ['api'] : ['apis', pathSegment('group', p.group)];
  segments.push(pathSegment('version', p.version));
  if (p.namespace !== undefined) segments.push('namespaces', pathSegment('namespace', p.namespace));
  if (p.resource !== undefined) segments.push(pathSegment('resource', p.resource));
  if (p.name !== undefined) segments.push(pathSegment('name', p.name));
  if (p.subresource !== undefined) segments.push(pathSegment('subresource', p.subresource));
  return `/${segments.join('/')}`;
}
