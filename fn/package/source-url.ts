/**
 * Program sources and URLs as text — no I/O, so `kclrun fn` can tell a source's kind without loading the download
 * modules: go-getter's git source forms (as krm-kcl reads them), URLs without user info for messages, and the error
 * a source that cannot be fetched or used becomes.
 */

/** A program source (`oci://`, git, http) that could not be fetched or used: names the source (no user info) and why. */
export class SourceFetchError extends Error {
  override name = 'SourceFetchError';
  constructor(
    readonly source: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`${source}: ${message}`, options);
  }
}

/** `user:pass@` dropped from a URL, for messages. */
export function redactUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/@]*@/i, '$1');
}

/** A git source parsed the way go-getter reads it. */
export interface GitSourceRef {
  url: string;
  subdir?: string;
  ref?: string;
}

const VCS_HOSTS = ['github.com/', 'gitlab.com/', 'bitbucket.org/'];

/** Splits go-getter's `//subdir` (after the scheme's `://`) and the `?query` off `s`. */
export function splitSubdirAndQuery(s: string): { base: string; subdir?: string; query: URLSearchParams } {
  const q = s.indexOf('?');
  const query = new URLSearchParams(q >= 0 ? s.slice(q + 1) : '');
  let rest = q >= 0 ? s.slice(0, q) : s;
  const scheme = rest.indexOf('://');
  const sub = rest.indexOf('//', scheme >= 0 ? scheme + 3 : 0);
  let subdir: string | undefined;
  if (sub >= 0) {
    subdir = rest.slice(sub + 2);
    rest = rest.slice(0, sub);
  }
  return { base: rest, ...(subdir && { subdir }), query };
}

/** True when `source` is a git source (`git::…`, a VCS-host shorthand, or an http(s) URL whose path ends in `.git`). */
export function isGitSource(source: string): boolean {
  const s = source.trim();
  return s.startsWith('git::') || VCS_HOSTS.some((h) => s.startsWith(h)) || /^https?:\/\/[^?]*\.git(\/\/|\/|$|\?)/.test(s);
}

/** Parses a git source. @throws SourceFetchError */
export function parseGitSource(source: string): GitSourceRef {
  const s = source.trim();
  const shown = redactUrl(s.replace(/^git::/, ''));
  const { base, subdir, query } = splitSubdirAndQuery(s.replace(/^git::/, ''));
  for (const k of query.keys()) {
    if (k !== 'ref' && k !== 'depth') throw new SourceFetchError(shown, `the query parameter "${k}" is not supported (ref and depth are)`);
  }
  const ref = query.get('ref') ?? undefined;
  if (ref === '') throw new SourceFetchError(shown, '?ref= must not be empty');
  const host = VCS_HOSTS.find((h) => base.startsWith(h));
  if (host) {
    const parts = base.split('/');
    if (parts.length < 3 || !parts[1] || !parts[2]) throw new SourceFetchError(shown, `expected ${host}<owner>/<repository>`);
    const repo = parts[2].endsWith('.git') ? parts[2] : `${parts[2]}.git`;
    const inner = parts.slice(3).join('/');
    const dir = [inner, subdir].filter(Boolean).join('/');
    return { url: `https://${parts[0]}/${parts[1]}/${repo}`, ...(dir && { subdir: dir }), ...(ref && { ref }) };
  }
  return { url: base, ...(subdir && { subdir }), ...(ref && { ref }) };
}
