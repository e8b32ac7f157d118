/**
 * The OCI distribution registry (built by `npm run tools:build`) on loopback, storage in memory, optionally behind
 * htpasswd Basic auth or token auth (a token service started beside it, see token-server.ts). Tests push KCL
 * packages to it and pull them back; its access log tells which requests it served.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort, startProcess, waitFor } from "./processes.js";
import { startTokenServer, type TokenServer } from "./token-server.js";
import { toolPath } from "./tools.js";

/** htpasswd Basic auth: every request needs `user`/`password`. */
export interface BasicAuth {
  user: string;
  password: string;
}

/**
 * Token auth (ghcr.io style): the registry answers 401 with a Bearer challenge naming the token service; anonymous
 * callers get pull tokens for repositories under `publicPrefixes`, `user`/`password` get push and pull everywhere.
 */
export interface TokenAuth {
  token: { user: string; password: string; publicPrefixes: string[] };
}

/** One request in the registry's access log. */
export interface RegistryRequest {
  method: string;
  /** The path and query, e.g. `/v2/kcl-lang/k8s/blobs/sha256:…`. */
  path: string;
  status: number;
}

/** A running registry. */
export interface Registry {
  /** `127.0.0.1:<port>`, as written in `oci://` references. */
  readonly host: string;
  /** With token auth: the token service (its requests are recorded). */
  readonly tokenServer?: TokenServer;
  /** Every request served so far (the registry's access log). */
  requests(): RegistryRequest[];
  /** Stops it and removes its files. */
  close(): Promise<void>;
}

const ACCESS_LINE = /"([A-Z]+) (\S+) HTTP\/[\d.]+" (\d{3}) /;

/** Starts a registry, open to all, or with Basic (`{user, password}`) or token (`{token: …}`) auth. */
export async function startRegistry(auth?: BasicAuth | TokenAuth): Promise<Registry> {
  const bin = toolPath("registry");
  const dir = mkdtempSync(join(tmpdir(), "kclrun-registry-"));
  const port = await freePort();
  const host = `127.0.0.1:${port}`;
  let authBlock = "";
  let tokenServer: TokenServer | undefined;
  if (auth && "token" in auth) {
    const service = "kclrun-test-registry";
    const issuer = "kclrun-test-issuer";
    tokenServer = await startTokenServer({ ...auth.token, service, issuer });
    writeFileSync(join(dir, "jwks.json"), tokenServer.jwks);
    authBlock =
      `auth:\n  token:\n    realm: ${tokenServer.realm}\n    service: ${service}\n    issuer: ${issuer}\n` +
      `    jwks: ${join(dir, "jwks.json")}\n    signingalgorithms: [ES256]\n`;
  } else if (auth) {
    writeFileSync(join(dir, "htpasswd"), execFileSync(bin, ["htpasswd", auth.user, auth.password]));
    authBlock = `auth:\n  htpasswd:\n    realm: kclrun-test\n    path: ${join(dir, "htpasswd")}\n`;
  }
  const config = join(dir, "config.yml");
  writeFileSync(
    config,
    `version: 0.1\nlog:\n  level: warn\nstorage:\n  inmemory: {}\nhttp:\n  addr: ${host}\n${authBlock}`,
  );
  const logPath = join(dir, "registry.log");
  const proc = startProcess(bin, ["serve", config], logPath, {
    cleanupDir: dir,
    env: { ...process.env, OTEL_TRACES_EXPORTER: "none" },
  });
  await waitFor(async () => (await fetch(`http://${host}/v2/`)).status < 500, { what: `registry on ${host}`, proc, timeoutMs: 30_000 });
  return {
    host,
    tokenServer,
    requests() {
      const out: RegistryRequest[] = [];
      for (const line of readFileSync(logPath, "utf8").split("\n")) {
        const m = ACCESS_LINE.exec(line);
        if (m) out.push({ method: m[1]!, path: m[2]!, status: Number(m[3]) });
      }
      return out;
    },
    async close() {
      await proc.stop();
      await tokenServer?.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
