/**
 * The file-system sandbox of an engine worker: Linux Landlock, applied by the worker to its own main thread before
 * it loads the engine, so the engine and every thread it starts can open only the paths of the policy — read-only
 * for the program's files, the runtime and the engine, read-write for the package cache. Everything else (the
 * controller's service-account token, `/proc/<pid>/environ` of the controller, `$HOME`) is out of reach even if the
 * engine's own check (`file.read` refuses paths outside the module root) had a hole. Threads that existed before
 * (Node's own) are not restricted, so a sandboxed worker calls the engine on its main thread (engine/native.ts).
 *
 * Landlock needs no privilege; where the kernel lacks it (Linux < 5.13, or a seccomp profile that blocks it) the
 * worker runs without and says so (`SandboxStatus`), and the controller logs it at start. Only the Node worker
 * imports this module (it loads koffi); the native host (scripts/engine-host.c) applies the same rules in C, and
 * the policy is built by the parent from sandbox-policy.ts.
 */
import { existsSync, statSync } from 'node:fs';
import koffi from 'koffi';
import type { SandboxPolicy, SandboxStatus } from './sandbox-policy.js';

const SYS = { createRuleset: 444, addRule: 445, restrictSelf: 446 } as const; // the same on x86-64 and arm64
const CREATE_RULESET_VERSION = 1;
const RULE_PATH_BENEATH = 1;
const PR_SET_NO_NEW_PRIVS = 38;
const O_PATH = 0o10000000;
const O_CLOEXEC = 0o2000000;

// LANDLOCK_ACCESS_FS_* bits.
const EXECUTE = 1n << 0n;
const WRITE_FILE = 1n << 1n;
const READ_FILE = 1n << 2n;
const READ_DIR = 1n << 3n;
const REFER = 1n << 13n;
const TRUNCATE = 1n << 14n;
const IOCTL_DEV = 1n << 15n;
/** Bits 0–12 (ABI 1): every right of the first ABI. */
const ABI1_ALL = (1n << 13n) - 1n;
/** Rights that apply to a file (the others are directory rights: a rule on a file may not name them). */
const FILE_RIGHTS = EXECUTE | WRITE_FILE | READ_FILE | TRUNCATE | IOCTL_DEV;

/** Every file-system right the kernel's Landlock ABI knows: all of them are denied unless a rule allows them. */
function handledRights(abi: number): bigint {
  let rights = ABI1_ALL;
  if (abi >= 2) rights |= REFER;
  if (abi >= 3) rights |= TRUNCATE;
  if (abi >= 5) rights |= IOCTL_DEV;
  return rights;
}

interface Libc {
  syscall: (...args: unknown[]) => number;
  prctl: (option: number, a: number, b: number, c: number, d: number) => number;
  open: (path: string, flags: number) => number;
  close: (fd: number) => number;
  errno: () => number;
}

function loadLibc(): Libc {
  const lib = koffi.load('libc.so.6');
  const errnoLocation = lib.func('int *__errno_location(void)');
  return {
    syscall: lib.func('long syscall(long number, ...)') as Libc['syscall'],
    prctl: lib.func('int prctl(int option, unsigned long a, unsigned long b, unsigned long c, unsigned long d)'),
    open: lib.func('int open(const char *path, int flags)'),
    close: lib.func('int close(int fd)'),
    errno: () => koffi.decode(errnoLocation(), 'int') as number,
  };
}

/** A Landlock call failed: which one, and errno. */
export class SandboxError extends Error {
  override name = 'SandboxError';
  constructor(
    readonly step: string,
    readonly errno: number,
  ) {
    super(`landlock ${step} failed (errno ${errno})`);
  }
}

/**
 * Restricts the calling thread (and every thread and process it starts from now on) to `policy`. Returns
 * `applied: false` when the kernel has no Landlock; throws SandboxError when Landlock exists but a step fails.
 */
export function applySandbox(policy: SandboxPolicy): SandboxStatus {
  let libc: Libc;
  try {
    libc = loadLibc();
  } catch (err) {
    return { applied: false, reason: `cannot call the C library: ${(err as Error).message}` };
  }
  const abi = libc.syscall(SYS.createRuleset, 'void *', null, 'size_t', 0, 'uint32_t', CREATE_RULESET_VERSION);
  if (abi < 0) return { applied: false, reason: `the kernel has no Landlock (errno ${libc.errno()})` };

  const handled = handledRights(abi);
  const attr = Buffer.alloc(8); // struct landlock_ruleset_attr, first field only (handled_access_fs)
  attr.writeBigUInt64LE(handled);
  const ruleset = libc.syscall(SYS.createRuleset, 'void *', attr, 'size_t', attr.length, 'uint32_t', 0);
  if (ruleset < 0) throw new SandboxError('create_ruleset', libc.errno());
  try {
    const readOnly = EXECUTE | READ_FILE | READ_DIR;
    for (const path of policy.readOnly) allow(libc, ruleset, path, readOnly & handled);
    for (const path of policy.readWrite) allow(libc, ruleset, path, handled);
    if (libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) !== 0) throw new SandboxError('prctl(NO_NEW_PRIVS)', libc.errno());
    if (libc.syscall(SYS.restrictSelf, 'int', ruleset, 'uint32_t', 0) !== 0) throw new SandboxError('restrict_self', libc.errno());
  } finally {
    libc.close(ruleset);
  }
  return { applied: true, abi };
}

/** Adds a path-beneath rule for `path` (rights narrowed to file rights when it is a file). */
function allow(libc: Libc, ruleset: number, path: string, rights: bigint): void {
  if (!existsSync(path)) return;
  const granted = statSync(path).isDirectory() ? rights : rights & FILE_RIGHTS;
  const fd = libc.open(path, O_PATH | O_CLOEXEC);
  if (fd < 0) throw new SandboxError(`open(${path})`, libc.errno());
  try {
    const rule = Buffer.alloc(12); // struct landlock_path_beneath_attr (packed): u64 allowed_access, s32 parent_fd
    rule.writeBigUInt64LE(granted, 0);
    rule.writeInt32LE(fd, 8);
    if (libc.syscall(SYS.addRule, 'int', ruleset, 'int', RULE_PATH_BENEATH, 'void *', rule, 'uint32_t', 0) !== 0) {
      throw new SandboxError(`add_rule(${path})`, libc.errno());
    }
  } finally {
    libc.close(fd);
  }
}
