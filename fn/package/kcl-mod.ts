/**
 * Reads a `kcl.mod` manifest: the package name, `[profile] entries` and `[dependencies]`, each dependency parsed
 * once into a tagged union so callers dispatch with an exhaustive switch.
 */
import { readFileSync } from 'node:fs';
import { parse, TomlError } from 'smol-toml';
import { isJsonObject } from '../../krm/index.js';

/** Which ref a git dependency pins (kpm accepts at most one). */
export type GitRefKind = 'tag' | 'commit' | 'branch';

/**
 * Where a dependency comes from, one variant per form kpm accepts (pkg/downloader/toml.go; when a table has several
 * source keys, `path` wins over `git`, `git` over `oci`, `oci` over `repo`):
 * - `path`: `{ path = "../dep" }`, relative to kcl.mod, used in place;
 * - `registry`: `k8s = "1.28"` or `{ version = "1.28" }` — `<KPM_REG>/<KPM_REPO>/<package>:<version>`; with
 *   `package = "k8s"` the registry package differs from the import name;
 * - `repo`: `{ repo = "org/path/pkg", tag = "t", reg = "host" }` — a repository on the default (or `reg`) registry;
 * - `oci`: `{ oci = "oci://host/a/b", tag = "t" }` (no tag: the highest semver tag);
 * - `git`: `{ git = "url", tag | commit | branch = "…" }` (no ref: the default branch's HEAD).
 * `version` on a non-registry form names the version the fetched tree's kcl.mod must declare; `package` the
 * package name it must declare (default: the dependency's key).
 */
export type DependencySource =
  | { kind: 'path'; path: string; version?: string; package?: string }
  | { kind: 'registry'; version: string; package?: string }
  | { kind: 'repo'; repo: string; tag?: string; reg?: string; version?: string; package?: string }
  | { kind: 'oci'; oci: string; tag?: string; version?: string; package?: string }
  | { kind: 'git'; git: string; ref?: string; refKind?: GitRefKind; version?: string; package?: string };

/** One `[dependencies]` entry: `name` is the key (the import name is it with `-` as `_`). */
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
    /** Why, without the file and line (a diagnostic carries those apart). */
    readonly reason: string,
    readonly line?: number,
  ) {
    super(`${file}${line ? `:${line}` : ''}: ${reason}`);
  }
}

type Table = Record<string, unknown>;

function asTable(v: unknown): Table {
  return isJsonObject(v) ? v : {};
}

const GIT_REF_KINDS: readonly GitRefKind[] = ['tag', 'commit', 'branch'];

function optional(file: string, name: string, t: Table, key: string): string | undefined {
  const v = t[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || v === '') throw new KclModError(file, `dependency "${name}": ${key} must be a non-empty string`);
  return v;
}

/** Parses one `[dependencies]` value into its source, with kpm's precedence between source keys. */
export function parseDependency(file: string, name: string, spec: unknown): Dependency {
  if (typeof spec === 'string') {
    if (spec === '') throw new KclModError(file, `dependency "${name}": the version must not be empty`);
    return { name, source: { kind: 'registry', version: spec } };
  }
  if (!spec || typeof spec !== 'object' || Array.isArray(spec)) {
    throw new KclModError(file, `dependency "${name}": expected a version string or a table with path, git, oci, repo or version`);
  }
  const t = spec as Table;
  const get = (key: string) => optional(file, name, t, key);
  const named = { ...(get('version') !== undefined && { version: get('version') }), ...(get('package') !== undefined && { package: get('package') }) };
  const path = get('path');
  if (path !== undefined) return { name, source: { kind: 'path', path, ...named } };
  const git = get('git');
  if (git !== undefined) {
    const refs = GIT_REF_KINDS.filter((k) => get(k) !== undefined);
    if (refs.length > 1) throw new KclModError(file, `dependency "${name}": give at most one of tag, commit and branch (got ${refs.join(', ')})`);
    const refKind = refs[0];
    return { name, source: { kind: 'git', git, ...(refKind && { ref: get(refKind), refKind }), ...named } };
  }
  const tag = get('tag');
  const oci = get('oci');
  if (oci !== undefined) return { name, source: { kind: 'oci', oci, ...(tag !== undefined && { tag }), ...named } };
  const repo = get('repo');
  if (repo !== undefined) {
    const reg = get('reg');
    return { name, source: { kind: 'repo', repo, ...(tag !== undefined && { tag }), ...(reg !== undefined && { reg }), ...named } };
  }
  if (named.version !== undefined) return { name, source: { kind: 'registry', version: named.version, ...(named.package !== undefined && { package: named.package }) } };
  throw new KclModError(file, `dependency "${name}": expected a version string or a table with path, git, oci, repo or version`);
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

/** Reads and parses `kcl.mod` at `file`. */
export function readKclMod(file: string): KclMod {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new KclModError(file, (err as Error).message);
  }
  return parseKclMod(text, file);
}

/** Parses kcl.mod `text`; `file` names it in errors and anchors `path` dependencies. */
export function parseKclMod(text: string, file: string): KclMod {
  let doc: Table;
  try {
    doc = parse(text) as Table;
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
    dependencies: Object.entries(asTable(doc.dependencies)).map(([n, s]) => parseDependency(file, n, s)),
  };
}
