/**
 * What an engine worker's file-system sandbox (sandbox.ts, applied by the worker to itself) lets it open: the types,
 * and the policy the controller gives its workers. No native code here: the controller imports this module.
 */
import { realpathSync } from 'node:fs';
import { dirname } from 'node:path';
import { INSTALL_DIR } from '../install-dir.js';

/** What a sandboxed worker may open. Paths that do not exist are left out. */
export interface SandboxPolicy {
  /** Files and directories (with everything below) to read and execute. */
  readOnly: string[];
  /** Files and directories (with everything below) to read, write, create and remove in. */
  readWrite: string[];
}

/** Whether a worker runs sandboxed, and why not when it does not. */
export type SandboxStatus = { applied: true; abi: number } | { applied: false; reason: string };

/** kclrun's own files (the package holding dist/ and node_modules/), from this module's place in dist/fn/worker/. */

/** System files a worker reads: the user database (the home directory lookup) and name resolution. No secrets. */
const SYSTEM_FILES = ['/etc/passwd', '/etc/group', '/etc/nsswitch.conf', '/etc/hosts', '/etc/resolv.conf', '/etc/ssl', '/etc/ca-certificates'];

/**
 * The policy of an engine worker: what the runtime needs read-only — kclrun's install, Node's, the engine library,
 * `/usr` and `/bin` (shared libraries, and `git` for git dependencies), `/lib*` and the files of SYSTEM_FILES — and
 * /dev/null read-write, plus the caller's paths.
 */
export function workerSandboxPolicy(libraryPath: string, extra: SandboxPolicy): SandboxPolicy {
  const nodePrefix = dirname(dirname(realpathSync(process.execPath)));
  return {
    readOnly: [INSTALL_DIR, nodePrefix, dirname(realpathSync(libraryPath)), '/usr', '/bin', '/lib', '/lib64', '/dev/urandom', ...SYSTEM_FILES, ...extra.readOnly],
    readWrite: ['/dev/null', ...extra.readWrite],
  };
}
