/**
 * Packs a directory the way source-controller does (fluxcd/pkg/artifact/storage `Archive`):
 * a gzipped USTAR archive of the content root walked in lexical order, starting with a `.`
 * directory entry, names relative to the root (no wrapper dir), uid/gid 0, no user/group
 * names, zero mtime, modes normalised to 0750 (dirs) / 0600 (files) / 0700 (executables), and
 * anything that is neither a regular file nor a directory (symlinks…) left out.
 */
import { lstatSync, readdirSync, readFileSync, type Stats } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";

/** Options for {@link packDirectory}. */
export interface PackCfg {
  /** Leave out a path (relative, `/`-separated) and, for a directory, everything below it. Default: `.git`. */
  exclude?: (rel: string, stat: Stats) => boolean;
}

const BLOCK = 512;

function octal(buf: Buffer, off: number, len: number, value: number): void {
  buf.write(value.toString(8).padStart(len - 1, "0") + "\0", off, len, "ascii");
}

function splitName(name: string): [prefix: string, name: string] {
  if (Buffer.byteLength(name) <= 100) return ["", name];
  for (let i = name.lastIndexOf("/"); i > 0; i = name.lastIndexOf("/", i - 1)) {
    const [p, n] = [name.slice(0, i), name.slice(i + 1)];
    if (Buffer.byteLength(p) <= 155 && Buffer.byteLength(n) <= 100 && n) return [p, n];
  }
  throw new Error(`packDirectory: path too long for a USTAR header: ${name}`);
}

function header(name: string, mode: number, size: number, type: "0" | "5"): Buffer {
  const h = Buffer.alloc(BLOCK);
  const [prefix, base] = splitName(name);
  h.write(base, 0, 100, "utf8");
  octal(h, 100, 8, mode);
  octal(h, 108, 8, 0);
  octal(h, 116, 8, 0);
  octal(h, 124, 12, size);
  octal(h, 136, 12, 0);
  h.write(type, 156, 1, "ascii");
  h.write("ustar\x0000", 257, 8, "binary");
  octal(h, 329, 8, 0); // devmajor, written by Go's archive/tar too
  octal(h, 337, 8, 0); // devminor
  h.write(prefix, 345, 155, "utf8");
  h.fill(" ", 148, 156);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(sum.toString(8).padStart(6, "0") + "\0 ", 148, 8, "ascii");
  return h;
}

/** Returns the `.tar.gz` bytes of `dir` (see the module comment for the exact layout). */
export function packDirectory(dir: string, cfg: PackCfg = {}): Buffer {
  const exclude = cfg.exclude ?? ((rel) => rel === ".git" || rel.startsWith(".git/"));
  const parts: Buffer[] = [];
  const walk = (rel: string) => {
    const stat = lstatSync(rel === "." ? dir : join(dir, rel));
    if (rel !== "." && exclude(rel, stat)) return;
    if (stat.isDirectory()) {
      parts.push(header(rel, 0o750, 0, "5"));
      const names = readdirSync(join(dir, rel)).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
      for (const n of names) walk(rel === "." ? n : `${rel}/${n}`);
    } else if (stat.isFile()) {
      const data = readFileSync(join(dir, rel));
      parts.push(header(rel, stat.mode & 0o111 ? 0o700 : 0o600, data.length, "0"), data);
      if (data.length % BLOCK) parts.push(Buffer.alloc(BLOCK - (data.length % BLOCK)));
    }
  };
  walk(".");
  parts.push(Buffer.alloc(2 * BLOCK));
  return gzipSync(Buffer.concat(parts));
}
