/**
 * Fetches a package's registry dependencies into the package cache, transitively, as one flat set keyed by
 * dependency name — the step `kcl run` (kpm) takes before running. Registry (`k8s = "1.28"`), `repo` and `oci`
 * dependencies are pulled into kpm's layout, `<root>/<basename(repo)>_<tag>`; a directory there holding a kcl.mod is
 * used as it is, as kpm does. `path` dependencies are walked for their own dependencies; vendored copies win;
 * git dependencies must be vendored or cached.
 *
 * kcl.mod.lock is honoured: a dependency without a tag takes the locked `oci_tag` (else the highest version among
 * the registry's tags), and a locked `sum` must equal both the registry's `org.kcllang.package.sum` annotation and
 * kpm's hash of the unpacked package — a mismatch is a {@link PackageSumError} naming the package, expected and
 * found. The lock this resolution implies is returned; only `kclrun mod update` writes it.
 */
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { hashDir } from './dir-hash.js';
import { KclModError, readKclMod, type Dependency, type KclMod } from './kcl-mod.js';
import { readLock, type KclModLock, type LockedDependency } from './lock.js';
import { RegistryClient, RegistryError } from './oci/client.js';
import { CredentialsFileError, lookupCredentials, type CredentialSource } from './oci/credentials.js';
import { ANNOTATION_SUM, pullPackage } from './oci/package.js';
import { isTag, OciRefError, parseOciRef, type OciRef } from './oci/reference.js';
import { highestVersion, VersionError } from './oci/version.js';
import { findKclMod } from './resolve.js';
import { defaultPackageRoot, PackageRoot } from './root.js';
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
}

/** The outcome: where each dependency is (by kcl.mod key), and the lock that records it. */
export interface FetchedDependencies {
  dirs: Map<string, string>;
  lock: KclModLock;
}

/** Pulls in flight in this process, by destination: concurrent renders share one download. */
const inFlight = new Map<string, Promise<{ annotations: Record<string, string> }>>();

/** kpm's cache directory for `repository:tag`: `<root>/<basename(repository)>_<tag>`. */
export function cacheDir(settings: PackageSettings, repository: string, tag: string): string {
  return join(settings.root, `${basename(repository)}_${tag}`);
}

/**
 * Makes sure `repository:tag` is in the cache, pulling it if its directory has no kcl.mod (a present one is used as
 * it is, as kpm does). `verify` sees a fresh download before it is moved into place and throws to refuse it.
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
    pull = pullPackage(client, repository, tag, dest, {}, signal, (dir, annotations) => verify(dir, annotations[ANNOTATION_SUM])).finally(() => inFlight.delete(dest));
    inFlight.set(dest, pull);
  }
  return { dest, pulled: true, annotationSum: (await pull).annotations[ANNOTATION_SUM] };
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

function vendored(mod: KclMod, dep: Dependency, ref: OciRef | undefined, opts: FetchOptions): string | undefined {
  if (opts.vendor === false) return undefined;
  const vendor = join(dirname(mod.file), 'vendor');
  const tag = ref?.tag;
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
    const ref = ociRefOf(m, dep, opts.settings);
    const local = vendored(m, dep, ref, opts);
    if (local) return local;
    if (!ref) return undefined; // git: vendored or cached copies only (resolution reports it if missing)
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
      if (err instanceof RegistryError || err instanceof VersionError || err instanceof CredentialsFileError) {
        throw new DependencyFetchError(m.file, dep.name, `${where()}${tag ? `:${tag}` : ''}: ${err.message}`, { cause: err });
      }
      throw err;
    }
  };

  await visit(mod);
  return { dirs, lock };
}

/** Options for {@link fetchForPaths}. */
export interface FetchForPathsOptions {
  vendor?: boolean;
  /** The package root (default: {@link defaultPackageRoot} of the package). */
  root?: PackageRoot;
  update?: boolean;
  env?: NodeJS.ProcessEnv;
  /** Registry credentials (default: kpm's config.json, then Docker's, found through `env`). */
  credentials?: CredentialSource;
  signal?: AbortSignal;
  timeoutMs?: number;
}

/**
 * For the package holding `paths[0]`: reads its kcl.mod and kcl.mod.lock and fetches the dependencies (see
 * {@link fetchDependencies}); undefined when there is no kcl.mod. @throws KclModError
 */
export async function fetchForPaths(paths: readonly string[], opts: FetchForPathsOptions = {}): Promise<(FetchedDependencies & { mod: KclMod }) | undefined> {
  const first = resolve(paths[0] ?? '.');
  if (!existsSync(first)) return undefined;
  const dir = statSync(first).isDirectory() ? first : dirname(first);
  const root = opts.root ?? new PackageRoot(defaultPackageRoot(dir));
  const modFile = findKclMod(dir, root);
  if (!modFile) return undefined;
  const mod = readKclMod(modFile);
  const env = opts.env ?? process.env;
  const lockFile = join(dirname(modFile), 'kcl.mod.lock');
  if (existsSync(lockFile)) root.check(lockFile, 'kcl.mod.lock');
  const lock = readLock(lockFile);
  const fetched = await fetchDependencies(mod, {
    settings: readPackageSettings(env),
    lock,
    vendor: opts.vendor,
    env,
    credentials: opts.credentials,
    signal: opts.signal,
    timeoutMs: opts.timeoutMs,
    update: opts.update,
    root,
  });
  return { ...fetched, mod };
}

/** An `oci://` program source that could not be fetched: names the source and the registry's answer. */
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
      credentials: opts.credentials ? opts.credentials(ref.registry) : lookupCredentials(ref.registry, settings.root, env),
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
    if (err instanceof RegistryError || err instanceof VersionError || err instanceof OciRefError || err instanceof CredentialsFileError) throw new SourceFetchError(source, err.message, { cause: err });
    throw err;
  }
}
