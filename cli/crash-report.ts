/**
 * The crash guard's reporter (scripts/crash-guard.c execs it in the place of a CLI run whose engine crashed; see
 * cli/engine.ts). It runs the same command again, with an engine that answers every call with the crash, so the
 * user sees what a failed render shows: `kclrun render` a diagnostic on stderr, `kclrun fn` its items back unchanged
 * with an error result — and exit code 1.
 *
 * argv: <signal name> <the files being run, as JSON> <the CLI's argv…>; stdin: the crashed run's stdin bytes.
 */
import type { EngineOutcome } from '../fn/engine/engine.js';
import type { EngineVersion } from '../fn/engine/messages.js';
import type { RenderOutcome } from '../fn/render.js';
import { WorkerCrashError } from '../fn/worker/errors.js';
import type { CliEngine } from './engine.js';
import { main } from './main.js';

/** An engine that has crashed with `signal` while running `files`. */
class CrashedEngine implements CliEngine {
  readonly #crash: WorkerCrashError;

  constructor(signal: string, files: string[]) {
    this.#crash = new WorkerCrashError(files, null, signal as NodeJS.Signals);
  }

  start(): void {}
  keepInput(): void {}

  async render(): Promise<RenderOutcome> {
    return { ok: false, diagnostics: [this.#crash.toDiagnostic()] };
  }

  async override(): Promise<EngineOutcome<boolean>> {
    return { ok: false, diagnostics: [this.#crash.toDiagnostic()] };
  }

  async version(): Promise<EngineVersion> {
    throw this.#crash;
  }

  async close(): Promise<void> {}
}

const [signal = 'a signal', files = '[]', ...argv] = process.argv.slice(2);
process.exit(await main(argv, new CrashedEngine(signal, JSON.parse(files) as string[])));
