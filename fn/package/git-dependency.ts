/**
 * Git dependencies in kpm's cache layout (pkg/downloader/source.go `LocalPath`): `{ git = "url", tag = "v1" }` lives
 * in `<root>/<basename of url, extension dropped>_<tag|branch|commit>`; with no ref, the default branch's HEAD is
 * cloned and the directory named after its 7-character commit, as kpm records it. A directory there holding a
 * kcl.mod is used as it is (kpm does not re-check). A fresh clone is checked by `verify`, then renamed into place.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { join, posix } from 'node:path';
import { cloneRepo, GitError, remoteHead, type GitOptions, type GitRef } from './git.js';
import { readKclMod } from './kcl-mod.js';
import { isPlainSegment } from './resolve.js';

/** The cache directory name's stem for a git URL: its last path segment without its extension (kpm: `filepath.Ext`). */
export function gitRepoName(url: string): string {
  const path = url.replace(/[?#].*$/, '').replace(/\/+$/, '');
  const base = posix.basename(path.replace(/^[^/:@]+@[^/:]+:/, '/'));
  const dot = base.lastIndexOf('.');
  return dot > 0 ? base.slice(0, dot) : base;
}

/** kpm's cache directory for `url` at `ref`. */
export function gitCacheDir(root: string, url: string, ref: string): string {
  return join(root, `${gitRepoName(url)}_${ref}`);
}

/** Clones in flight in this process, by cache, URL and ref: concurrent renders share one clone. */
const inFlight = new Map<string, Promise<{ dest: string; commit: string }>>();

/**
 * Makes sure `url` at `ref` is in the cache under `root`; returns its directory, whether it was cloned now, and (when
 * cloned, or with no ref) its 7-character commit. @throws GitError
 */
export async function ensureGitCached(
  url: string,
  ref: GitRef | undefined,
  root: string,
  opts: GitOptions & { verify?: (dir: string) => void },
): Promise<{ dest: string; cloned: boolean; commit?: string }> {
  const name = gitRepoName(url);
  if (!isPlainSegment(name) || (ref && !isPlainSegment(ref.value))) {
    throw new GitError(url, `"${name}_${ref?.value ?? ''}" is not a plain directory name for the package cache`);
  }
  if (ref) {
    const dest = gitCacheDir(root, url, ref.value);
    if (existsSync(join(dest, 'kcl.mod'))) return { dest, cloned: false };
  } else {
    // No ref: the default branch's HEAD; a copy of that commit already cached is used without cloning.
    const commit = (await remoteHead(url, opts)).slice(0, 7);
    const dest = gitCacheDir(root, url, commit);
    if (existsSync(join(dest, 'kcl.mod'))) return { dest, cloned: false, commit };
  }
  const key = `${root}\0${url}\0${ref?.kind ?? ''}\0${ref?.value ?? ''}`;
  let clone = inFlight.get(key);
  if (!clone) {
    clone = (async () => {
      mkdirSync(root, { recursive: true });
      const work = mkdtempSync(join(root, `.clone-${name}-`));
      try {
        const tree = join(work, 'pkg');
        const sha = await cloneRepo(url, ref, tree, opts);
        const commit = sha.slice(0, 7);
        const dest = gitCacheDir(root, url, ref ? ref.value : commit);
        if (!existsSync(join(dest, 'kcl.mod'))) {
          opts.verify?.(tree);
          rmSync(dest, { recursive: true, force: true });
          renameSync(tree, dest);
        }
        return { dest, commit };
      } finally {
        rmSync(work, { recursive: true, force: true });
      }
    })().finally(() => inFlight.delete(key));
    inFlight.set(key, clone);
  }
  const { dest, commit } = await clone;
  return { dest, cloned: true, commit };
}

const SKIP = new Set(['.git', 'node_modules', 'vendor']);

/**
 * With `package`/`version` on a git dependency, kpm looks through the fetched tree for the directory whose kcl.mod
 * declares that name (default: the dependency's key) and version. Breadth first, a few levels deep; none → undefined.
 */
export function findPackageDir(dir: string, name: string, version: string | undefined, depth = 4): string | undefined {
  let level = [dir];
  for (let d = 0; d <= depth && level.length; d++) {
    const next: string[] = [];
    for (const p of level) {
      const mod = join(p, 'kcl.mod');
      if (existsSync(mod)) {
        const m = readKclMod(mod);
        if (m.name === name && (version === undefined || m.version === version)) return p;
      }
      for (const e of readdirSync(p).sort()) {
        const c = join(p, e);
        if (!SKIP.has(e) && statSync(c, { throwIfNoEntry: false })?.isDirectory()) next.push(c);
      }
    }
    level = next;
  }
  return undefined;
}
