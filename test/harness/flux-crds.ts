/**
 * Installs the Flux source CRDs (`source.toolkit.fluxcd.io/v1`) from the pinned
 * source-controller module in the Go module cache, by server-side apply, and waits until
 * they are Established.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parseAllDocuments } from "yaml";
import type { ControlPlane } from "./control-plane.js";
import { serverSideApply } from "./kube-request.js";
import { waitFor } from "./processes.js";
import { sourceControllerCrdDir } from "./tools.js";

/** The Flux source API group and version served by the pinned source-controller. */
export const SOURCE_API_VERSION = "source.toolkit.fluxcd.io/v1";

/** Resource (plural) names of the source kinds the harness patches. */
export const SOURCE_PLURALS = {
  GitRepository: "gitrepositories",
  OCIRepository: "ocirepositories",
  Bucket: "buckets",
} as const;

/** A source kind the harness knows the plural of. */
export type SourceKind = keyof typeof SOURCE_PLURALS;

interface Crd {
  metadata: { name: string };
  spec: { names: { kind: string } };
}

/** Options for {@link installFluxSourceCRDs}. */
export interface InstallCrdsCfg {
  /**
   * Kinds to install. Default: every CRD the module ships (GitRepository, OCIRepository, Bucket,
   * HelmRepository, HelmChart, ExternalArtifact), which the real source-controller needs to start.
   */
  kinds?: readonly string[];
}

/** Applies the source CRDs as field manager `kclrun-test` and waits for Established; returns their names. */
export async function installFluxSourceCRDs(cp: ControlPlane, cfg: InstallCrdsCfg = {}): Promise<string[]> {
  const dir = sourceControllerCrdDir();
  const crds: Crd[] = readdirSync(dir)
    .filter((f) => f.endsWith(".yaml"))
    .flatMap((f) => parseAllDocuments(readFileSync(join(dir, f), "utf8")).map((d) => d.toJS() as Crd | null))
    .filter((c): c is Crd => !!c && (!cfg.kinds || cfg.kinds.includes(c.spec.names.kind)));
  for (const crd of crds) {
    await serverSideApply(cp.admin, `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${crd.metadata.name}`, crd, { fieldManager: "kclrun-test" });
  }
  for (const crd of crds) {
    await waitFor(async () => {
      const res = await cp.request<{ status?: { conditions?: { type: string; status: string }[] } }>(
        "GET", `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${crd.metadata.name}`);
      return !!res.body?.status?.conditions?.some((c) => c.type === "Established" && c.status === "True");
    }, { what: `CRD ${crd.metadata.name} Established`, timeoutMs: 30_000 });
  }
  return crds.map((c) => c.metadata.name);
}
