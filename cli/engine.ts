/**
 * The CLI's engine. A KCL program can crash the engine (unbounded recursion: SIGSEGV), and `kclrun fn`/`render`
 * must then still exit 1 with a message (for `fn`: the items back unchanged and an error result), never a bare 139.
 *
 * - With the crash guard (libkclguard.so beside the engine, built by `npm run engine:fetch`): the engine runs in
 *   this process, every call through the guard. On a crash the guard execs `crash-report.js` in this process's
 *   place, which runs the same command again with a `CrashedEngine` answering "crashed while running <files>".
 * - Without it (no C compiler at set-up): one supervised engine worker (fn/worker/: a Node process, the native host
 *   needing the same compiler), started as soon as the command begins so the engine loads meanwhile; the render
 *   runs here, its engine calls there. Same messages, a slower start (a second Node process).
 *
 * Either way the engine sees the user's environment (it runs the user's own program, as `kcl run` would) and has
 * no deadline, memory or output cap.
 */
import { existsSync } from 'node:fs';
import type { EngineOutcome } from '../fn/engine/engine.js';
import { crashGuardPath, engineLibraryPath } from '../fn/engine/library.js';
import type { EngineVersion } from '../fn/engine/messages.js';
import type { RenderOutcome, RenderRequest } from '../fn/render.js';
import { namedFiles } from '../fn/source.js';
import type { EnginePool } from '../fn/worker/pool.js';
import { installPath } from '../fn/install-dir.js';

/** What the CLI's commands ask of the engine. */
export interface CliEngine {
  /** Starts loading the engine now (commands that need it call this first). */
  start(): void;
  /** Bytes a crash report reads back as this run's stdin (`kclrun fn`'s input, to write its items back). */
  keepInput(input: Uint8Array): void;
  /** Renders in `cwd` (the process's own work dir). Program failures, a crash included, are diagnostics. */
  render(request: RenderRequest, cwd: string): Promise<RenderOutcome>;
  /** The engine's OverrideFile on one file (`kclrun set`). */
  override(file: string, specs: string[]): Promise<EngineOutcome<boolean>>;
  version(): Promise<EngineVersion>;
  close(): Promise<void>;
}

/** The reporter the crash guard execs: `node crash-report.js <signal> <files as JSON> <the CLI's argv…>`. */
const CRASH_REPORT = installPath('dist', 'cli', 'crash-report.js');

/** The engine for a CLI run with arguments `argv`: in-process under the crash guard if built, else a worker. */
export function cliEngine(argv: readonly string[]): CliEngine {
  const library = engineLibraryPath();
  const guard = crashGuardPath(library);
  return existsSync(guard) ? new GuardedEngine(library, guard, argv) : new WorkerEngine();
}

/** The engine in this process, each call under the crash guard. */
class GuardedEngine implements CliEngine {
  #modules: Promise<typeof import('./guarded-calls.js')> | undefined;
  #input: Uint8Array = new Uint8Array();

  constructor(
    private readonly library: string,
    private readonly guard: string,
    /** The CLI's arguments, for the crash reporter to run the same command. */
    private readonly argv: readonly string[],
  ) {}

  start(): void {
    if (this.#modules) return;
    this.#modules = import('./guarded-calls.js').then((m) => {
      m.loadEngine(this.library, { guardPath: this.guard });
      return m;
    });
    // A load failure is reported by the first call that needs the engine, not as an unhandled rejection meanwhile.
    this.#modules.catch(() => undefined);
  }

  keepInput(input: Uint8Array): void {
    this.#input = input;
  }

  /** The engine's modules, the engine loaded, and the reporter armed for a crash while running `files`. */
  async #armed(files: readonly string[]): Promise<typeof import('./guarded-calls.js')> {
    this.start();
    const m = await this.#modules!;
    this.#arm(m, files);
    return m;
  }

  #arm(m: typeof import('./guarded-calls.js'), files: readonly string[]): void {
    m.armCrashGuard([process.execPath, CRASH_REPORT, 'SIGNAL', JSON.stringify(files), ...this.argv], this.#input);
  }

  async render(request: RenderRequest, _cwd: string): Promise<RenderOutcome> {
    const m = await this.#armed(namedFiles(request.source, request.inlineName));
    return m.render(request, { engine: m.callEngine, onRun: (files) => this.#arm(m, files) });
  }

  async override(file: string, specs: string[]): Promise<EngineOutcome<boolean>> {
    const m = await this.#armed([file]);
    return m.overrideFile(file, specs, m.callEngine);
  }

  async version(): Promise<EngineVersion> {
    const m = await this.#armed([]);
    return m.engineVersion(m.callEngine);
  }

  async close(): Promise<void> {}
}

/** One supervised engine worker (the fallback when the crash guard is not built). */
class WorkerEngine implements CliEngine {
  #pool: Promise<EnginePool> | undefined;

  start(): void {
    this.#pool ??= import('../fn/worker/pool.js').then(
      ({ EnginePool }) =>
        new EnginePool({ workers: 1, env: process.env, stderr: 'inherit', outputLimits: { maxObjects: Infinity, maxBytes: Infinity } }),
    );
    // The worker starts now, so that its engine loads while the command reads its input.
    void this.#pool.then((pool) => pool.probe()).catch(() => undefined);
  }

  keepInput(): void {}

  async #started(): Promise<EnginePool> {
    this.start();
    return this.#pool!;
  }

  async render(request: RenderRequest, cwd: string): Promise<RenderOutcome> {
    return (await this.#started()).render(request, cwd);
  }

  async override(file: string, specs: string[]): Promise<EngineOutcome<boolean>> {
    return (await this.#started()).override(file, specs);
  }

  async version(): Promise<EngineVersion> {
    return (await this.#started()).version();
  }

  async close(): Promise<void> {
    await (await this.#pool)?.close();
  }
}
