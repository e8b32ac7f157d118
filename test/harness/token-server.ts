/**
 * A small token service for the registry's `auth: token` mode (the Docker/ghcr.io flow): `GET /token?service=&scope=`
 * answers `{token, access_token}` — an ES256 JWT signed by a key made here, which the registry trusts through a JWKS
 * file. Anonymous callers get `pull` on public repositories only; `user`/`password` (Basic) get everything asked
 * for; wrong credentials get 401. Every request is recorded so tests can see the flow.
 */
import { createHash, generateKeyPairSync, randomUUID, sign, type KeyObject } from "node:crypto";
import { createServer, type Server } from "node:http";
import { freePort } from "./processes.js";

/** Who may do what. */
export interface TokenServerCfg {
  user: string;
  password: string;
  /** Repository name prefixes anonymous callers may pull (e.g. `public/`). */
  publicPrefixes: string[];
  /** The registry's `service` and the tokens' audience. */
  service: string;
  issuer: string;
}

/** One request the token service answered. */
export interface TokenRequest {
  /** The `scope` parameters. */
  scopes: string[];
  /** The Basic user, if any. */
  user?: string;
  status: number;
  /** The access granted, as `repository:<name>:<actions>`. */
  granted: string[];
}

/** A running token service. */
export interface TokenServer {
  /** `http://127.0.0.1:<port>/token`, the registry's `realm`. */
  readonly realm: string;
  /** The JWKS (JSON) the registry trusts. */
  readonly jwks: string;
  readonly requests: TokenRequest[];
  close(): Promise<void>;
}

const b64url = (b: Buffer | string) => Buffer.from(b).toString("base64url");

function jwt(key: KeyObject, kid: string, claims: Record<string, unknown>): string {
  const head = b64url(JSON.stringify({ alg: "ES256", typ: "JWT", kid }));
  const body = b64url(JSON.stringify(claims));
  const sig = sign("sha256", Buffer.from(`${head}.${body}`), { key, dsaEncoding: "ieee-p1363" });
  return `${head}.${body}.${b64url(sig)}`;
}

/** Starts the token service on loopback. */
export async function startTokenServer(cfg: TokenServerCfg): Promise<TokenServer> {
  const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const jwk = publicKey.export({ format: "jwk" });
  const kid = createHash("sha256").update(JSON.stringify(jwk)).digest("hex").slice(0, 16);
  const requests: TokenRequest[] = [];
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://x");
    const scopes = url.searchParams.getAll("scope");
    const header = req.headers.authorization ?? "";
    let user: string | undefined;
    if (header.startsWith("Basic ")) {
      const [u, ...p] = Buffer.from(header.slice(6), "base64").toString("utf8").split(":");
      if (u !== cfg.user || p.join(":") !== cfg.password) {
        requests.push({ scopes, user: u, status: 401, granted: [] });
        res.writeHead(401, { "content-type": "application/json" });
        res.end(JSON.stringify({ errors: [{ code: "UNAUTHORIZED", message: "invalid username or password" }] }));
        return;
      }
      user = u;
    }
    const access: { type: string; name: string; actions: string[] }[] = [];
    for (const scope of scopes) {
      const [type, name, actions] = scope.split(":");
      if (type !== "repository" || !name || !actions) continue;
      const allowed = actions.split(",").filter((a) => user !== undefined || (a === "pull" && cfg.publicPrefixes.some((p) => name.startsWith(p))));
      if (allowed.length) access.push({ type, name, actions: allowed });
    }
    const now = Math.floor(Date.now() / 1000);
    const token = jwt(privateKey, kid, {
      iss: cfg.issuer,
      sub: user ?? "",
      aud: cfg.service,
      exp: now + 300,
      nbf: now - 10,
      iat: now,
      jti: randomUUID(),
      access,
    });
    requests.push({ scopes, user, status: 200, granted: access.map((a) => `repository:${a.name}:${a.actions.join(",")}`) });
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ token, access_token: token, expires_in: 300, issued_at: new Date(now * 1000).toISOString() }));
  });
  const port = await freePort();
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve());
  });
  return {
    realm: `http://127.0.0.1:${port}/token`,
    jwks: JSON.stringify({ keys: [{ ...jwk, kid, alg: "ES256", use: "sig" }] }),
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
