/**
 * Installs Flux CRDs from the pinned controller modules in the Go module cache, by server-side
 * apply, and waits until they are Established: the source CRDs (`source.toolkit.fluxcd.io/v1`)
 * and the notification CRDs (`notification.toolkit.fluxcd.io`: Provider, Alert, Receiver).
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parseAllDocuments } from "yaml";
import type { ControlPlane } from "./control-plane.js";
import { serverSideApply } from "./kube-request.js";
import { waitFor } from "./processes.js";
import { kustomizeControllerCrdDir, notificationControllerCrdDir, sourceControllerCrdDir } from "./tools.js";

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
  spec: { names: { kind: string }; versions: Array<{ name: string; schema?: { openAPIV3Schema?: unknown } }> };
}

/** The CRDs in the YAML files of `dir`. */
function readCrds(dir: string): Crd[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith(".yaml"))
    .flatMap((f) => parseAllDocuments(readFileSync(join(dir, f), "utf8")).map((d) => d.toJS() as Crd | null))
    .filter((c): c is Crd => !!c);
}

/** Applies `crds` as field manager `kclrun-test` and waits until each is Established. */
async function applyCrds(cp: ControlPlane, crds: readonly Crd[]): Promise<void> {
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
  const crds = readCrds(sourceControllerCrdDir()).filter((c) => !cfg.kinds || cfg.kinds.includes(c.spec.names.kind));
  await applyCrds(cp, crds);
  return crds.map((c) => c.metadata.name);
}

/** Options for {@link installFluxNotificationCRDs}. */
export interface InstallNotificationCrdsCfg {
  /**
   * Kinds added to the Alert CRD's `eventSources[].kind` enum, which lists only Flux's own kinds.
   * This is the patch Flux documents for third-party controllers ("Enable notifications for third
   * party controllers"). Default: `["KCLRun"]`.
   */
  eventSourceKinds?: readonly string[];
}

/** The `eventSources[].kind` schema of every version of the Alert CRD. */
function alertEventSourceKinds(crd: Crd): Array<{ enum?: string[] }> {
  type Props = { properties?: Record<string, Props & { items?: Props; enum?: string[] }> };
  return crd.spec.versions.flatMap((v) => {
    const kind = (v.schema?.openAPIV3Schema as Props | undefined)?.properties?.["spec"]?.properties?.["eventSources"]?.items?.properties?.["kind"];
    return kind ? [kind] : [];
  });
}

/**
 * Installs the notification CRDs (Provider, Alert, Receiver) from the pinned notification-controller
 * module, with the Alert's event source kinds extended; returns their names.
 */
export async function installFluxNotificationCRDs(cp: ControlPlane, cfg: InstallNotificationCrdsCfg = {}): Promise<string[]> {
  const crds = readCrds(notificationControllerCrdDir());
  const alert = crds.find((c) => c.spec.names.kind === "Alert");
  const kinds = alert ? alertEventSourceKinds(alert) : [];
  if (kinds.length === 0 || kinds.some((k) => !k.enum)) {
    throw new Error("kclrun harness: the Alert CRD has no eventSources[].kind enum where expected; the pinned notification-controller changed");
  }
  for (const k of kinds) k.enum = [...new Set([...k.enum!, ...(cfg.eventSourceKinds ?? ["KCLRun"])])];
  await applyCrds(cp, crds);
  return crds.map((c) => c.metadata.name);
}

/** Applies the Flux Kustomization CRD (kustomize-controller, the bench's peer) and waits for Established. */
export async function installFluxKustomizeCRDs(cp: ControlPlane): Promise<string[]> {
  const crds = readCrds(kustomizeControllerCrdDir());
  await applyCrds(cp, crds);
  return crds.map((c) => c.metadata.name);
}
