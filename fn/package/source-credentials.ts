/**
 * `spec.credentials {url, username, password}` (krm-kcl's CredSpec): one set of credentials for the host `url` names
 * (a registry for OCI, a git server for git). They are used only for that host (and, when `url` has a path, only
 * under it); the password never appears in a message.
 */

/** Credentials for the registry or git host `url` names (`ghcr.io`, `oci://host:5000`, `https://git.example.com/org`). */
export interface SourceCredentials {
  url: string;
  username: string;
  password: string;
}

/** Host (with port) and path prefix of a credentials URL or of a URL credentials may be sent to. */
function place(url: string): { host: string; path: string } | undefined {
  const scp = /^[^/:@]+@([^/:]+):(.*)$/.exec(url);
  if (scp) return { host: scp[1]!.toLowerCase(), path: `/${scp[2]}` };
  try {
    const u = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(url) ? url : `https://${url}`);
    return { host: u.host.toLowerCase(), path: u.pathname };
  } catch {
    return undefined;
  }
}

/** True when `credentials` are for the place `target` (a URL or `host[:port]`) names. */
export function credentialsMatch(credentials: SourceCredentials, target: string): boolean {
  const want = place(credentials.url);
  const got = place(target);
  if (!want || !got || want.host !== got.host) return false;
  const prefix = want.path.replace(/\/+$/, '');
  return prefix === '' || got.path === prefix || got.path.startsWith(`${prefix}/`) || got.path.startsWith(`${prefix}.git`);
}

/** The first credentials in `list` for `target`. */
export function credentialsFor(list: readonly SourceCredentials[] | undefined, target: string): SourceCredentials | undefined {
  return list?.find((c) => c.url !== '' && credentialsMatch(c, target));
}

/** The `Authorization` header value for Basic auth with `c`. */
export function basicAuthorization(c: { username: string; password: string }): string {
  return `Basic ${Buffer.from(`${c.username}:${c.password}`).toString('base64')}`;
}
