/**
 * The artifact helper: a consumer downloading the served tarball computes the advertised digest
 * and finds the content at the archive root; patching it into a real GitRepository's status
 * subresource is recorded as field manager `source-controller`.
 */
import test from "ava";
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { extract, list } from "tar";
import { newNamespace, useControlPlane } from "./ava.js";
import { closeArtifactServer, patchSourceArtifact, serveArtifact } from "./artifact-server.js";
import { SOURCE_API_VERSION } from "./flux-crds.js";
import { serverSideApply } from "./kube-request.js";

const cp = useControlPlane(test, { fluxSourceCrds: true });
test.after.always(closeArtifactServer);

/** Downloads `url` like a Flux consumer: raw bytes, sha256 over exactly those bytes. */
async function download(url: string): Promise<{ bytes: Buffer; digest: string }> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`GET ${url}: HTTP ${res.status}`);
  const bytes = Buffer.from(await res.arrayBuffer());
  return { bytes, digest: `sha256:${createHash("sha256").update(bytes).digest("hex")}` };
}

async function entries(bytes: Buffer): Promise<string[]> {
  const names: string[] = [];
  await pipeline(Readable.from([bytes]), list({ onReadEntry: (e) => names.push(e.path) }));
  return names.sort();
}

test("the served artifact's digest and size match the downloaded bytes; files sit at the archive root", async (t) => {
  const artifact = await serveArtifact({ "kcl.mod": "[package]\nname = \"demo\"\n", "main.k": "a = 1\n", "sub/b.k": "b = 2\n" },
    { revision: "main@sha1:0123456789abcdef0123456789abcdef01234567", namespace: "team", name: "demo" });
  const { bytes, digest } = await download(artifact.url);
  t.is(digest, artifact.digest);
  t.is(bytes.length, artifact.size);
  t.regex(artifact.digest, /^sha256:[0-9a-f]{64}$/);
  t.is(artifact.path, `gitrepository/team/demo/${artifact.digest.slice("sha256:".length)}.tar.gz`);
  t.true(artifact.url.startsWith("http://127.0.0.1:"));
  t.is(artifact.revision, "main@sha1:0123456789abcdef0123456789abcdef01234567");
  t.deepEqual(await entries(bytes), [".", "kcl.mod", "main.k", "sub", "sub/b.k"], "source-controller layout: '.', then the walk");
  const missing = await fetch(artifact.url.replace(/[0-9a-f]{64}/, "0".repeat(64)));
  t.is(missing.status, 404, "an unknown artifact is a 404, which Flux consumers read as not-ready");
});

test("a directory is packed without its .git folder and extracts to the same files", async (t) => {
  const src = mkdtempSync(join(tmpdir(), "kclrun-art-src-"));
  const out = mkdtempSync(join(tmpdir(), "kclrun-art-out-"));
  try {
    mkdirSync(join(src, ".git"));
    writeFileSync(join(src, ".git", "HEAD"), "ref: refs/heads/main\n");
    mkdirSync(join(src, "pkg"));
    writeFileSync(join(src, "pkg", "main.k"), "x = 1\n");
    const artifact = await serveArtifact(src);
    t.is(artifact.revision, artifact.digest, "default revision is the digest");
    const { bytes } = await download(artifact.url);
    t.false((await entries(bytes)).some((e) => e.startsWith(".git")));
    await pipeline(Readable.from([bytes]), extract({ cwd: out }));
    t.is(readFileSync(join(out, "pkg", "main.k"), "utf8"), "x = 1\n");
  } finally {
    rmSync(src, { recursive: true, force: true });
    rmSync(out, { recursive: true, force: true });
  }
});

test("patchSourceArtifact sets status.artifact and Ready on a GitRepository as source-controller", async (t) => {
  const ns = await newNamespace(cp(), "artifact");
  const path = `/apis/${SOURCE_API_VERSION}/namespaces/${ns}/gitrepositories/app`;
  await serverSideApply(cp().admin, path, {
    apiVersion: SOURCE_API_VERSION, kind: "GitRepository", metadata: { name: "app", namespace: ns },
    spec: { url: "http://127.0.0.1:1/app.git", interval: "10m", ref: { branch: "main" } },
  }, { fieldManager: "kclrun-test" });
  const artifact = await serveArtifact({ "main.k": "a = 1\n" }, { namespace: ns, name: "app", revision: `main@sha1:${"a".repeat(40)}` });
  await patchSourceArtifact(cp(), "GitRepository", ns, "app", artifact);

  type Repo = { metadata: { generation: number; managedFields: { manager: string; subresource?: string }[] };
    status: { artifact: { url: string }; observedGeneration: number; conditions: { type: string; status: string; reason: string }[] } };
  const repo = (await cp().request<Repo>("GET", path)).body;
  t.deepEqual(repo.status.artifact, { ...artifact });
  t.is(repo.status.observedGeneration, repo.metadata.generation);
  t.like(repo.status.conditions.find((c) => c.type === "Ready"), { status: "True", reason: "Succeeded" });
  const managers = repo.metadata.managedFields.map((m) => `${m.manager}/${m.subresource ?? ""}`).sort();
  t.deepEqual(managers, ["kclrun-test/", "source-controller/status"]);
  const { digest } = await download(repo.status.artifact.url);
  t.is(digest, artifact.digest);
});
