/**
 * `spec.source`, parsed once into a tagged union. Rule for relative paths: a source starting with `./` or `../`
 * (or any existing relative path ending in `.k`) resolves against the package the function runs on — under
 * `kpt fn render`, the `internal.config.kubernetes.io/package-path` annotation kpt puts on the functionConfig (or,
 * for validators, which get their config without it, on the package's copy of the config or its Kptfile; see
 * `packageDir` in function.ts) — and otherwise against the working directory (kpt fn eval: kpt's; kustomize: the
 * directory kustomize runs in; a YAML-stream suite: wherever `kclrun fn` is run).
 */
import { existsSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { isGitSource, redactUrl } from './package/source-url.js';

/** Where the KCL program comes from. */
export type Source =
  | { kind: 'inline'; code: string }
  | { kind: 'local'; paths: string[] }
  | { kind: 'oci'; ref: string }
  | { kind: 'git'; url: string }
  | { kind: 'https'; url: string };

/** Classifies `source`; `baseDir` anchors relative local paths. */
export function parseSource(source: string, baseDir: string): Source {
  const s = source.trim();
  if (s.startsWith('oci://')) return { kind: 'oci', ref: s };
  if (isGitSource(s)) return { kind: 'git', url: s };
  if (/^https?:\/\//.test(s)) return { kind: 'https', url: s };
  const oneLine = !s.includes('\n');
  if (oneLine && (isAbsolute(s) || s.startsWith('./') || s.startsWith('../') || s === '.' || s === '..')) {
    return { kind: 'local', paths: [resolve(baseDir, s)] };
  }
  if (oneLine && /^[\w./-]+\.k$/.test(s) && existsSync(resolve(baseDir, s))) return { kind: 'local', paths: [resolve(baseDir, s)] };
  return { kind: 'inline', code: source };
}

/** A short description of a source for messages (never the code itself). */
export function describeSource(src: Source): string {
  switch (src.kind) {
    case 'inline':
      return 'inline source';
    case 'local':
      return src.paths.join(' ');
    case 'oci':
      return src.ref;
    case 'git':
    case 'https':
      return redactUrl(src.url);
  }
}

/**
 * The files a render of `src` names before its package is resolved (what a crash is reported against if it comes
 * that early): the local paths, else the inline program's name.
 */
export function namedFiles(src: Source, inlineName = 'main.k'): string[] {
  return src.kind === 'local' ? [...src.paths] : [inlineName];
}
