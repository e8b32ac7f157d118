/**
 * The package root: the one directory package resolution may read from. `kcl.mod` discovery stops at it; `path`
 * dependencies, vendored dependencies, `[profile] entries`, `-Y` settings files and the files those list must lie
 * inside it once symlinks are followed (realpath), or resolution fails with a {@link OutsideRootError} naming the path
 * as written. The controller sets the root to the artifact; the CLI and the function default to
 * {@link defaultPackageRoot}. (The KCL package cache, `KCL_PKG_PATH`, is the one other place a dependency may come
 * from: by a plain name, chosen by whoever set up the machine.)
 */
import { existsSync, realpathSync } from 'node:fs';
import { basename, dirname, join, resolve, sep } from 'node:path';
import { KclModError } from './kcl-mod.js';

/** A path that leads outside the package root. `file` is where it was written (kcl.mod, or the path itself). */
export class OutsideRootError extends KclModError {
  override name = 'OutsideRootError';
  constructor(
    file: string,
    /** The path that leads outside (absolute, before symlinks are followed). */
    readonly path: string,
    message: string,
  ) {
    super(file, message);
  }
}

/** Ancestors of `dir`, nearest first, `dir` included. */
export function* upwards(dir: string): Generator<string> {
  for (let d = resolve(dir); ; d = dirname(d)) {
    yield d;
    if (dirname(d) === d) return;
  }
}

/**
 * The root for a package at `dir` when the caller sets none: the git work tree holding it (so a monorepo's `path`
 * dependencies on sibling directories work), else the directory of the nearest `kcl.mod`, else `dir` itself.
 */
export function defaultPackageRoot(dir: string): string {
  for (const d of upwards(dir)) if (existsSync(join(d, '.git'))) return d;
  for (const d of upwards(dir)) if (existsSync(join(d, 'kcl.mod'))) return d;
  return resolve(dir);
}

/** The real path of `path`, or of its nearest existing ancestor joined with the rest (for paths not there yet). */
function realPath(path: string): string {
  const abs = resolve(path);
  try {
    return realpathSync(abs);
  } catch {
    const parent = dirname(abs);
    return parent === abs ? abs : join(realPath(parent), basename(abs));
  }
}

/** True when the absolute path `p` is `dir` or under it. */
function isAtOrUnder(p: string, dir: string): boolean {
  return p === dir || p.startsWith(dir.endsWith(sep) ? dir : dir + sep);
}

/** A package root: answers whether a path stays inside it once symlinks are followed. */
export class PackageRoot {
  /** The root as given (absolute). */
  readonly dir: string;
  /** How messages name the root (default: `the package root (<dir>)`; the controller says `the artifact`). */
  readonly label: string;
  readonly #real: string;

  constructor(dir: string, label?: string) {
    this.dir = resolve(dir);
    this.label = label ?? `the package root (${this.dir})`;
    this.#real = realPath(this.dir);
  }

  /** True when `path`, symlinks followed, is the root or under it. */
  contains(path: string): boolean {
    return isAtOrUnder(realPath(path), this.#real);
  }

  /** Lexically inside (before symlinks): bounds `kcl.mod` discovery. */
  holdsLexically(path: string): boolean {
    return isAtOrUnder(resolve(path), this.dir);
  }

  /**
   * Throws {@link OutsideRootError} unless `path` stays inside the root. `what` names it as the user wrote it
   * (e.g. `dependency "lib": path ../../lib`); `file` is where it was written (default: the path itself).
   */
  check(path: string, what: string, file: string = path): void {
    if (this.contains(path)) return;
    const viaLink = this.holdsLexically(path) ? ` (through a symbolic link, to ${realPath(path)})` : '';
    throw new OutsideRootError(file, resolve(path), `${what} leads outside ${this.label}${viaLink}`);
  }
}
