/**
 * kclrun's install directory: where `package.json`, `dist/` and `node_modules/` are. Found from this module's own
 * location, which is two levels below it both in the compiled tree (`dist/fn/`) and in the CLI's bundle
 * (`dist/bundle/`, scripts/bundle.mjs), so modules that name files of the install ask here, never their own URL.
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const INSTALL_DIR = fileURLToPath(new URL('../../', import.meta.url));

/** A path inside the install directory, e.g. `installPath('dist', 'fn', 'worker', 'entry.js')`. */
export function installPath(...segments: string[]): string {
  return join(INSTALL_DIR, ...segments);
}
