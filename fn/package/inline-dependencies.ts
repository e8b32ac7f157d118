/**
 * `spec.dependencies` (krm-kcl): the body of a kcl.mod `[dependencies]` table, e.g. `k8s = "1.28"` or
 * `lib = { git = "https://…", tag = "v1" }`, resolved like a kcl.mod's (every form, transitively, into the package
 * cache) and added to the program's dependencies — on a clash of names, these win. `path` entries are relative to
 * the function's package and must stay inside its root. No lock is read or written for them (krm-kcl neither).
 */
import { join, resolve } from 'node:path';
import { credentialOptions, fetchDependencies, type FetchForPathsOptions } from './fetch.js';
import { KclModError, parseKclMod, type KclMod } from './kcl-mod.js';
import { defaultPackageRoot, PackageRoot } from './root.js';
import { readPackageSettings } from './settings.js';

/** Parses `text` as a `[dependencies]` body; errors name `<baseDir>/spec.dependencies` and the line in `text`. */
export function parseInlineDependencies(text: string, baseDir: string): KclMod {
  const file = join(baseDir, 'spec.dependencies');
  try {
    return parseKclMod(`[dependencies]\n${text}\n`, file);
  } catch (err) {
    if (err instanceof KclModError && err.line) throw new KclModError(file, err.message.replace(/^.*?:\d+: /, ''), err.line - 1);
    throw err;
  }
}

/**
 * Fetches the dependencies `text` lists; returns where each is (flat, transitive), by kcl.mod key. @throws KclModError
 * (DependencyFetchError for a fetch, OutsideRootError for a path outside the package root)
 */
export async function fetchInlineDependencies(text: string, baseDir: string, opts: FetchForPathsOptions = {}): Promise<Map<string, string>> {
  const mod = parseInlineDependencies(text, baseDir);
  const root = opts.root ?? new PackageRoot(defaultPackageRoot(baseDir));
  for (const d of mod.dependencies) {
    if (d.source.kind === 'path') root.check(resolve(baseDir, d.source.path), `spec.dependencies "${d.name}": path ${d.source.path}`, mod.file);
  }
  const env = opts.env ?? process.env;
  const settings = readPackageSettings(env);
  const { dirs } = await fetchDependencies(mod, {
    settings,
    lock: new Map(),
    vendor: false,
    env,
    root,
    signal: opts.signal,
    timeoutMs: opts.timeoutMs,
    gitRunUnder: opts.gitRunUnder,
    ...credentialOptions(opts, settings, env),
  });
  return dirs;
}
