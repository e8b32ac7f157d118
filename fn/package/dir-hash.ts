/**
 * kpm's package checksum (`HashDir`, pkg/utils/utils.go): the bytes of every file under a package root, walked
 * depth-first with each directory's entries in byte order of name, fed into one SHA-256, as standard base64 —
 * the value registries carry in the `org.kcllang.package.sum` annotation and kcl.mod.lock in `sum`. Names, modes and
 * empty directories do not count; a file whose path contains `.git` or `.tar` is skipped. kpm tests that rule on
 * the full path, root included; here it is tested on the path below the root, so where the package happens to be
 * unpacked (a temp dir called `x.tar.d`, a checkout under `.github`) cannot change its sum.
 */
import { createHash } from 'node:crypto';
import { lstatSync, readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';

/** A package tree kpm's hash cannot cover: a symbolic link to a directory or to a file outside the root. */
export class DirHashError extends Error {
  override name = 'DirHashError';
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(`${path}: ${message}`);
  }
}

const byBytes = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));

function skipped(rel: string): boolean {
  return rel.includes('.git') || rel.includes('.tar');
}

/** kpm's `HashDir` of `root` (44 base64 characters). @throws DirHashError */
export function hashDir(root: string): string {
  const hash = createHash('sha256');
  const realRoot = realpathSync(root);
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort(byBytes)) {
      const path = join(dir, name);
      const st = lstatSync(path);
      if (st.isDirectory()) {
        walk(path);
        continue;
      }
      if (skipped(relative(root, path))) continue;
      if (st.isSymbolicLink()) {
        const target = realpathSync(path);
        if (statSync(target).isDirectory()) throw new DirHashError(path, 'is a symbolic link to a directory');
        if (!target.startsWith(realRoot + sep)) throw new DirHashError(path, 'is a symbolic link to a file outside the package');
      }
      hash.update(readFileSync(path));
    }
  };
  walk(root);
  return hash.digest('base64');
}
