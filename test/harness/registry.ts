/**
 * The OCI distribution registry (built by `npm run tools:build`) on loopback, storage in memory, optionally behind
 * htpasswd Basic auth. Tests push KCL packages to it and pull them back.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort, startProcess, waitFor } from "./processes.js";
import { toolPath } from "./tools.js";

/** A running registry. */
export interface Registry {
  /** `127.0.0.1:<port>`, as written in `oci://` references. */
  readonly host: string;
  /** Stops it and removes its files. */
  close(): Promise<void>;
}

/** Starts a registry; with `user`, every request needs Basic auth as `user`/`password`. */
export async function startRegistry(auth?: { user: string; password: string }): Promise<Registry> {
  const bin = toolPath("registry");
  const dir = mkdtempSync(join(tmpdir(), "kclrun-registry-"));
  const port = await freePort();
  const host = `127.0.0.1:${port}`;
  let authBlock = "";
  if (auth) {
    writeFileSync(join(dir, "htpasswd"), execFileSync(bin, ["htpasswd", auth.user, auth.password]));
    authBlock = `auth:\n  htpasswd:\n    realm: kclrun-test\n    path: ${join(dir, "htpasswd")}\n`;
  }
  const config = join(dir, "config.yml");
  writeFileSync(
    config,
    `version: 0.1\nlog:\n  level: warn\nstorage:\n  inmemory: {}\nhttp:\n  addr: ${host}\n${authBlock}`,
  );
  const proc = startProcess(bin, ["serve", config], join(dir, "registry.log"), {
    cleanupDir: dir,
    env: { ...process.env, OTEL_TRACES_EXPORTER: "none" },
  });
  await waitFor(async () => (await fetch(`http://${host}/v2/`)).status < 500, { what: `registry on ${host}`, proc, timeoutMs: 30_000 });
  return {
    host,
    async close() {
      await proc.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
