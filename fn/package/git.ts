/**
 * Git, for git dependencies and git sources: the real `git` binary run with an argument list (never a shell), a
 * timeout and an AbortSignal, no prompts, no system or global config, and only the transports a URL may name
 * (`https`, `http`, `ssh`, `git`; `file` only when the caller allows it; `ext::` never). A URL that looks like an
 * option (`-…`) is refused before git sees it. Credentials travel as an `Authorization` header scoped to the
 * credentials' URL, through git's environment config — never in the URL, the argument list, a message or
 * `.git/config`.
 */
import { execFile } from 'node:child_process';
import { rmSync } from 'node:fs';
import { basicAuthorization, credentialsMatch, type SourceCredentials } from './source-credentials.js';
import { redactUrl } from './source-url.js';

/** A git URL refused before git runs, or a git command that failed; names the URL, never a password. */
export class GitError extends Error {
  override name = 'GitError';
  constructor(
    readonly url: string,
    /** Why, without the URL (callers that name the source their own way use this). */
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(`${url}: ${reason}`, options);
  }
}

/** The git server asked for credentials (none were given for it) or refused the ones given. */
export class GitAuthError extends GitError {
  override name = 'GitAuthError';
}

/** What to check out: a tag, a branch, a commit (full or abbreviated SHA), or (none) the default branch's HEAD. */
export interface GitRef {
  kind: 'tag' | 'branch' | 'commit';
  value: string;
}

/** Options for {@link cloneRepo}. */
export interface GitOptions {
  /** Basic credentials, sent only to URLs under `credentials.url`. */
  credentials?: SourceCredentials;
  /** Allow `file://` URLs and local paths (tests, trusted callers). */
  allowFile?: boolean;
  /** Allow `http://` (default true: kpm clones kcl.mod git dependencies over any transport git knows). */
  allowHttp?: boolean;
  /** Per git command (ms); default 120 s. */
  timeoutMs?: number;
  signal?: AbortSignal;
  /**
   * The command git runs under, git's own argv appended (the engine pool's: the engine host's file-system sandbox,
   * `kclrun-engine-host --sandbox … --exec`); default: git runs directly.
   */
  runUnder?: readonly string[];
}

const SCHEMES = new Set(['https:', 'http:', 'ssh:', 'git:']);

/** Throws {@link GitError} unless `url` is a URL git may fetch from under `opts`. */
export function checkGitUrl(url: string, opts: Pick<GitOptions, 'allowFile' | 'allowHttp'> = {}): void {
  const shown = redactUrl(url);
  if (url === '' || url.startsWith('-')) throw new GitError(shown, 'a git URL must not start with "-" (it would be read as an option)');
  if (/[\0\n\r]/.test(url)) throw new GitError(JSON.stringify(shown), 'a git URL must not contain control characters');
  if (/^[a-z][a-z0-9+.-]*::/i.test(url)) throw new GitError(shown, 'git remote helpers (<transport>::<address>, e.g. ext::) are not allowed');
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(url)?.[1]?.toLowerCase();
  if (scheme === undefined) {
    // scp-like ssh (`git@host:org/repo.git`), else a local path.
    if (/^[^/:]+@[^/:]+:/.test(url)) return;
    if (!opts.allowFile) throw new GitError(shown, 'local git repositories are not allowed; use an https:// URL');
    return;
  }
  if (scheme === 'file') {
    if (!opts.allowFile) throw new GitError(shown, 'file:// git URLs are not allowed');
    return;
  }
  if (!SCHEMES.has(`${scheme}:`)) throw new GitError(shown, `the git transport "${scheme}" is not allowed (https, http, ssh and git are)`);
  if (scheme === 'http' && opts.allowHttp === false) {
    throw new GitError(shown, 'plain http:// is refused; use https://, or allow insecure sources (annotation krm.kcl.dev/allow-insecure-source: "true")');
  }
}

/** Throws unless `ref` may be handed to git as a ref name or commit. */
function checkRef(url: string, ref: GitRef): void {
  const bad =
    ref.value === '' || ref.value.startsWith('-') || /[\0-\x20\x7f~^:?*[\\]/.test(ref.value) || ref.value.includes('..') || ref.value.includes('@{');
  if (bad) throw new GitError(redactUrl(url), `the ${ref.kind} "${ref.value}" is not a valid git ref`);
  if (ref.kind === 'commit' && !/^[0-9a-f]{4,64}$/i.test(ref.value)) throw new GitError(redactUrl(url), `the commit "${ref.value}" is not a hexadecimal SHA`);
}

/** The URL prefix git's `http.<url>.*` config matches (the clone URL's scheme and host), when the credentials are for `url`. */
function credentialScope(credentials: SourceCredentials, url: string): string | undefined {
  if (!credentialsMatch(credentials, url)) return undefined;
  try {
    const u = new URL(url);
    return u.protocol === 'https:' || u.protocol === 'http:' ? `${u.protocol}//${u.host}/` : undefined;
  } catch {
    return undefined;
  }
}

/** The environment git runs with: no prompts, no system/global config, the allowed protocols, credentials as config. */
function gitEnv(url: string, opts: GitOptions): NodeJS.ProcessEnv {
  const config: [string, string][] = [
    ['protocol.allow', 'never'],
    ['protocol.https.allow', 'always'],
    ['protocol.http.allow', opts.allowHttp === false ? 'never' : 'always'],
    ['protocol.ssh.allow', 'always'],
    ['protocol.git.allow', 'always'],
    ['protocol.file.allow', opts.allowFile ? 'always' : 'never'],
    ['core.hooksPath', '/dev/null'],
    ['core.symlinks', 'false'],
    ['credential.helper', ''],
    ['advice.detachedHead', 'false'],
  ];
  const scope = opts.credentials && credentialScope(opts.credentials, url);
  if (scope) {
    config.push([`http.${scope}.extraHeader`, `Authorization: ${basicAuthorization(opts.credentials!)}`]);
  }
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    LANG: 'C',
    LC_ALL: 'C',
    GIT_TERMINAL_PROMPT: '0',
    GIT_ASKPASS: '',
    SSH_ASKPASS: '',
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_SSH_COMMAND: 'ssh -o BatchMode=yes',
    GIT_CONFIG_COUNT: String(config.length),
  };
  for (const [i, [k, v]] of config.entries()) {
    env[`GIT_CONFIG_KEY_${i}`] = k;
    env[`GIT_CONFIG_VALUE_${i}`] = v;
  }
  for (const k of ['http_proxy', 'https_proxy', 'HTTP_PROXY', 'HTTPS_PROXY', 'no_proxy', 'NO_PROXY', 'SSL_CERT_FILE', 'SSL_CERT_DIR', 'SSH_AUTH_SOCK']) {
    if (process.env[k] !== undefined) env[k] = process.env[k];
  }
  return env;
}

/** Runs git with `args` in `cwd`; resolves stdout. @throws GitError with git's own complaint (first lines of stderr) */
function runGit(url: string, args: readonly string[], cwd: string | undefined, opts: GitOptions): Promise<string> {
  const timeoutMs = opts.timeoutMs ?? 120_000;
  return new Promise((resolvePromise, reject) => {
    if (opts.signal?.aborted) return reject(new GitError(redactUrl(url), 'aborted', { cause: opts.signal.reason }));
    const [command, ...prefix] = opts.runUnder?.length ? [...opts.runUnder, 'git'] : ['git'];
    execFile(
      command!,
      [...prefix, ...args],
      { cwd, env: gitEnv(url, opts), timeout: timeoutMs, killSignal: 'SIGKILL', signal: opts.signal, maxBuffer: 4 * 1024 * 1024, windowsHide: true },
      (err, stdout, stderr) => {
        if (!err) return resolvePromise(stdout.trim());
        const e = err as NodeJS.ErrnoException & { killed?: boolean };
        let why: string;
        // 127: the command git runs under (runUnder) did not find it either.
        if (e.code === 'ENOENT' || (opts.runUnder?.length && (e.code as unknown) === 127)) why = 'the git binary was not found on PATH';
        else if (e.name === 'AbortError' || opts.signal?.aborted) why = 'aborted';
        else if (e.killed) why = `git ${args[0]} timed out after ${timeoutMs / 1000}s`;
        else why = tidy(String(stderr), opts.credentials) || `git ${args[0]} failed`;
        if (/could not read (Username|Password)|Authentication failed|\b401\b/.test(String(stderr))) {
          const host = hostOf(url);
          const given = opts.credentials && credentialScope(opts.credentials, url);
          const what = given ? `the git server ${host} refused the credentials given for it` : `the git server ${host} requires authentication: give credentials for it (spec.credentials)`;
          return reject(new GitAuthError(redactUrl(url), `${what} (${why})`, { cause: err }));
        }
        reject(new GitError(redactUrl(url), why, { cause: err }));
      },
    );
  });
}

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return redactUrl(url);
  }
}

/** git's stderr for a message: a few lines, URLs without user info, and never the password. */
function tidy(stderr: string, credentials?: SourceCredentials): string {
  let s = stderr
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('hint:'))
    .slice(0, 4)
    .join('; ');
  s = s.replace(/([a-z][a-z0-9+.-]*:\/\/)[^/@\s]*@/gi, '$1');
  if (credentials?.password) s = s.split(credentials.password).join('***');
  return s;
}

/**
 * Clones `url` at `ref` into `dest` (which must not exist), without its `.git` directory, and returns the full SHA
 * of the commit checked out. A tag or branch is fetched shallowly; a commit needs the history. @throws GitError
 */
export async function cloneRepo(url: string, ref: GitRef | undefined, dest: string, opts: GitOptions = {}): Promise<string> {
  checkGitUrl(url, opts);
  if (ref) checkRef(url, ref);
  try {
    if (ref?.kind === 'commit') {
      await runGit(url, ['clone', '--quiet', '--no-checkout', '--', url, dest], undefined, opts);
      await runGit(url, ['checkout', '--quiet', '--detach', ref.value, '--'], dest, opts);
    } else {
      const branch = ref ? ['--branch', ref.value] : [];
      await runGit(url, ['clone', '--quiet', '--depth', '1', '--no-tags', ...branch, '--', url, dest], undefined, opts);
    }
    const sha = await runGit(url, ['rev-parse', '--verify', 'HEAD^{commit}'], dest, opts);
    // Submodules are not fetched (kpm does not either); the tree is the package.
    rmSync(`${dest}/.git`, { recursive: true, force: true });
    return sha;
  } catch (err) {
    rmSync(dest, { recursive: true, force: true });
    throw err;
  }
}

/** The commit the remote's default branch (HEAD) points at, without cloning. @throws GitError */
export async function remoteHead(url: string, opts: GitOptions = {}): Promise<string> {
  checkGitUrl(url, opts);
  const out = await runGit(url, ['ls-remote', '--', url, 'HEAD'], undefined, opts);
  const sha = /^([0-9a-f]{40,64})\tHEAD$/m.exec(out)?.[1];
  if (!sha) throw new GitError(redactUrl(url), 'the repository has no HEAD (is it empty?)');
  return sha;
}
