/**
 * Pushes a KCL package with the real oras CLI (built by `npm run tools:build`), laid out as `kcl mod push` (kpm,
 * pkg/oci/oci.go) lays it out, so the package reader is tested against artifacts our own client did not write:
 * - the layer is a tar written by the system `tar` in kpm's `TarDir` order (`.` first, then each directory's entries
 *   in byte order, directories included, `.git`/`.tar` paths left out), gzipped with no name and mtime 0 (kpm ≥
 *   0.12.5) or plain (kpm ≤ 0.12.4), titled `<name>_<version>.tgz|.tar`;
 * - the image-spec 1.1 manifest with the empty config, `artifactType` = the layer media type;
 * - the `org.kcllang.package.name|version|sum` annotations (oras adds `org.opencontainers.image.created`).
 */
import { execFile } from "node:child_process";
import { mkdtempSync, readdirSync, lstatSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { toolPath } from "./tools.js";

const run = promisify(execFile);

/** How to push. */
export interface OrasPushCfg {
  /** The package name and version (kcl.mod's `[package]`), used for the annotations and the layer title. */
  name: string;
  version: string;
  /** The `org.kcllang.package.sum` annotation (kpm's directory hash); omitted when undefined. */
  sum?: string;
  /** Gzip the layer (default true, as kpm ≥ 0.12.5). */
  gzip?: boolean;
  /** Basic credentials for the registry. */
  auth?: { user: string; password: string };
  /** Talk plain HTTP (default true: the harness registries listen on loopback without TLS). */
  plainHttp?: boolean;
}

/** The paths kpm's TarDir writes for `dir`, in its order (Go filepath.Walk: each directory's names sorted). */
function walkOrder(dir: string): string[] {
  const out = ["."];
  const walk = (rel: string) => {
    for (const name of readdirSync(join(dir, rel)).sort()) {
      const p = rel ? `${rel}/${name}` : name;
      if (p.includes(".git") || p.includes(".tar")) continue;
      out.push(p);
      if (lstatSync(join(dir, p)).isDirectory()) walk(p);
    }
  };
  walk("");
  return out;
}

/** Runs oras; an error carries its stderr. */
export async function oras(args: string[], cwd?: string): Promise<string> {
  try {
    const { stdout } = await run(toolPath("oras"), args, { cwd, timeout: 60_000, maxBuffer: 16 * 1024 * 1024 });
    return stdout;
  } catch (err) {
    const e = err as Error & { stderr?: string };
    throw new Error(`oras ${args.join(" ")}: ${e.stderr || e.message}`);
  }
}

/** Pushes the package in `dir` to `<host>/<repository>:<tag>` with oras; returns the manifest digest. */
export async function orasPushPackage(host: string, repository: string, tag: string, dir: string, cfg: OrasPushCfg): Promise<string> {
  const gzip = cfg.gzip ?? true;
  const work = mkdtempSync(join(tmpdir(), "kclrun-oras-"));
  try {
    const list = join(work, "files");
    writeFileSync(list, walkOrder(dir).join("\n") + "\n");
    const title = `${cfg.name}_${cfg.version}.${gzip ? "tgz" : "tar"}`;
    const tar = join(work, `${cfg.name}_${cfg.version}.tar`);
    await run("tar", ["-cf", tar, "-C", dir, "--no-recursion", "--format=ustar", "--owner=0", "--group=0", "--numeric-owner", "-T", list]);
    if (gzip) await run("gzip", ["-n", tar]).then(() => run("mv", [`${tar}.gz`, join(work, title)]));
    const mediaType = gzip ? "application/vnd.oci.image.layer.v1.tar+gzip" : "application/vnd.oci.image.layer.v1.tar";
    const args = ["push", `${host}/${repository}:${tag}`, `${title}:${mediaType}`, "--artifact-type", mediaType, "--format", "go-template={{.digest}}"];
    args.push("--annotation", `org.kcllang.package.name=${cfg.name}`, "--annotation", `org.kcllang.package.version=${cfg.version}`);
    if (cfg.sum !== undefined) args.push("--annotation", `org.kcllang.package.sum=${cfg.sum}`);
    if (cfg.plainHttp ?? true) args.push("--plain-http");
    if (cfg.auth) args.push("--username", cfg.auth.user, "--password", cfg.auth.password);
    return (await oras(args, work)).trim();
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
