/**
 * Serves Flux-style source artifacts on loopback: a `.tar.gz` of the content root (no wrapper
 * directory, packed like source-controller: see tarball.ts) plus the `status.artifact` fields that describe it,
 * and a helper that patches those into a source object as field manager `source-controller`.
 */
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import type { ControlPlane } from "./control-plane.js";
import { SOURCE_API_VERSION, SOURCE_PLURALS, type SourceKind } from "./flux-crds.js";
import { serverSideApply } from "./kube-request.js";
import { packDirectory } from "./tarball.js";

/** `status.artifact` of a Flux source (fluxcd/pkg/apis/meta Artifact). */
export interface Artifact {
  /** Download URL. */
  readonly url: string;
  /** Source revision, e.g. `main@sha1:<40 hex>`. */
  readonly revision: string;
  /** `sha256:<hex>` of the tarball bytes. */
  readonly digest: string;
  /** Tarball size in bytes. */
  readonly size: number;
  /** RFC 3339 timestamp. */
  readonly lastUpdateTime: string;
  /** Storage-relative path, `<kind>/<namespace>/<name>/<digest hex>.tar.gz`. */
  readonly path: string;
}

/** Options for {@link serveArtifact}. */
export interface ServeArtifactCfg {
  /** Revision to report. Default `sha256:<digest hex>`. */
  revision?: string;
  /** Source kind/namespace/name used in `path`. Default `GitRepository`, `default`, `artifact`. */
  kind?: SourceKind;
  /** Namespace segment of `path`. */
  namespace?: string;
  /** Name segment of `path`. */
  name?: string;
}

/** File contents by relative path, or a directory to pack. */
export type ArtifactContent = string | Readonly<Record<string, string | Uint8Array>>;

let server: Server | undefined;
let baseUrl: Promise<string> | undefined;
const blobs = new Map<string, Buffer>();

function ensureServer(): Promise<string> {
  baseUrl ??= new Promise((resolve, reject) => {
    server = createServer((req, res) => {
      const blob = blobs.get(new URL(req.url ?? "/", "http://x").pathname);
      if (!blob || (req.method !== "GET" && req.method !== "HEAD")) {
        res.writeHead(404).end("not found\n");
        return;
      }
      res.writeHead(200, { "Content-Type": "application/gzip", "Content-Length": blob.length });
      res.end(req.method === "HEAD" ? undefined : blob);
    });
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const addr = server?.address();
      server?.unref();
      resolve(`http://127.0.0.1:${typeof addr === "object" && addr ? addr.port : 0}`);
    });
  });
  return baseUrl;
}

async function materialize(files: Readonly<Record<string, string | Uint8Array>>): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), "kclrun-artifact-"));
  for (const [rel, data] of Object.entries(files)) {
    const path = join(dir, rel);
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, data);
  }
  return dir;
}

/**
 * Packs `content` (a directory, or files by relative path) and serves it on 127.0.0.1.
 * The returned object is ready to be patched into `status.artifact`.
 */
export async function serveArtifact(content: ArtifactContent, cfg: ServeArtifactCfg = {}): Promise<Artifact> {
  const dir = typeof content === "string" ? content : await materialize(content);
  let bytes: Buffer;
  try {
    if (!statSync(dir).isDirectory()) throw new Error(`serveArtifact: ${dir} is not a directory`);
    bytes = packDirectory(dir);
  } finally {
    if (typeof content !== "string") rmSync(dir, { recursive: true, force: true });
  }
  const hex = createHash("sha256").update(bytes).digest("hex");
  const path = `${(cfg.kind ?? "GitRepository").toLowerCase()}/${cfg.namespace ?? "default"}/${cfg.name ?? "artifact"}/${hex}.tar.gz`;
  blobs.set(`/${path}`, bytes);
  return {
    url: `${await ensureServer()}/${path}`,
    revision: cfg.revision ?? `sha256:${hex}`,
    digest: `sha256:${hex}`,
    size: bytes.length,
    lastUpdateTime: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
    path,
  };
}

/** Stops serving artifacts (the server is unref'd, so this is optional). */
export async function closeArtifactServer(): Promise<void> {
  const s = server;
  server = undefined;
  baseUrl = undefined;
  blobs.clear();
  if (s) await new Promise<void>((r) => s.close(() => r()));
}

/**
 * Sets `status.artifact`, `status.observedGeneration` and a `Ready=True` condition on a source
 * object (at `apiVersion`, default v1) by server-side apply to its status subresource, as field manager
 * `source-controller`.
 * Returns the updated object.
 */
export async function patchSourceArtifact(
  cp: ControlPlane, kind: SourceKind, namespace: string, name: string, artifact: Artifact, apiVersion: string = SOURCE_API_VERSION,
): Promise<unknown> {
  const path = `/apis/${apiVersion}/namespaces/${namespace}/${SOURCE_PLURALS[kind]}/${name}`;
  const current = await cp.request<{ metadata?: { generation?: number } }>("GET", path);
  if (!current.ok) throw new Error(`patchSourceArtifact: GET ${path}: HTTP ${current.status}: ${current.text}`);
  const generation = current.body.metadata?.generation ?? 1;
  const status = {
    observedGeneration: generation,
    artifact,
    conditions: [{
      type: "Ready", status: "True", reason: "Succeeded", observedGeneration: generation,
      lastTransitionTime: artifact.lastUpdateTime, message: `stored artifact for revision '${artifact.revision}'`,
    }],
  };
  return serverSideApply(cp.admin, path, { apiVersion, kind, metadata: { name, namespace }, status }, {
    fieldManager: "source-controller", subresource: "status",
  });
}

/** sha256 of a file's bytes as `sha256:<hex>` (what a consumer compares against `digest`). */
export function fileDigest(path: string): string {
  return `sha256:${createHash("sha256").update(readFileSync(path)).digest("hex")}`;
}
