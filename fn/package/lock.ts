/**
 * `kcl.mod.lock`, read and written the way kpm does (pkg/package/toml.go, encoded by BurntSushi/toml): a flat table
 * of every dependency, transitive ones included, keyed by the kcl.mod key. Writing reproduces kpm's bytes: keys in
 * byte order, two spaces of indent per table level, no blank lines, empty fields left out, and a dependency-free
 * lock as an empty file.
 */
import { readFileSync, existsSync } from 'node:fs';
import { parse, TomlError } from 'smol-toml';
import { KclModError } from './kcl-mod.js';
import { isJsonObject } from '../../krm/index.js';

/** One locked dependency; field names as in the file. */
export interface LockedDependency {
  name: string;
  full_name?: string;
  version?: string;
  sum?: string;
  url?: string;
  branch?: string;
  commit?: string;
  git_tag?: string;
  package?: string;
  reg?: string;
  repo?: string;
  oci_tag?: string;
}

/** The fields kpm writes, in the order it writes them. */
const FIELDS = ['name', 'full_name', 'version', 'sum', 'url', 'branch', 'commit', 'git_tag', 'package', 'reg', 'repo', 'oci_tag'] as const;

/** The lock: dependency key → entry. */
export type KclModLock = Map<string, LockedDependency>;

/** Parses lock text; `file` names it in errors. Fields kpm does not know are dropped, as kpm drops them. */
export function parseLock(text: string, file: string): KclModLock {
  let doc: Record<string, unknown>;
  try {
    doc = parse(text) as Record<string, unknown>;
  } catch (err) {
    if (err instanceof TomlError) throw new KclModError(file, err.message.split('\n')[0]!, err.line);
    throw err;
  }
  const lock: KclModLock = new Map();
  const deps = doc.dependencies;
  if (deps === undefined) return lock;
  if (!isJsonObject(deps)) throw new KclModError(file, '[dependencies] must be a table');
  for (const [key, value] of Object.entries(deps)) {
    if (!isJsonObject(value)) throw new KclModError(file, `dependency "${key}" must be a table`);
    const entry: Partial<Record<(typeof FIELDS)[number], string>> = {};
    for (const f of FIELDS) {
      const v = value[f];
      if (v === undefined) continue;
      if (typeof v !== 'string') throw new KclModError(file, `dependency "${key}": ${f} must be a string`);
      entry[f] = v;
    }
    lock.set(key, { ...entry, name: entry.name ?? '' });
  }
  return lock;
}

/** Reads `file`; a missing lock is an empty one. */
export function readLock(file: string): KclModLock {
  return existsSync(file) ? parseLock(readFileSync(file, 'utf8'), file) : new Map();
}

/** A TOML key as BurntSushi/toml writes it: bare when it can be, else a basic string. */
function key(k: string): string {
  return /^[A-Za-z0-9_-]+$/.test(k) ? k : quote(k);
}

/** A TOML basic string as BurntSushi/toml writes it. */
function quote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (ch === '\b') out += '\\b';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\f') out += '\\f';
    else if (ch === '\r') out += '\\r';
    else if (c < 0x20 || c === 0x7f) out += `\\u${c.toString(16).padStart(4, '0')}`;
    else out += ch;
  }
  return `${out}"`;
}

const byBytes = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));

/** The lock file's bytes as kpm writes them. */
export function formatLock(lock: KclModLock): string {
  if (lock.size === 0) return '';
  let out = '[dependencies]\n';
  for (const k of [...lock.keys()].sort(byBytes)) {
    const dep = lock.get(k)!;
    out += `  [dependencies.${key(k)}]\n`;
    for (const f of FIELDS) {
      const v = dep[f];
      if (v !== undefined && v !== '') out += `    ${f} = ${quote(v)}\n`;
    }
  }
  return out;
}
