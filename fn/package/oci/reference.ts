/**
 * `oci://host[:port]/repository[:tag]` references. Unlike krm-kcl, which cuts at the first `:` after the scheme
 * (so a registry port is taken for a tag), the tag is what follows the last `:` after the last `/`.
 */

/** A parsed reference. */
export interface OciRef {
  /** `host` or `host:port`. */
  registry: string;
  /** Path below the registry, e.g. `kcl-lang/k8s`. */
  repository: string;
  tag?: string;
}

/** A reference that is not `oci://host/repository[:tag]`. */
export class OciRefError extends Error {
  override name = 'OciRefError';
  constructor(
    readonly ref: string,
    reason: string,
  ) {
    super(`invalid OCI reference "${ref}": ${reason}`);
  }
}

// The distribution spec's grammar (distribution/reference): lower-case path components, tags of word characters.
const HOST = /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*|\[[0-9a-fA-F:]+\])(?::[0-9]{1,5})?$/;
const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[\w][\w.-]{0,127}$/;

/** True for a repository path the distribution spec allows. */
export function isRepository(repository: string): boolean {
  return repository.split('/').every((c) => COMPONENT.test(c));
}

/** True for a tag the distribution spec allows. */
export function isTag(tag: string): boolean {
  return TAG.test(tag);
}

/** True for a `host[:port]` registry name. */
export function isRegistry(registry: string): boolean {
  return HOST.test(registry);
}

/** Parses `oci://host[:port]/repo[:tag]` (the `oci://` prefix is optional). `tag`, if given, must not be in `ref` too. */
export function parseOciRef(ref: string, tag?: string): OciRef {
  const rest = ref.startsWith('oci://') ? ref.slice('oci://'.length) : ref;
  const slash = rest.indexOf('/');
  if (slash <= 0) throw new OciRefError(ref, 'expected oci://host/repository[:tag]');
  const registry = rest.slice(0, slash);
  let repository = rest.slice(slash + 1);
  const colon = repository.lastIndexOf(':');
  let inlineTag: string | undefined;
  if (colon >= 0) {
    inlineTag = repository.slice(colon + 1);
    repository = repository.slice(0, colon);
  }
  if (inlineTag !== undefined && tag !== undefined) throw new OciRefError(ref, `a tag is given twice (${inlineTag} and ${tag})`);
  const t = inlineTag ?? tag;
  if (!isRegistry(registry)) throw new OciRefError(ref, `"${registry}" is not a registry host[:port]`);
  if (!isRepository(repository)) throw new OciRefError(ref, `"${repository}" is not a repository (lower-case path components)`);
  if (t !== undefined && !isTag(t)) throw new OciRefError(ref, `"${t}" is not a tag`);
  return { registry, repository, ...(t !== undefined && { tag: t }) };
}

/** `oci://host/repo[:tag]`. */
export function formatOciRef(ref: OciRef): string {
  return `oci://${ref.registry}/${ref.repository}${ref.tag !== undefined ? `:${ref.tag}` : ''}`;
}
