/**
 * Loads the official KCL engine (kcl-lang/lib's native core) into this process with koffi and exposes its one
 * entry point, `kcl_service_call_with_length`, as an async call. The engine is not thread-safe: calls are queued so
 * that at most one is in flight per process, whoever the callers are. Only engine workers (fn/worker/entry.ts), the
 * CLI under its crash guard (scripts/crash-guard.c, cli/engine.ts) and fn-level tests load it: a KCL program can
 * crash the process that runs it.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import koffi from 'koffi';
import { EngineCallError, engineReply, serviceMethod, type EngineCall } from './call.js';
import { engineLibraryPath, engineNotFoundMessage } from './library.js';

export { enginePin, engineLibraryPath, type EnginePin } from './library.js';
export { EngineCallError } from './call.js';

type CallFn = ReturnType<ReturnType<typeof koffi.load>['func']>;

interface Loaded {
  svc: unknown;
  call: CallFn;
  free: (ptr: unknown, len: number) => void;
  /** kclrun_guard_arm of the crash guard, when calls go through it. */
  arm?: CallFn;
}

/** How to load the engine. */
export interface LoadOptions {
  /**
   * The crash guard (libkclguard.so, scripts/crash-guard.c): every engine call goes through it, and a crash during
   * one execs the reporter registered with `armCrashGuard` instead of killing the process with a signal.
   */
  guardPath?: string;
  /**
   * Run every call on this thread, blocking it (a sandboxed worker: only this thread and those it starts are
   * sandboxed), instead of on Node's thread pool.
   */
  mainThread?: boolean;
}

let loaded: Loaded | undefined;
let queue: Promise<unknown> = Promise.resolve();
let libraryPath: string | undefined;
let guardPath: string | undefined;
let onMainThread = false;

/** Loads the engine from `path` now (an engine worker does this at start, before taking requests). */
export function loadEngine(path: string, opts: LoadOptions = {}): void {
  libraryPath = path;
  guardPath = opts.guardPath;
  onMainThread = opts.mainThread ?? false;
  load();
}

/**
 * What the crash guard runs if the engine crashes from now on: `argv` (argv[0] the program's path, argv[2] replaced
 * by the signal's name, e.g. SIGSEGV), with `input` on its stdin. Throws if the engine was loaded without a guard.
 */
export function armCrashGuard(argv: readonly string[], input: Uint8Array = new Uint8Array()): void {
  const arm = load().arm;
  if (!arm) throw new EngineLoadError('the KCL engine was loaded without a crash guard');
  const strings = Buffer.from(argv.map((a) => `${a}\0`).join(''), 'utf8');
  if (arm(strings, strings.length, argv.length, input, input.length) !== 0) {
    throw new EngineLoadError('cannot register the crash reporter with the crash guard');
  }
}

/** Thrown when the engine library cannot be found or loaded. */
export class EngineLoadError extends Error {
  override name = 'EngineLoadError';
}

function load(): Loaded {
  if (loaded) return loaded;
  const path = libraryPath ?? engineLibraryPath();
  if (!existsSync(path)) {
    throw new EngineLoadError(engineNotFoundMessage(path));
  }
  // The PyPI build of the engine links CPython symbols it never calls; the stub built beside it satisfies them.
  const stub = join(dirname(path), 'libpystub.so');
  try {
    if (existsSync(stub)) koffi.load(stub, { global: true });
    const lib = koffi.load(path);
    const svcNew = lib.func('void *kcl_service_new(uint64_t plugin_agent)');
    const signature = '(void *svc, const char *method, const uint8_t *args, size_t args_len, _Inout_ size_t *out_len)';
    let call = lib.func(`void *kcl_service_call_with_length${signature}`);
    let arm: CallFn | undefined;
    if (guardPath) {
      const guard = koffi.load(guardPath);
      const status = guard.func('int kclrun_guard_init(const char *engine_path)')(path) as number;
      if (status !== 0) throw new Error(`${guardPath}: the crash guard cannot find the engine's entry point (${status})`);
      call = guard.func(`void *kclrun_guard_call${signature}`);
      arm = guard.func(
        'int kclrun_guard_arm(const uint8_t *strings, size_t strings_len, int count, const uint8_t *input, size_t input_len)',
      );
    }
    let free: Loaded['free'];
    try {
      const kclFree = lib.func('void kcl_free(void *ptr, size_t len)');
      free = (ptr, len) => kclFree(ptr, len);
    } catch {
      const freeString = lib.func('void kcl_service_free_string(void *ptr)');
      free = (ptr) => freeString(ptr);
    }
    loaded = { svc: svcNew(0), call, free, arm };
    return loaded;
  } catch (err) {
    throw new EngineLoadError(`cannot load the KCL engine from ${path}: ${(err as Error).message}`);
  }
}

function callNow(method: string, args: Uint8Array): Promise<Buffer> {
  const engine = load();
  const outLen = [0];
  const reply = (ptr: unknown): Buffer => {
    if (!ptr) throw new EngineCallError(method, `${method} returned nothing`);
    // On a caught panic the engine returns a NUL-terminated string without writing the length.
    const len = outLen[0]!;
    const bytes =
      len === 0
        ? Buffer.from(koffi.decode(ptr, 'char', -1) as string, 'utf8')
        : Buffer.from(new Uint8Array(koffi.view(ptr, len)).slice());
    engine.free(ptr, len);
    return engineReply(method, bytes);
  };
  if (onMainThread) {
    try {
      return Promise.resolve(reply(engine.call(engine.svc, method, args, args.length, outLen)));
    } catch (err) {
      return Promise.reject(err as Error);
    }
  }
  return new Promise<Buffer>((resolve, reject) => {
    engine.call.async(engine.svc, method, args, args.length, outLen, (err: unknown, ptr: unknown) => {
      if (err) return reject(err instanceof Error ? err : new Error(String(err)));
      try {
        resolve(reply(ptr));
      } catch (e) {
        reject(e as Error);
      }
    });
  });
}

/**
 * Calls the service method `method` (its full name, e.g. `KclService.ExecProgram`) with protobuf-encoded arguments
 * and resolves with the protobuf reply. Calls are serialised process-wide. Rejects with EngineCallError for
 * `ERROR:` replies and EngineLoadError if unloadable.
 */
export function callService(method: string, args: Uint8Array): Promise<Buffer> {
  const run = queue.then(
    () => callNow(method, args),
    () => callNow(method, args),
  );
  queue = run.catch(() => undefined);
  return run;
}

/** The engine in this process, as the typed API (engine.ts, render.ts) takes it. */
export const callEngine: EngineCall = (method, args) => callService(serviceMethod(method), args);
