/**
 * The `yaml` package, loaded on first use. Reading and writing a kpt-style ResourceList the fast way
 * (`list-source.ts`, `text-patch.ts`) never needs it, and loading it costs more than reading a small list: every
 * `krm/` module that builds or walks YAML documents reaches it through {@link yaml}. Its Node entry is CommonJS, so
 * this is the very instance an `import` of it gives.
 */
import { createRequire } from 'node:module';
import type * as Yaml from 'yaml';

let lib: typeof Yaml | undefined;

/** The `yaml` package (loaded now if not yet). */
export function yaml(): typeof Yaml {
  lib ??= createRequire(import.meta.url)('yaml') as typeof Yaml;
  return lib;
}
