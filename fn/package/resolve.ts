/**
 * Resolves what to hand the engine for a path, the way `kcl run` does in it: the entry files (`[profile] entries`
 * in order, else the package's `.k` files), the work dir, and the external packages for `kcl.mod` dependencies —
 * local `path` dependencies, vendored copies, or copies already in the KCL package cache. Nothing is downloaded:
 * a dependency that would need a registry is an error that names it and says how to vendor it.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import type { ExternalPkg } from '../engine/messages.js';
import { KclModError, readKclMod, type Dependency, type KclMod } from './kcl-mod.js';

/** The engine inputs for one package or file. */
export interface ResolvedProgram {
  workDir: string;
  files: string[];
  externalPkgs: ExternalPkg[];
  /** The manifest that governed resolution, if any. */
  kclMod?: KclMod;
}

/** Options for resolution. */
export interface ResolveOptions {
  /** Look for dependencies in `<package>/vendor` (kcl run --vendor); default true, like a checked-in vendor dir. */
  vendor?: boolean;
  /** Environment used for KCL_PKG_PATH (the KCL package cache); default process.env. */
  env?: NodeJS.ProcessEnv;
}

/** Finds the nearest `kcl.mod` at or above `dir`. */
export function findKclMod(dir: string): string | undefined {
  for (let d = resolve(dir); ; d = dirname(d)) {
    const f = join(d, 'kcl.mod');
    if (existsSync(f)) return f;
    if (dirname(d) === d) return undefined;
  }
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

function dependencyDir(mod: KclMod, dep: Dependency, opts: ResolveOptions): string {
  const root = dirname(mod.file);
  const src = dep.source;
  switch (src.kind) {
    case 'path': {
      const p = resolve(root, src.path);
      if (!existsSync(p)) throw new KclModError(mod.file, `dependency "${dep.name}": path ${src.path} does not exist`);
      return p;
    }
    case 'registry':
    case 'oci':
    case 'git': {
      const version = src.kind === 'registry' ? src.version : src.kind === 'oci' ? src.tag : src.ref;
      const names = version ? [`${dep.name}_${version}`, dep.name] : [dep.name];
      const env = opts.env ?? process.env;
      const cache = env.KCL_PKG_PATH || join(env.HOME || homedir(), '.kcl', 'kpm');
      const roots = [...(opts.vendor === false ? [] : [join(root, 'vendor')]), cache];
      for (const r of roots) for (const n of names) if (existsSync(join(r, n, 'kcl.mod'))) return join(r, n);
      const what = src.kind === 'registry' ? `version ${src.version} from the default registry` : src.kind === 'oci' ? src.oci : src.git;
      throw new KclModError(
        mod.file,
        `dependency "${dep.name}" (${what}) is not available locally: kclrun does not download packages. ` +
          `Vendor it (\`kcl mod vendor\`, or copy it to ${join(root, 'vendor', names[0]!)}) ` +
          `or declare it as a path dependency (${dep.name} = { path = "..." })`,
      );
    }
  }
}

/** External packages for a manifest's dependencies, and transitively for theirs. */
export function externalPackages(mod: KclMod, opts: ResolveOptions = {}, seen = new Map<string, string>()): ExternalPkg[] {
  for (const dep of mod.dependencies) {
    const name = pkgName(dep.name);
    if (seen.has(name)) continue;
    const dir = dependencyDir(mod, dep, opts);
    seen.set(name, dir);
    const nested = join(dir, 'kcl.mod');
    if (existsSync(nested)) externalPackages(readKclMod(nested), opts, seen);
  }
  return [...seen].map(([name, path]) => ({ name, path }));
}

/**
 * Resolves a package directory, or one or more `.k` files (run together as one program, like `kcl run a.k b.k`),
 * into engine inputs. Throws KclModError for missing paths and manifest problems.
 */
export function resolveProgram(paths: string | readonly string[], opts: ResolveOptions = {}): ResolvedProgram {
  const list = typeof paths === 'string' ? [paths] : paths;
  if (list.length > 1) {
    const first = resolveProgram(list[0]!, opts);
    for (const p of list.slice(1)) {
      const f = resolve(p);
      if (!existsSync(f) || statSync(f).isDirectory()) throw new KclModError(f, 'with several paths, each must be a .k file');
      first.files.push(f);
    }
    return first;
  }
  const target = resolve(list[0] ?? '.');
  if (!existsSync(target)) throw new KclModError(target, 'no such file or directory');
  const isDir = statSync(target).isDirectory();
  const dir = isDir ? target : dirname(target);
  const modFile = findKclMod(dir);
  const kclMod = modFile ? readKclMod(modFile) : undefined;
  const externalPkgs = kclMod ? externalPackages(kclMod, opts) : [];
  let files: string[];
  if (!isDir) files = [target];
  else if (kclMod && dirname(kclMod.file) === dir && kclMod.entries.length > 0) {
    files = kclMod.entries.map((e) => (e.startsWith('${') ? e : resolve(dir, e)));
  } else files = packageFiles(dir);
  if (files.length === 0) throw new KclModError(target, 'no KCL files (*.k) to run');
  return { workDir: dir, files, externalPkgs, kclMod };
}
