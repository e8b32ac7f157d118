/**
 * Fetches a package's registry dependencies into the package cache, transitively, as one flat set keyed by
 * dependency name — the step `kcl run` (kpm) takes before running. Registry (`k8s = "1.28"`), `repo` and `oci`
 * dependencies are pulled into kpm's layout, `<root>/<basename(repo)>_<tag>`; a directory there holding a kcl.mod is
 * used as it is, as kpm does. git dependencies are cloned into `<root>/<repo>_<ref>` (git-dependency.ts). `path`
 * dependencies are walked for their own dependencies; vendored copies win.
 *
 * kcl.mod.lock is honoured: a dependency without a tag takes the locked `oci_tag` (a ref-less git dependency the
 * locked `commit`) (else the highest version among
 * the registry's tags), and a locked `sum` must equal both the registry's `org.kcllang.package.sum` annotation and
 * kpm's hash of the unpacked package — a mismatch is a {@link PackageSumError} naming the package, expected and
 * found. The lock this resolution implies is returned; only `kclrun mod update` writes it.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { PackageLockTimeoutError, withPackageLock } from './cache-lock.js';
import { hashDir } from './dir-hash.js';
import { KclModError, readKclMod, type Dependency, type DependencySource, type KclMod } from './kcl-mod.js';
import { readLock, type KclModLock, type LockedDependency } from './lock.js';
import { RegistryClient, RegistryError } from './oci/client.js';
import { CredentialsFileError, lookupCredentials, type CredentialSource } from './oci/credentials.js';
import { ANNOTATION_SUM, pullPackage } from './oci/package.js';
import { isTag, OciRefError, parseOciRef, type OciRef } from './oci/reference.js';
import { highestVersion, VersionError } from './oci/version.js';
import { kclModOf } from './resolve.js';
import { GitError, type GitRef } from './git.js';
import { redactUrl, SourceFetchError } from './source-url.js';
import { ensureGitCached, findPackageDir, gitCacheDir } from './git-dependency.js';
import { credentialsFor, type SourceCredentials } from './source-credentials.js';

type GitSource = Extract<DependencySource, { kind: 'git' }>;
import { PackageRoot } from './root.js';
import { readPackageSettings, type PackageSettings } from './settings.js';

/** A dependency that could not be fetched: names it, where from, and the registry's answer. */
export class DependencyFetchError extends KclModError {
  override name = 'DependencyFetchError';
  constructor(
    file: string,
    readonly dependency: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(file, `dependency "${dependency}": ${message}`);
    if (options?.cause) this.cause = options.cause;
  }
}

/** A package whose content is not what kcl.mod.lock (or the registry's annotation) says. */
export class PackageSumError extends DependencyFetchError {
  override name = 'PackageSumError';
  constructor(
    file: string,
    dependency: string,
    readonly expected: string,
    readonly found: string,
    what: string,
  ) {
    super(file, dependency, `checksum mismatch (${what}): expected ${expected}, found ${found}`);
  }
}

/** Options for {@link fetchDependencies}. */
export interface FetchOptions {
  settings: PackageSettings;
  /** The lock read beside the top kcl.mod (empty when there is none). */
  lock: KclModLock;
  /** Look in `<package>/vendor` first (default true). */
  vendor?: boolean;
  /** Credentials for a registry (default: kpm's config.json, then Docker's). */
  credentials?: CredentialSource;
  /** Per-request timeout (ms). */
  timeoutMs?: number;
  signal?: AbortSignal;
  env?: NodeJS.ProcessEnv;
  /** Path dependencies outside it (and outside the cache) are not walked; resolution reports them (root.ts). */
  root?: PackageRoot;
  /** `kclrun mod update`: ignore the lock's pinned tags; its sums still bind packages whose version is unchanged. */
  update?: boolean;
  /** What git dependencies' `git` runs under (see GitOptions.runUnder). */
  gitRunUnder?: readonly string[];
  /** Credentials for a git dependency's URL (spec.credentials); default none (git's own config is not read). */
  gitCredentials?: (url: string) => SourceCredentials | undefined;
  /** Clone git dependencies over plain http:// (default true, as kpm). */
  allowHttpGit?: boolean;
}

/** The outcome: where each dependency is (by kcl.mod key), and the lock that records it. */
export interface FetchedDependencies {
  dirs: Map<string, string>;
  lock: KclModLock;
}

/**
 * Pulls in flight in this process, by destination: concurrent renders share one download (undefined: another process
 * put it in place while we waited for its lock).
 */
const inFlight = new Map<string, Promise<{ annotations: Record<string, string> } | undefined>>();

/** kpm's cache directory for `repository:tag`: `<root>/<basename(repository)>_<tag>`. */
export function cacheDir(settings: PackageSettings, repository: string, tag: string): string {
  return join(settings.root, `${basename(repository)}_${tag}`);
}

/**
 * Makes sure `repository:tag` is in the cache, pulling it if its directory has no kcl.mod (a present one is used as
 * it is, as kpm does). `verify` sees a fresh download before it is moved into place and throws to refuse it. Other
 * processes fetching the same package wait for the cache lock and then find it in place (cache-lock.ts).
 */
async function ensureCached(
  client: RegistryClient,
  repository: string,
  tag: string,
  settings: PackageSettings,
  verify: (dir: string, annotationSum: string | undefined) => void,
  signal?: AbortSignal,
): Promise<{ dest: string; pulled: boolean; annotationSum?: string }> {
  const dest = cacheDir(settings, repository, tag);
  if (existsSync(join(dest, 'kcl.mod'))) return { dest, pulled: false };
  mkdirSync(settings.root, { recursive: true });
  let pull = inFlight.get(dest);
  if (!pull) {
    pull = withPackageLock(
      settings.root,
      basename(dest),
      async () => {
        if (existsSync(join(dest, 'kcl.mod'))) return undefined;
        return pullPackage(client, repository, tag, dest, {}, signal, (dir, annotations) => verify(dir, annotations[ANNOTATION_SUM]));
      },
      { signal },
    ).finally(() => inFlight.delete(dest));
    inFlight.set(dest, pull);
  }
  const pulled = await pull;
  return pulled ? { dest, pulled: true, annotationSum: pulled.annotations[ANNOTATION_SUM] } : { dest, pulled: false };
}

function ociRefOf(mod: KclMod, dep: Dependency, settings: PackageSettings): OciRef | undefined {
  const src = dep.source;
  try {
    switch (src.kind) {
      case 'registry':
        return parseOciRef(`${settings.defaultRegistry}/${settings.defaultRepository}/${src.package ?? dep.name}`, src.version);
      case 'repo':
        return parseOciRef(`${src.reg ?? settings.defaultRegistry}/${src.repo}`, src.tag);
      case 'oci':
        return parseOciRef(src.oci, src.tag);
      case 'path':
      case 'git':
        return undefined;
    }
  } catch (err) {
    if (err instanceof OciRefError) throw new DependencyFetchError(mod.file, dep.name, err.message);
    throw err;
  }
}

function vendored(mod: KclMod, dep: Dependency, tag: string | undefined, opts: FetchOptions): string | undefined {
  if (opts.vendor === false) return undefined;
  const vendor = join(dirname(mod.file), 'vendor');
  for (const n of tag ? [`${dep.name}_${tag}`, dep.name] : [dep.name]) if (existsSync(join(vendor, n, 'kcl.mod'))) return join(vendor, n);
  return undefined;
}

/** Fetches every registry dependency of `mod`, transitively. @throws DependencyFetchError (a KclModError) */
export async function fetchDependencies(mod: KclMod, opts: FetchOptions): Promise<FetchedDependencies> {
  const dirs = new Map<string, string>();
  const lock: KclModLock = new Map();
  const clients = new Map<string, RegistryClient>();
  const client = (registry: string) => {
    let c = clients.get(registry);
    if (!c) {
      const credentials = opts.credentials ? opts.credentials(registry) : lookupCredentials(registry, opts.settings.root, opts.env);
      c = new RegistryClient(registry, { credentials, plainHttp: opts.settings.plainHttp || undefined, timeoutMs: opts.timeoutMs, signal: opts.signal });
      clients.set(registry, c);
    }
    return c;
  };

  const visit = async (m: KclMod): Promise<void> => {
    for (const dep of m.dependencies) {
      if (dirs.has(dep.name)) continue;
      const dir = await fetchOne(m, dep);
      if (dir === undefined) continue;
      dirs.set(dep.name, dir);
      if (existsSync(join(dir, 'kcl.mod'))) await visit(readKclMod(join(dir, 'kcl.mod')));
    }
  };

  const fetchOne = async (m: KclMod, dep: Dependency): Promise<string | undefined> => {
    if (dep.source.kind === 'path') {
      const dir = resolve(dirname(m.file), dep.source.path);
      if (opts.root && !opts.root.contains(dir) && !new PackageRoot(opts.settings.root).contains(dir)) return undefined;
      const pkg = existsSync(join(dir, 'kcl.mod')) ? readKclMod(join(dir, 'kcl.mod')) : undefined;
      // kpm locks a local dependency with no source fields.
      if (pkg?.version) lock.set(dep.name, { name: dep.name, full_name: `${pkg.name ?? dep.name}_${pkg.version}`, version: pkg.version });
      return dir;
    }
    if (dep.source.kind === 'git') return vendored(m, dep, dep.source.ref, opts) ?? fetchGit(m, dep, dep.source);
    const ref = ociRefOf(m, dep, opts.settings);
    const local = vendored(m, dep, ref?.tag, opts);
    if (local) return local;
    if (!ref) return undefined;
    const locked = opts.lock.get(dep.name);
    const pinned = !opts.update && locked?.oci_tag && (locked.reg ?? opts.settings.defaultRegistry) === ref.registry && locked.repo === ref.repository;
    const where = () => `oci://${ref.registry}/${ref.repository}`;
    let tag = ref.tag ?? (pinned ? locked!.oci_tag : undefined);
    try {
      if (tag === undefined) {
        if (opts.settings.offline) throw new DependencyFetchError(m.file, dep.name, `${where()} has no tag and no locked version, and kclrun is offline`);
        tag = highestVersion(await client(ref.registry).tags(ref.repository));
        if (tag === undefined) throw new DependencyFetchError(m.file, dep.name, `${where()} has no version tags`);
      }
      if (!isTag(tag)) throw new DependencyFetchError(m.file, dep.name, `${where()}: "${tag}" is not a tag`);
      const expectedTag = tag;
      const verify = (dir: string, annotationSum: string | undefined) => {
        const expected = opts.update ? undefined : locked?.sum;
        if (expected && annotationSum && annotationSum !== expected) {
          throw new PackageSumError(m.file, dep.name, expected, annotationSum, `kcl.mod.lock vs the registry's ${ANNOTATION_SUM} of ${where()}:${expectedTag}`);
        }
        const content = annotationSum ? hashDir(dir) : undefined;
        if (annotationSum && content !== annotationSum) {
          throw new PackageSumError(m.file, dep.name, annotationSum, content!, `the registry's ${ANNOTATION_SUM} of ${where()}:${expectedTag} vs the downloaded content`);
        }
      };
      if (opts.settings.offline && !existsSync(join(cacheDir(opts.settings, ref.repository, tag), 'kcl.mod'))) {
        throw new DependencyFetchError(m.file, dep.name, `${where()}:${tag} is not in the package cache (${cacheDir(opts.settings, ref.repository, tag)}) and kclrun is offline`);
      }
      const { dest, pulled, annotationSum } = await ensureCached(client(ref.registry), ref.repository, tag, opts.settings, verify, opts.signal);
      const found = hashDir(dest);
      const pkg = readKclMod(join(dest, 'kcl.mod'));
      const version = pkg.version ?? tag;
      const expected = opts.update && locked?.version !== version ? undefined : locked?.sum;
      if (expected && found !== expected) throw new PackageSumError(m.file, dep.name, expected, found, `kcl.mod.lock vs the content of ${dest}`);
      // kpm keeps the locked sum while the version stays; otherwise it records the registry's (none without one).
      const sum = locked?.sum && locked.version === version ? locked.sum : pulled ? annotationSum : found;
      const entry: LockedDependency = {
        name: dep.name,
        full_name: `${pkg.name ?? dep.name}_${version}`,
        version,
        ...(sum && { sum }),
        ...(dep.source.kind !== 'repo' || dep.source.reg ? { reg: ref.registry } : {}),
        repo: ref.repository,
        oci_tag: tag,
      };
      lock.set(dep.name, entry);
      return dest;
    } catch (err) {
      if (err instanceof KclModError) throw err;
      if (err instanceof RegistryError || err instanceof VersionError || err instanceof CredentialsFileError || err instanceof PackageLockTimeoutError) {
        throw new DependencyFetchError(m.file, dep.name, `${where()}${tag ? `:${tag}` : ''}: ${err.message}`, { cause: err });
      }
      throw err;
    }
  };

  /** A git dependency: cloned into kpm's layout (see git-dependency.ts); no ref → the locked commit, else HEAD. */
  const fetchGit = async (m: KclMod, dep: Dependency, src: GitSource): Promise<string> => {
    const shown = redactUrl(src.git);
    const locked = opts.lock.get(dep.name);
    const sameSource = locked?.url === src.git;
    const ref: GitRef | undefined =
      src.refKind && src.ref ? { kind: src.refKind, value: src.ref } : !opts.update && sameSource && locked?.commit ? { kind: 'commit', value: locked.commit } : undefined;
    const lockedSum = sameSource ? locked?.sum : undefined;
    if (opts.settings.offline) {
      const dir = ref && gitCacheDir(opts.settings.root, src.git, ref.value);
      if (!dir) throw new DependencyFetchError(m.file, dep.name, `${shown} has no tag, branch or commit and no locked commit, and kclrun is offline`);
      if (!existsSync(join(dir, 'kcl.mod'))) throw new DependencyFetchError(m.file, dep.name, `${shown} is not in the package cache (${dir}) and kclrun is offline`);
    }
    const at = ref ? ` ${ref.kind} ${ref.value}` : '';
    const checkSum = (dir: string, version: string | undefined) => {
      const expected = opts.update && locked?.version !== version ? undefined : lockedSum;
      const found = expected ? hashDir(dir) : undefined;
      if (expected && found !== expected) throw new PackageSumError(m.file, dep.name, expected, found!, `kcl.mod.lock vs the content of ${shown}${at}`);
    };
    let cached: Awaited<ReturnType<typeof ensureGitCached>>;
    try {
      // kpm clones a git:// URL over https (Git.GetCanonicalizedUrl); the lock keeps the URL as written.
      const cloneUrl = src.git.replace(/^git:\/\//i, 'https://');
      cached = await ensureGitCached(cloneUrl, ref, opts.settings.root, {
        credentials: opts.gitCredentials?.(cloneUrl),
        allowHttp: opts.allowHttpGit,
        timeoutMs: opts.timeoutMs,
        signal: opts.signal,
        runUnder: opts.gitRunUnder,
        verify: (dir) => checkSum(packageIn(dir), readVersion(packageIn(dir))),
      });
    } catch (err) {
      if (err instanceof GitError) throw new DependencyFetchError(m.file, dep.name, `${shown}${at}: ${err.reason}`, { cause: err });
      throw err;
    }
    function packageIn(dir: string): string {
      if (src.package === undefined && src.version === undefined) return dir;
      const found = findPackageDir(dir, src.package ?? dep.name, src.version);
      if (!found) throw new DependencyFetchError(m.file, dep.name, `${shown}${at} holds no kcl.mod with name "${src.package ?? dep.name}"${src.version ? ` and version "${src.version}"` : ''}`);
      return found;
    }
    const dir = packageIn(cached.dest);
    const version = readVersion(dir);
    if (!cached.cloned) checkSum(dir, version);
    const pkg = existsSync(join(dir, 'kcl.mod')) ? readKclMod(join(dir, 'kcl.mod')) : undefined;
    // kpm records git deps without a sum; a sum already locked for the same version stays.
    const sum = lockedSum && locked?.version === version ? lockedSum : undefined;
    const refField = ref ? { [ref.kind === 'tag' ? 'git_tag' : ref.kind]: ref.value } : { commit: cached.commit };
    lock.set(dep.name, {
      name: dep.name,
      full_name: `${pkg?.name ?? dep.name}_${version ?? ''}`,
      ...(version && { version }),
      ...(sum && { sum }),
      url: src.git,
      ...refField,
      ...(src.package && { package: src.package }),
    });
    return dir;
  };

  await visit(mod);
  return { dirs, lock };
}

function readVersion(dir: string): string | undefined {
  return existsSync(join(dir, 'kcl.mod')) ? readKclMod(join(dir, 'kcl.mod')).version : undefined;
}

/** Options for {@link fetchForPaths}. */
export interface FetchForPathsOptions {
  vendor?: boolean;
  /** The package root (default: `defaultPackageRoot` of the package). */
  root?: PackageRoot;
  update?: boolean;
  env?: NodeJS.ProcessEnv;
  /** Registry credentials (default: kpm's config.json, then Docker's, found through `env`). */
  credentials?: CredentialSource;
  signal?: AbortSignal;
  timeoutMs?: number;
  /** spec.credentials: for the registries and git hosts they name (before `credentials` for registries). */
  sourceCredentials?: readonly SourceCredentials[];
  /** What git dependencies' `git` runs under (see GitOptions.runUnder). */
  gitRunUnder?: readonly string[];
}

/**
 * fetchDependencies' credential lookups: `list` (spec.credentials) first; then, for a registry, `opts.credentials`
 * when set, else kpm's and Docker's config.json.
 */
export function credentialOptions(opts: FetchForPathsOptions, settings: PackageSettings, env: NodeJS.ProcessEnv): Pick<FetchOptions, 'credentials' | 'gitCredentials'> {
  const list = opts.sourceCredentials;
  const fallback = opts.credentials ?? ((registry: string) => lookupCredentials(registry, settings.root, env));
  return {
    credentials: (registry) => credentialsFor(list, registry) ?? fallback(registry),
    gitCredentials: (url) => credentialsFor(list, url),
  };
}

/**
 * For the package holding `paths[0]`: reads its kcl.mod and kcl.mod.lock and fetches the dependencies (see
 * {@link fetchDependencies}); undefined when there is no kcl.mod. @throws KclModError
 */
export async function fetchForPaths(paths: readonly string[], opts: FetchForPathsOptions = {}): Promise<(FetchedDependencies & { mod: KclMod }) | undefined> {
  const found = kclModOf(paths, opts.root);
  if (!found) return undefined;
  const { modFile, root } = found;
  const mod = readKclMod(modFile);
  const env = opts.env ?? process.env;
  const lockFile = join(dirname(modFile), 'kcl.mod.lock');
  if (existsSync(lockFile)) root.check(lockFile, 'kcl.mod.lock');
  const lock = readLock(lockFile);
  const settings = readPackageSettings(env);
  const fetched = await fetchDependencies(mod, {
    settings,
    lock,
    vendor: opts.vendor,
    env,
    signal: opts.signal,
    timeoutMs: opts.timeoutMs,
    update: opts.update,
    root,
    gitRunUnder: opts.gitRunUnder,
    ...credentialOptions(opts, settings, env),
  });
  return { ...fetched, mod };
}

/**
 * Fetches the KCL package an `oci://host[:port]/repo[:tag]` source names (no tag: the highest version) into the
 * package cache, checked against the registry's sum annotation, and returns its directory. @throws SourceFetchError
 */
export async function fetchOciSource(source: string, opts: FetchForPathsOptions = {}): Promise<string> {
  const env = opts.env ?? process.env;
  const settings = readPackageSettings(env);
  try {
    const ref = parseOciRef(source);
    const client = new RegistryClient(ref.registry, {
      credentials: credentialOptions(opts, settings, env).credentials!(ref.registry),
      plainHttp: settings.plainHttp || undefined,
      timeoutMs: opts.timeoutMs,
      signal: opts.signal,
    });
    let tag = ref.tag;
    if (tag === undefined) {
      if (settings.offline) throw new SourceFetchError(source, 'has no tag, and kclrun is offline');
      tag = highestVersion(await client.tags(ref.repository));
      if (tag === undefined) throw new SourceFetchError(source, 'the repository has no version tags');
    }
    if (!isTag(tag)) throw new SourceFetchError(source, `"${tag}" is not a tag`);
    if (settings.offline && !existsSync(join(cacheDir(settings, ref.repository, tag), 'kcl.mod'))) {
      throw new SourceFetchError(source, `is not in the package cache (${cacheDir(settings, ref.repository, tag)}) and kclrun is offline`);
    }
    const verify = (dir: string, annotationSum: string | undefined) => {
      const found = annotationSum ? hashDir(dir) : undefined;
      if (annotationSum && found !== annotationSum) {
        throw new SourceFetchError(source, `checksum mismatch (the registry's ${ANNOTATION_SUM} vs the downloaded content): expected ${annotationSum}, found ${found}`);
      }
    };
    return (await ensureCached(client, ref.repository, tag, settings, verify, opts.signal)).dest;
  } catch (err) {
    if (err instanceof SourceFetchError) throw err;
    if (
      err instanceof RegistryError ||
      err instanceof VersionError ||
      err instanceof OciRefError ||
      err instanceof CredentialsFileError ||
      err instanceof PackageLockTimeoutError
    ) {
      throw new SourceFetchError(source, err.message, { cause: err });
    }
    throw err;
  }
}
