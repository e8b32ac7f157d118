/**
 * Resolves what to hand the engine for a path, the way `kcl run` does in it: the entry files (`[profile] entries`
 * in order, else the package's `.k` files), the work dir, and the external packages for `kcl.mod` dependencies —
 * local `path` dependencies, registry packages fetched by fetch.ts, vendored copies, or copies already in the KCL
 * package cache. A git dependency found in none of them is an error that names it and says how to vendor it.
 * Everything but the package cache stays inside the package root (`root.ts`).
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import type { ExternalPkg } from '../engine/messages.js';
import { KclModError, readKclMod, type Dependency, type KclMod } from './kcl-mod.js';
import { defaultPackageRoot, PackageRoot, upwards } from './root.js';

/** The engine inputs for one package or file. */
export interface ResolvedProgram {
  workDir: string;
  files: string[];
  externalPkgs: ExternalPkg[];
  /** The manifest that governed resolution, if any. */
  kclMod?: KclMod;
  /** The root resolution stayed inside (settings files must stay inside it too). */
  root: PackageRoot;
}

/** Options for resolution. */
export interface ResolveOptions {
  /** Look for dependencies in `<package>/vendor` (kcl run --vendor); default true, like a checked-in vendor dir. */
  vendor?: boolean;
  /** Environment used for KCL_PKG_PATH (the KCL package cache); default process.env. */
  env?: NodeJS.ProcessEnv;
  /** The directory resolution must stay inside; default {@link defaultPackageRoot} of the package's directory. */
  root?: PackageRoot;
  /** Where registry dependencies were fetched to, by kcl.mod key (fetch.ts); used before vendor and cache. */
  fetched?: ReadonlyMap<string, string>;
}

/** Finds the nearest `kcl.mod` at or above `dir`, not above `root`. */
export function findKclMod(dir: string, root?: PackageRoot): string | undefined {
  for (const d of upwards(dir)) {
    if (root && !root.holdsLexically(d)) return undefined;
    if (existsSync(join(d, 'kcl.mod'))) return join(d, 'kcl.mod');
  }
  return undefined;
}

/**
 * The `kcl.mod` governing the package that holds `paths[0]` (its nearest, not above `root`, by default
 * {@link defaultPackageRoot} of its directory), with that root; undefined when there is none.
 */
export function kclModOf(paths: readonly string[], root?: PackageRoot): { modFile: string; root: PackageRoot } | undefined {
  const first = resolve(paths[0] ?? '.');
  if (!existsSync(first)) return undefined;
  const dir = statSync(first).isDirectory() ? first : dirname(first);
  const inside = root ?? new PackageRoot(defaultPackageRoot(dir));
  const modFile = findKclMod(dir, inside);
  return modFile ? { modFile, root: inside } : undefined;
}

function packageFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.k') && !f.endsWith('_test.k'))
    .sort()
    .map((f) => join(dir, f));
}

function pkgName(name: string): string {
  return name.replace(/-/g, '_');
}

/** True for a name or version that is one plain path segment (it is joined into vendor and cache paths). */
export function isPlainSegment(s: string): boolean {
  return s !== '' && s !== '.' && s !== '..' && !/[/\\\0]/.test(s);
}

function packageCache(opts: ResolveOptions): string {
  const env = opts.env ?? process.env;
  return resolve(env.KCL_PKG_PATH || join(env.HOME || homedir(), '.kcl', 'kpm'));
}

function dependencyDir(mod: KclMod, dep: Dependency, opts: ResolveOptions, root: PackageRoot): string {
  const dir = dirname(mod.file);
  const src = dep.source;
  switch (src.kind) {
    case 'path': {
      const p = resolve(dir, src.path);
      if (!existsSync(p)) throw new KclModError(mod.file, `dependency "${dep.name}": path ${src.path} does not exist`);
      root.check(p, `dependency "${dep.name}": path ${src.path}`, mod.file);
      return p;
    }
    case 'registry':
    case 'repo':
    case 'oci':
    case 'git': {
      const fetched = opts.fetched?.get(dep.name);
      if (fetched) return fetched;
      const version = src.kind === 'registry' ? src.version : src.kind === 'git' ? src.ref : src.tag;
      if (!isPlainSegment(dep.name) || (version !== undefined && !isPlainSegment(version))) {
        throw new KclModError(mod.file, `dependency "${dep.name}": its name and version must not contain path separators or be . or ..`);
      }
      const names = version ? [`${dep.name}_${version}`, dep.name] : [dep.name];
      const vendor = join(dir, 'vendor');
      for (const n of opts.vendor === false ? [] : names) {
        const p = join(vendor, n);
        if (!existsSync(join(p, 'kcl.mod'))) continue;
        root.check(p, `dependency "${dep.name}": vendored copy vendor/${n}`, mod.file);
        return p;
      }
      const cache = packageCache(opts);
      for (const n of names) if (existsSync(join(cache, n, 'kcl.mod'))) return join(cache, n);
      const what = src.kind === 'registry' ? `version ${src.version} from the default registry` : src.kind === 'repo' ? src.repo : src.kind === 'oci' ? src.oci : src.git;
      throw new KclModError(
        mod.file,
        `dependency "${dep.name}" (${what}) is not available locally. ` +
          `Vendor it (\`kcl mod vendor\`, or copy it to ${join(vendor, names[0]!)}) ` +
          `or declare it as a path dependency (${dep.name} = { path = "..." })`,
      );
    }
  }
}

/**
 * External packages for a manifest's dependencies, and transitively for theirs, each inside `root` (default: the
 * manifest's {@link defaultPackageRoot}). A package from the KCL package cache resolves its own dependencies inside
 * the cache.
 */
export function externalPackages(mod: KclMod, opts: ResolveOptions = {}, seen = new Map<string, string>()): ExternalPkg[] {
  const root = opts.root ?? new PackageRoot(defaultPackageRoot(dirname(mod.file)));
  const cache = new PackageRoot(packageCache(opts), 'the KCL package cache');
  for (const dep of mod.dependencies) {
    const name = pkgName(dep.name);
    if (seen.has(name)) continue;
    const dir = dependencyDir(mod, dep, opts, root);
    seen.set(name, dir);
    const nested = join(dir, 'kcl.mod');
    const within = root.contains(dir) ? root : cache;
    if (existsSync(nested)) externalPackages(readKclMod(nested), { ...opts, root: within }, seen);
  }
  return [...seen].map(([name, path]) => ({ name, path }));
}

/** `${KCL_MOD}` (this package) and `${name:KCL_MOD}` (a dependency) in a `[profile] entries` path. */
const ENTRY_VARIABLE = /\$\{(?:([\w-]+):)?KCL_MOD\}/g;

/**
 * Checks one `[profile] entries` path: a plain one must stay inside `root`; one starting with a `${…KCL_MOD}`
 * variable (left for the engine to expand) must stay inside the package the variable names.
 */
function checkEntry(entry: string, mod: KclMod, externalPkgs: readonly ExternalPkg[], root: PackageRoot): void {
  const dir = dirname(mod.file);
  const what = `[profile] entries "${entry}"`;
  if (!entry.includes('${')) return root.check(resolve(dir, entry), what, mod.file);
  const vars = [...entry.matchAll(ENTRY_VARIABLE)];
  const pkg = vars[0]?.[1];
  const base = pkg === undefined ? dir : externalPkgs.find((p) => p.name === pkgName(pkg))?.path;
  if (vars.length !== 1 || vars[0]!.index !== 0 || base === undefined) {
    throw new KclModError(mod.file, `${what}: only \${KCL_MOD} or \${<dependency>:KCL_MOD} may start an entry`);
  }
  const within = pkg === undefined ? root : new PackageRoot(base, `the package of dependency "${pkg}"`);
  // Expanded as the engine does, by plain substitution (`${KCL_MOD}2/x.k` is a sibling directory, not a child).
  within.check(resolve(base + entry.slice(vars[0]![0].length)), what, mod.file);
}

/**
 * Resolves a package directory, or one or more `.k` files (run together as one program, like `kcl run a.k b.k`),
 * into engine inputs, inside `opts.root`. Throws KclModError for missing paths and manifest problems, and its
 * subclass OutsideRootError for anything that leads outside the root.
 */
export function resolveProgram(paths: string | readonly string[], opts: ResolveOptions = {}): ResolvedProgram {
  const list = typeof paths === 'string' ? [paths] : paths;
  if (list.length > 1) {
    const first = resolveProgram(list[0]!, opts);
    for (const p of list.slice(1)) {
      const f = resolve(p);
      if (!existsSync(f) || statSync(f).isDirectory()) throw new KclModError(f, 'with several paths, each must be a .k file');
      first.root.check(f, `file ${p}`);
      first.files.push(f);
    }
    return first;
  }
  const target = resolve(list[0] ?? '.');
  if (!existsSync(target)) throw new KclModError(target, 'no such file or directory');
  const isDir = statSync(target).isDirectory();
  const dir = isDir ? target : dirname(target);
  const root = opts.root ?? new PackageRoot(defaultPackageRoot(dir));
  root.check(target, `path ${list[0] ?? '.'}`);
  const modFile = findKclMod(dir, root);
  if (modFile) root.check(modFile, 'kcl.mod');
  const kclMod = modFile ? readKclMod(modFile) : undefined;
  const externalPkgs = kclMod ? externalPackages(kclMod, { ...opts, root }) : [];
  let files: string[];
  if (!isDir) files = [target];
  else if (kclMod && dirname(kclMod.file) === dir && kclMod.entries.length > 0) {
    for (const e of kclMod.entries) checkEntry(e, kclMod, externalPkgs, root);
    files = kclMod.entries.map((e) => (e.startsWith('${') ? e : resolve(dir, e)));
  } else {
    files = packageFiles(dir);
    for (const f of files) root.check(f, `file ${f.slice(dir.length + 1)}`);
  }
  if (files.length === 0) throw new KclModError(target, 'no KCL files (*.k) to run');
  return { workDir: dir, files, externalPkgs, kclMod, root };
}
