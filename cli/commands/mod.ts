/** `kclrun mod update`: resolves a package's dependencies and writes kcl.mod.lock as kpm writes it. */
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { fetchForPaths } from '../../fn/package/fetch.js';
import { KclModError } from '../../fn/package/kcl-mod.js';
import { formatLock } from '../../fn/package/lock.js';
import { UsageError, write } from '../io.js';

/** Help text for `kclrun mod`. */
export const MOD_HELP = `Usage: kclrun mod update [DIR]

Fetches the dependencies of the KCL package in DIR (default .) — registry, repo, oci and git
dependencies, transitively — into the package cache ($KCL_PKG_PATH, else ~/.kcl/kpm) and
writes DIR/kcl.mod.lock as kpm (kcl mod update) writes it. Tags and commits the lock pinned
are re-resolved; a dependency without a tag takes the highest version the registry has, a
git dependency without a ref the default branch's HEAD.
Rendering reads kcl.mod.lock but never writes it.

Environment: KPM_REG, KPM_REPO (default registry ghcr.io/kcl-lang), OCI_REG_PLAIN_HTTP=on,
KCLRUN_OFFLINE=1 (cache and vendor only). Credentials: <cache>/.kpm/config/config.json,
then $DOCKER_CONFIG/config.json or ~/.docker/config.json.
`;

/** Runs `kclrun mod`; returns the exit code. */
export async function modCommand(argv: string[]): Promise<number> {
  const { positionals, values } = parseArgs({ args: argv, allowPositionals: true, options: { help: { type: 'boolean', short: 'h' } } });
  if (values.help) {
    await write(process.stdout, MOD_HELP);
    return 0;
  }
  const [sub, dir = '.', ...extra] = positionals;
  if (sub !== 'update' || extra.length) throw new UsageError('usage: kclrun mod update [DIR]');
  try {
    const fetched = await fetchForPaths([dir], { update: true });
    if (!fetched) throw new UsageError(`${dir}: no kcl.mod at or above it`);
    const file = join(dirname(fetched.mod.file), 'kcl.mod.lock');
    writeFileSync(file, formatLock(fetched.lock));
    await write(process.stdout, `${file}: ${fetched.lock.size} dependenc${fetched.lock.size === 1 ? 'y' : 'ies'} locked\n`);
    return 0;
  } catch (err) {
    if (err instanceof KclModError) {
      await write(process.stderr, `error: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
}
