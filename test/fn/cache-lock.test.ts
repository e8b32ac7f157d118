/**
 * The package cache lock (fn/package/cache-lock.ts): a live holder is waited for, a holder that is gone or a lock left
 * unrefreshed is taken over, a wait has a bound, and the lock is removed after use.
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { PackageLockTimeoutError, STALE_MS, withPackageLock } from '../../fn/package/cache-lock.js';
import { tempDir } from '../support/kclrun.js';

function holdAs(root: string, key: string, holder: string): string {
  mkdirSync(join(root, '.lock'), { recursive: true });
  const file = join(root, '.lock', key);
  writeFileSync(file, `${holder}\n`);
  return file;
}

test('the lock is held while fn runs and removed after it', async (t) => {
  const root = tempDir();
  const seen = await withPackageLock(root, 'k8s_1.28', async () => readdirSync(join(root, '.lock')));
  t.deepEqual(seen, ['k8s_1.28']);
  t.deepEqual(readdirSync(join(root, '.lock')), []);
});

test('a live holder is waited for: fn runs only after it lets go', async (t) => {
  const root = tempDir();
  const file = holdAs(root, 'k8s_1.28', `${process.pid} ${hostname()} another-thread`);
  let released = false;
  setTimeout(() => {
    released = true;
    unlinkSync(file);
  }, 300);
  await withPackageLock(root, 'k8s_1.28', async () => t.true(released, 'fn ran after the holder released the lock'));
});

test('a lock whose process is gone, or unrefreshed for STALE_MS, is taken over', async (t) => {
  const root = tempDir();
  const dead = spawnSync(process.execPath, ['-e', '']).pid!;
  holdAs(root, 'a_1', `${dead} ${hostname()} x`);
  t.is(await withPackageLock(root, 'a_1', async () => 'ran'), 'ran');
  const old = holdAs(root, 'b_1', `${process.pid} ${hostname()} x`);
  const then = new Date(Date.now() - STALE_MS - 5_000);
  utimesSync(old, then, then);
  t.is(await withPackageLock(root, 'b_1', async () => 'ran'), 'ran');
  t.false(existsSync(old));
});

test('waiting has a bound: PackageLockTimeoutError names the lock and its holder', async (t) => {
  const root = tempDir();
  const holder = `${process.pid} ${hostname()} someone`;
  const file = holdAs(root, 'k8s_1.28', holder);
  const err = await t.throwsAsync(withPackageLock(root, 'k8s_1.28', async () => t.fail('fn must not run'), { waitMs: 200 }), { instanceOf: PackageLockTimeoutError });
  t.is(err!.file, file);
  t.is(err!.holder, holder);
  t.true(existsSync(file), "the live holder's lock is left alone");
});

test('waiting follows the AbortSignal: it rejects with the reason', async (t) => {
  const root = tempDir();
  holdAs(root, 'k8s_1.28', `${process.pid} ${hostname()} someone`);
  const controller = new AbortController();
  const reason = new Error('render deadline');
  setTimeout(() => controller.abort(reason), 100);
  await t.throwsAsync(withPackageLock(root, 'k8s_1.28', async () => t.fail('fn must not run'), { signal: controller.signal }), { is: reason });
});
