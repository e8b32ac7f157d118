/**
 * Shared helpers for the fn, cli and integration tests: repository paths, temp dirs, running `bin/kclrun` as a
 * user would (a child process), and running the function in-process on YAML text.
 */
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseInput, formatResourceList, formatStream, exitCodeFor, type Result } from '../../krm/index.js';
import { runFunction, type FunctionContext } from '../../fn/function.js';
import { render, type RenderOptions, type RenderOutcome, type RenderRequest } from '../../fn/render.js';
import { callEngine } from '../../fn/engine/native.js';

/** The repository root (this file runs from dist/test/support). */
export const REPO = fileURLToPath(new URL('../../../', import.meta.url));
/** `bin/kclrun`. */
export const KCLRUN = join(REPO, 'bin', 'kclrun');
/** `bin/kclrun-fn`, the no-argument entry for runners that call a path as is. */
export const KCLRUN_FN = join(REPO, 'bin', 'kclrun-fn');
/** `examples/`. */
export const EXAMPLES = join(REPO, 'examples');

/** A fresh temp dir. */
export function tempDir(prefix = 'kclrun-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Writes `files` (relative path → text) under `dir`, creating parent dirs; returns `dir`. */
export function writeTree(dir: string, files: Record<string, string>): string {
  for (const [rel, text] of Object.entries(files)) {
    const path = join(dir, rel);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, text);
  }
  return dir;
}

/** Copies an example package into a temp dir; returns the copy's path. */
export function copyExample(name: string): string {
  const dir = join(tempDir(), name.replace(/\//g, '_'));
  cpSync(join(EXAMPLES, name), dir, { recursive: true });
  return dir;
}

/** What a child process did. */
export interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `bin/kclrun ARGS` (stdin from `input`), as a user would. */
export function kclrun(args: string[], opts: { cwd?: string; input?: string; env?: NodeJS.ProcessEnv } = {}): Ran {
  return run(process.execPath, [KCLRUN, ...args], opts);
}

/**
 * `bin/kclrun ARGS` without blocking this process's event loop: several can run at once (two renders sharing a
 * cache), and servers running in this process (the git server, the token server) keep answering. The same as
 * {@link kclrun} otherwise.
 */
export function kclrunAsync(args: string[], opts: { cwd?: string; input?: string; env?: NodeJS.ProcessEnv } = {}): Promise<Ran> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [KCLRUN, ...args], { cwd: opts.cwd ?? REPO, env: opts.env ?? process.env, signal: AbortSignal.timeout(60_000) });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolvePromise({ code, stdout, stderr }));
    child.stdin.end(opts.input ?? '');
  });
}

// The machine's kpt: /usr/bin/kpt links to the Cloud SDK's; either path will do.
const KPT = ['/usr/bin/kpt', '/usr/lib/google-cloud-sdk/bin/kpt'].find((p) => existsSync(p)) ?? '/usr/bin/kpt';

/** Runs the real kpt in `cwd` (exec functions inherit `env`); fails, never skips, when kpt is missing. */
export function kpt(args: string[], cwd: string, env?: NodeJS.ProcessEnv): Ran {
  if (!existsSync(KPT)) throw new Error(`kpt not found at ${KPT}: the kpt integration tests need the real kpt`);
  return run(KPT, args, { cwd, env });
}

/** Runs a command and collects its output. */
export function run(cmd: string, args: string[], opts: { cwd?: string; input?: string; env?: NodeJS.ProcessEnv } = {}): Ran {
  const r = spawnSync(cmd, args, {
    cwd: opts.cwd ?? REPO,
    input: opts.input ?? '',
    env: opts.env ?? process.env,
    encoding: 'utf8',
    timeout: 60_000,
  });
  if (r.error) throw r.error;
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The function's answer to YAML text, run in-process: what `kclrun fn` would print, and its exit code. */
export interface FnAnswer {
  code: 0 | 1;
  stdout: string;
  results: Result[];
}

/** fn/render.ts with the engine in this process (what the CLI does under its crash guard). */
export function renderHere(req: RenderRequest, opts: Partial<RenderOptions> = {}): Promise<RenderOutcome> {
  return render(req, { engine: callEngine, ...opts });
}

/** Runs the KRM function in-process on `text` (a ResourceList or a YAML stream), formatting as `kclrun fn` does. */
export async function fn(text: string, ctx: Partial<FunctionContext> = {}): Promise<FnAnswer> {
  const input = parseInput(text);
  const out = await runFunction(input, { render: (req) => renderHere(req), ...ctx });
  const stdout =
    input.format === 'stream'
      ? formatStream(out.items)
      : formatResourceList(out.items, { functionConfig: input.functionConfig, results: out.results });
  return { code: exitCodeFor(out.results), stdout, results: out.results };
}
