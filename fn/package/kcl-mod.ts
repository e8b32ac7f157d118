/**
 * Reads a `kcl.mod` manifest: the package name, `[profile] entries` and `[dependencies]`, each dependency parsed
 * once into a tagged union so callers dispatch with an exhaustive switch.
 */
import { readFileSync } from 'node:fs';
import { parse, TomlError } from 'smol-toml';

/** Where a dependency comes from. Only `path` (and vendored copies of the others) resolve without a network. */
export type DependencySource =
  | { kind: 'path'; path: string }
  | { kind: 'registry'; version: string }
  | { kind: 'oci'; oci: string; tag?: string }
  | { kind: 'git'; git: string; ref?: string };

/** One `[dependencies]` entry. */
export interface Dependency {
  name: string;
  source: DependencySource;
}

/** The parts of `kcl.mod` that rendering needs. */
export interface KclMod {
  file: string;
  name?: string;
  version?: string;
  entries: string[];
  dependencies: Dependency[];
}

/** A `kcl.mod` that cannot be read, with the file (and line where the TOML parser knows it). */
export class KclModError extends Error {
  override name = 'KclModError';
  constructor(
    readonly file: string,
    message: string,
    readonly line?: number,
  ) {
    super(`${file}${line ? `:${line}` : ''}: ${message}`);
  }
}

type Table = Record<string, unknown>;

function asTable(v: unknown): Table {
  return v && typeof v === 'object' && !Array.isArray(v) ? (v as Table) : {};
}

function dependency(file: string, name: string, spec: unknown): Dependency {
  if (typeof spec === 'string') return { name, source: { kind: 'registry', version: spec } };
  const t = asTable(spec);
  if (typeof t.path === 'string') return { name, source: { kind: 'path', path: t.path } };
  if (typeof t.oci === 'string') return { name, source: { kind: 'oci', oci: t.oci, tag: str(t.tag) } };
  if (typeof t.git === 'string') {
    return { name, source: { kind: 'git', git: t.git, ref: str(t.tag) ?? str(t.branch) ?? str(t.commit) } };
  }
  if (typeof t.version === 'string') return { name, source: { kind: 'registry', version: t.version } };
  throw new KclModError(file, `dependency "${name}": expected a version string or a table with path, oci, git or version`);
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

/** Reads and parses `kcl.mod` at `file`. */
export function readKclMod(file: string): KclMod {
  let doc: Table;
  try {
    doc = parse(readFileSync(file, 'utf8')) as Table;
  } catch (err) {
    if (err instanceof TomlError) throw new KclModError(file, err.message.split('\n')[0]!, err.line);
    throw new KclModError(file, (err as Error).message);
  }
  const pkg = asTable(doc.package);
  const profile = asTable(doc.profile);
  const entries = profile.entries ?? [];
  if (!Array.isArray(entries) || entries.some((e) => typeof e !== 'string')) {
    throw new KclModError(file, '[profile] entries must be a list of strings');
  }
  return {
    file,
    name: str(pkg.name),
    version: str(pkg.version),
    entries: entries as string[],
    dependencies: Object.entries(asTable(doc.dependencies)).map(([n, s]) => dependency(file, n, s)),
  };
}
