/**
 * End to end with the real Flux source-controller: a GitRepository pointing at the loopback Git
 * server becomes Ready with revision `main@sha1:<commit>`, its artifact downloads with the
 * advertised digest, and a pushed commit produces a new revision.
 */
import test from "ava";
import { createHash } from "node:crypto";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { gunzipSync } from "node:zlib";
import { list } from "tar";
import { closeArtifactServer, serveArtifact } from "./artifact-server.js";
import { newNamespace, useControlPlane } from "./ava.js";
import { SOURCE_API_VERSION } from "./flux-crds.js";
import { startGitServer, type GitServer } from "./git-server.js";
import { serverSideApply } from "./kube-request.js";
import { waitFor } from "./processes.js";
import { startSourceController, type SourceController } from "./source-controller.js";

const cp = useControlPlane(test, { fluxSourceCrds: true });
let git: GitServer | undefined;
let sc: SourceController | undefined;

test.before("start git server and source-controller", async () => {
  git = await startGitServer();
  sc = await startSourceController(await cp.ready());
});
test.after.always("stop source-controller and git server", async () => {
  await sc?.stop();
  await git?.close();
  await closeArtifactServer();
});

interface Condition { type: string; status: string; reason: string; message: string }
interface GitRepo {
  status?: { artifact?: { url: string; revision: string; digest: string; size: number }; conditions?: Condition[] };
}

async function waitForRevision(path: string, revision: string): Promise<NonNullable<GitRepo["status"]>> {
  let last: GitRepo["status"];
  await waitFor(async () => {
    last = (await cp().request<GitRepo>("GET", path)).body.status;
    const ready = last?.conditions?.find((c) => c.type === "Ready");
    return ready?.status === "True" && last?.artifact?.revision === revision;
  }, { what: `${path} Ready at ${revision} (last status: ${JSON.stringify(last)})`, timeoutMs: 90_000, intervalMs: 250 });
  return last ?? {};
}

test("a GitRepository on the local Git server becomes Ready with revision main@sha1:<commit>", async (t) => {
  const server = git;
  if (!server || !sc) throw new Error("git server / source-controller not started");
  const ns = await newNamespace(cp(), "gitrepo");
  const files0 = { "kcl.mod": "[package]\nname = \"app\"\n", "main.k": "replicas = 2\n", ".github/ci.yaml": "x: 1\n" };
  const commit = await server.createRepo(`${ns}-app`, files0);
  const path = `/apis/${SOURCE_API_VERSION}/namespaces/${ns}/gitrepositories/app`;
  await serverSideApply(cp().admin, path, {
    apiVersion: SOURCE_API_VERSION, kind: "GitRepository", metadata: { name: "app", namespace: ns },
    spec: { url: server.repoUrl(`${ns}-app`), interval: "1m", ref: { branch: "main" } },
  }, { fieldManager: "kclrun-test" });

  try {
    const status = await waitForRevision(path, `main@sha1:${commit}`);
    const artifact = status.artifact;
    if (!artifact) throw new Error("no artifact");
    t.true(artifact.url.startsWith(`${sc.storageUrl}/gitrepository/${ns}/app/`), artifact.url);
    const res = await fetch(artifact.url);
    t.is(res.status, 200);
    const bytes = Buffer.from(await res.arrayBuffer());
    t.is(`sha256:${createHash("sha256").update(bytes).digest("hex")}`, artifact.digest);
    t.is(bytes.length, artifact.size);
    const files: string[] = [];
    await pipeline(Readable.from([bytes]), list({ onReadEntry: (e) => void (e.type === "File" && files.push(e.path)) }));
    t.deepEqual(files.sort(), ["kcl.mod", "main.k"], "content root, no wrapper dir, CI dirs excluded");
    // The harness packer lays out the same content byte for byte like the real controller (before gzip).
    const ours = await serveArtifact({ "kcl.mod": files0["kcl.mod"], "main.k": files0["main.k"] });
    const oursBytes = Buffer.from(await (await fetch(ours.url)).arrayBuffer());
    t.true(gunzipSync(oursBytes).equals(gunzipSync(bytes)), "tar stream equals source-controller's");

    const next = await server.commit(`${ns}-app`, { "main.k": "replicas = 3\n" }, "scale up");
    await cp().request("PATCH", path, {
      body: { metadata: { annotations: { "reconcile.fluxcd.io/requestedAt": new Date().toISOString() } } },
      contentType: "application/merge-patch+json",
    });
    const updated = await waitForRevision(path, `main@sha1:${next}`);
    t.not(updated.artifact?.digest, artifact.digest);
  } catch (err) {
    t.log(`source-controller log:\n${sc.logTail(40)}`);
    throw err;
  }
});
