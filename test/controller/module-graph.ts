/**
 * The module graph of the compiled code, walked from the text of its imports: which modules (and which packages)
 * an entry module can load.
 */
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The compiled tree (`dist/`). */
export const DIST = fileURLToPath(new URL('../../', import.meta.url));
const STATIC_IMPORT = /(?:\bfrom\s*|\bimport\s+)['"]([^'"]+)['"]/g;
const ANY_IMPORT = /(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)['"]([^'"]+)['"]/g;

/** `pkg:<name>` of a bare specifier (`@scope/name` for scoped packages). */
export function packageOf(spec: string): string {
  const parts = spec.split('/');
  return `pkg:${spec.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]}`;
}

/**
 * Every module reachable from `entry` (a path under dist/; relative imports followed, bare package names recorded as
 * {@link packageOf}); `staticOnly`: dynamic `import()`s are not followed.
 */
export function reachable(entry: string, staticOnly = false): Set<string> {
  const seen = new Set<string>();
  const walk = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    for (const [, spec] of readFileSync(file, 'utf8').matchAll(staticOnly ? STATIC_IMPORT : ANY_IMPORT)) {
      if (spec!.startsWith('.')) walk(resolve(dirname(file), spec!));
      else seen.add(packageOf(spec!));
    }
  };
  walk(join(DIST, entry));
  return seen;
}
