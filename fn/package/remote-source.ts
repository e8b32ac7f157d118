/**
 * Remote `spec.source`s as krm-kcl fetches them with go-getter, into a temp dir removed after the render:
 * - git: `git::<url>[//subdir][?ref=<tag|branch|commit>]`, `https://host/repo.git[//subdir][?ref=…]`, and the
 *   `github.com/org/repo[/subdir]`, `gitlab.com/…`, `bitbucket.org/…` shorthands (https);
 * - http(s) files: `https://host/path/main.k` is saved under its name and the directory run; a `.tar`, `.tar.gz` or
 *   `.tgz` is unpacked (safe untar: no links, no escapes, size caps), optionally with `//subdir`.
 * Plain `http://` is refused unless the caller allows insecure sources (krm-kcl's `krm.kcl.dev/allow-insecure-source`
 * annotation). A subdir must stay inside what was fetched. Credentials are sent only to their host.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, posix, resolve } from 'node:path';
import { ArchiveError, unpackArchive } from '../archive/untar.js';
import { cloneRepo, GitError, type GitRef } from './git.js';
import { isGitSource, parseGitSource, redactUrl, SourceFetchError, splitSubdirAndQuery } from './source-url.js';
import { PackageRoot } from './root.js';
import { basicAuthorization, credentialsFor, type SourceCredentials } from './source-credentials.js';

/** Options for {@link fetchRemoteSource}. */
export interface RemoteSourceOptions {
  credentials?: readonly SourceCredentials[];
  /** Allow plain `http://` (the allow-insecure-source annotation). */
  allowInsecure?: boolean;
  /** Per network operation (ms); default 120 s. */
  timeoutMs?: number;
  /** Cap on a downloaded file or archive (bytes); default 64 MiB. */
  maxBytes?: number;
  signal?: AbortSignal;
}

/** A fetched source: the directory (or file) to run, the root it must stay in, and how to remove it. */
export interface FetchedSource {
  path: string;
  root: PackageRoot;
  cleanup(): void;
}

/** A go-getter `ref`: a hex string of 7–40 characters is a commit, anything else a tag or branch. */
function gitRef(ref: string | undefined): GitRef | undefined {
  if (ref === undefined) return undefined;
  return /^[0-9a-f]{7,40}$/i.test(ref) ? { kind: 'commit', value: ref } : { kind: 'branch', value: ref };
}

function isPlainHttp(url: string): boolean {
  return /^http:\/\//i.test(url);
}

function insecureRefused(shown: string): SourceFetchError {
  return new SourceFetchError(shown, 'plain http:// sources are refused; use https://, or set the annotation krm.kcl.dev/allow-insecure-source: "true" on the KCLRun');
}

/** `subdir` inside `dir`, or an OutsideRootError (a KclModError) naming the path. */
function within(dir: string, subdir: string | undefined, what: string): { path: string; root: PackageRoot } {
  const root = new PackageRoot(dir, what);
  if (!subdir) return { path: dir, root };
  const path = resolve(dir, subdir);
  root.check(path, `subdir "${subdir}"`);
  return { path, root };
}

function tempDir(): { dir: string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'kclrun-source-'));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Clones a git source into a temp dir. @throws SourceFetchError, OutsideRootError */
async function fetchGitSource(source: string, opts: RemoteSourceOptions): Promise<FetchedSource> {
  const parsed = parseGitSource(source);
  const shown = redactUrl(parsed.url);
  if (isPlainHttp(parsed.url) && !opts.allowInsecure) throw insecureRefused(shown);
  const tmp = tempDir();
  try {
    const tree = join(tmp.dir, 'git');
    await cloneRepo(parsed.url, gitRef(parsed.ref), tree, {
      credentials: credentialsFor(opts.credentials, parsed.url),
      allowHttp: !!opts.allowInsecure,
      timeoutMs: opts.timeoutMs,
      signal: opts.signal,
    });
    const { path, root } = within(tree, parsed.subdir, `the git source ${shown}`);
    return { path, root, cleanup: tmp.cleanup };
  } catch (err) {
    tmp.cleanup();
    if (err instanceof GitError) throw new SourceFetchError(shown, err.reason, { cause: err });
    throw err;
  }
}

const ARCHIVE = /\.(tar|tar\.gz|tgz)$/i;

/** Downloads an http(s) file or tarball into a temp dir. @throws SourceFetchError, OutsideRootError */
async function fetchHttpSource(source: string, opts: RemoteSourceOptions): Promise<FetchedSource> {
  const { base, subdir, query } = splitSubdirAndQuery(source.trim());
  const url = query.size ? `${base}?${query}` : base;
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new SourceFetchError(redactUrl(base), 'not a valid URL');
  }
  const shown = `${u.protocol}//${u.host}${u.pathname}`;
  if (u.username || u.password) throw new SourceFetchError(shown, 'put credentials in spec.credentials, not in the URL');
  if (u.protocol === 'http:' && !opts.allowInsecure) throw insecureRefused(shown);
  const name = posix.basename(u.pathname);
  if (/\.zip$/i.test(name)) throw new SourceFetchError(shown, 'zip archives are not supported; use a .tar.gz');
  const maxBytes = opts.maxBytes ?? 64 * 1024 * 1024;
  const timeoutMs = opts.timeoutMs ?? 120_000;
  const creds = credentialsFor(opts.credentials, u.href);
  const headers: Record<string, string> = creds ? { authorization: basicAuthorization(creds) } : {};
  let res: Response;
  let body: Buffer;
  try {
    const signal = AbortSignal.any([AbortSignal.timeout(timeoutMs), ...(opts.signal ? [opts.signal] : [])]);
    res = await fetch(u, { headers, signal, redirect: 'manual' });
    if (res.status >= 300 && res.status < 400) throw new SourceFetchError(shown, `redirected (HTTP ${res.status}); give the final URL`);
    if (!res.ok) throw new SourceFetchError(shown, `HTTP ${res.status} ${res.statusText}`.trim());
    const length = Number(res.headers.get('content-length') ?? 0);
    if (length > maxBytes) throw new SourceFetchError(shown, `is ${length} bytes, over the ${maxBytes}-byte cap`);
    const chunks: Buffer[] = [];
    let total = 0;
    for await (const chunk of res.body ?? []) {
      total += (chunk as Uint8Array).byteLength;
      if (total > maxBytes) throw new SourceFetchError(shown, `is over the ${maxBytes}-byte cap`);
      chunks.push(Buffer.from(chunk as Uint8Array));
    }
    body = Buffer.concat(chunks);
  } catch (err) {
    if (err instanceof SourceFetchError) throw err;
    const e = err as Error;
    const why = e.name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : e.name === 'AbortError' ? 'aborted' : (e.cause as Error | undefined)?.message ?? e.message;
    throw new SourceFetchError(shown, why, { cause: err });
  }
  const tmp = tempDir();
  try {
    const into = join(tmp.dir, 'src');
    mkdirSync(into);
    if (ARCHIVE.test(name)) {
      const file = join(tmp.dir, 'download');
      writeFileSync(file, body);
      try {
        await unpackArchive(file, into, { maxBytes, maxEntries: 20_000, gzip: !/\.tar$/i.test(name), refuseLinks: true, what: shown }, opts.signal);
      } catch (err) {
        if (err instanceof ArchiveError) throw new SourceFetchError(shown, err.message, { cause: err });
        throw err;
      }
    } else {
      if (subdir) throw new SourceFetchError(shown, 'a //subdir needs an archive (.tar, .tar.gz, .tgz)');
      writeFileSync(join(into, name && name !== '.' && name !== '..' ? name : 'main.k'), body);
    }
    const { path, root } = within(into, subdir, `the source ${shown}`);
    return { path, root, cleanup: tmp.cleanup };
  } catch (err) {
    tmp.cleanup();
    throw err;
  }
}

/** Fetches a git or http(s) source into a temp dir (call `cleanup` when done). @throws SourceFetchError, OutsideRootError */
export function fetchRemoteSource(source: string, opts: RemoteSourceOptions = {}): Promise<FetchedSource> {
  return isGitSource(source) ? fetchGitSource(source, opts) : fetchHttpSource(source, opts);
}
