/**
 * Which version of the Flux source API to read a source kind at, found by API discovery rather than configured:
 * `v1`, else — for OCIRepository on Flux < 2.6, which serves it at `v1beta2` only — `v1beta2`. An explicit
 * `sourceRef.apiVersion` must be one of the versions kclrun reads for that kind.
 */
import type { KubeClient } from './kube/client.js';
import { SOURCE_GROUP, SOURCE_VERSIONS, type SourceKind } from './api/group.js';

/** The served version of `kind`, in kclrun's order of preference; the first one when discovery finds none. */
export async function discoverSourceVersion(client: KubeClient, kind: SourceKind): Promise<string> {
  const versions = SOURCE_VERSIONS[kind];
  for (const v of versions) if (await client.mapping(`${SOURCE_GROUP}/${v}`, kind)) return v;
  return versions[0];
}

/**
 * The version to read a KCLRun's source at: the one `apiVersion` names (when kclrun reads `kind` at it), else the
 * discovered one; `{ error }` for an apiVersion kclrun cannot read.
 */
export async function sourceVersionFor(
  client: KubeClient,
  kind: SourceKind,
  apiVersion: string | undefined,
): Promise<{ version: string } | { error: string }> {
  if (!apiVersion) return { version: await discoverSourceVersion(client, kind) };
  const versions: readonly string[] = SOURCE_VERSIONS[kind];
  const v = apiVersion.startsWith(`${SOURCE_GROUP}/`) ? apiVersion.slice(SOURCE_GROUP.length + 1) : undefined;
  if (v === undefined || !versions.includes(v)) {
    return { error: `unsupported source API version ${apiVersion} for ${kind}: use ${versions.map((x) => `${SOURCE_GROUP}/${x}`).join(' or ')}` };
  }
  return { version: v };
}
