/**
 * Locates the Go-built test tools (kube-apiserver, etcd, source-controller, notification-controller,
 * kustomize, the OCI registry, oras)
 * that `npm run tools:build` (scripts/build-tools.sh) caches under
 * `${KCLRUN_CACHE:-~/.cache/kclrun}/bin/<tool>-<version>`.
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** Names of the tools built by `npm run tools:build`. */
export type ToolName =
  | "kube-apiserver" | "etcd" | "source-controller" | "notification-controller" | "kustomize" | "registry" | "oras"
  | "kustomize-controller"; // bench only: `scripts/build-tools.sh kustomize-controller` (npm run bench)

/** Pinned tool versions, as written in `test/tools/versions.json`. */
export type ToolVersions = Readonly<Record<ToolName, string>>;

/** The repository root: the nearest ancestor of this file holding the kclrun package.json. */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, "package.json");
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, "utf8")) as { name?: string }).name === "kclrun") {
      return dir;
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error("kclrun harness: cannot find the repository root (package.json)");
    dir = parent;
  }
}

/** Reads the pinned versions from `test/tools/versions.json`. */
export function toolVersions(): ToolVersions {
  return JSON.parse(readFileSync(join(repoRoot(), "test/tools/versions.json"), "utf8")) as ToolVersions;
}

/** The tool cache directory: `$KCLRUN_CACHE`, else `~/.cache/kclrun`. */
export function cacheDir(): string {
  return process.env.KCLRUN_CACHE || join(homedir(), ".cache", "kclrun");
}

/**
 * Absolute path of the cached binary for `name` at its pinned version.
 * Throws (never skips) when it has not been built yet.
 */
export function toolPath(name: ToolName): string {
  const version = toolVersions()[name];
  // A tool built from our own main.go (test/tools/<tool>/main.go) also carries the hash of its main.go, go.mod and
  // go.sum (build-tools.sh names it the same way).
  const dir = join(repoRoot(), "test/tools", name);
  let id = version;
  if (existsSync(join(dir, "main.go"))) {
    const hash = createHash("sha256");
    for (const f of ["main.go", "go.mod", "go.sum"]) hash.update(readFileSync(join(dir, f)));
    id += `-${hash.digest("hex").slice(0, 12)}`;
  }
  const path = join(cacheDir(), "bin", `${name}-${id}`);
  if (!existsSync(path)) {
    throw new Error(
      `kclrun harness: ${name} ${version} is not built (expected ${path}). ` +
        "Run `npm run tools:build` (builds kube-apiserver, etcd, source-controller, notification-controller, kustomize, the registry and oras from Go modules).",
    );
  }
  return path;
}

/** `config/crd/bases` of a pinned Flux controller module in the Go module cache. */
function fluxCrdDir(tool: "source-controller" | "notification-controller" | "kustomize-controller"): string {
  const version = toolVersions()[tool];
  const modCache = execFileSync("go", ["env", "GOMODCACHE"], { encoding: "utf8" }).trim();
  const dir = join(modCache, `github.com/fluxcd/${tool}@${version}`, "config/crd/bases");
  if (!existsSync(dir)) {
    throw new Error(
      `kclrun harness: Flux ${tool} CRDs not found at ${dir}; run \`npm run tools:build\` (it downloads the module).`,
    );
  }
  return dir;
}

/**
 * Directory of the Flux source CRDs (`config/crd/bases`) inside the pinned source-controller
 * module in the Go module cache.
 */
export function sourceControllerCrdDir(): string {
  return fluxCrdDir("source-controller");
}

/** Directory of the Flux notification CRDs (Provider, Alert, Receiver) in the pinned notification-controller module. */
export function notificationControllerCrdDir(): string {
  return fluxCrdDir("notification-controller");
}

/** Directory of the Flux Kustomization CRD in the pinned kustomize-controller module (bench only). */
export function kustomizeControllerCrdDir(): string {
  return fluxCrdDir("kustomize-controller");
}
