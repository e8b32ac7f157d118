/**
 * The CLI's engine: one supervised engine worker (fn/worker/), started as soon as a command that needs the engine
 * begins, so the engine loads in the child while the parent reads stdin and parses YAML. The parent never loads
 * the engine. The worker inherits the user's environment (it runs the user's own program, as `kcl run` would) and
 * has no deadline, memory or output cap: a crash still comes back as a diagnostic, never as a bare exit 139.
 */
import { EnginePool } from '../fn/worker/pool.js';

/** The engine of one CLI run, started on first use. */
export class CliEngine {
  #pool: EnginePool | undefined;

  /** The pool, starting its worker now if not yet started. */
  get pool(): EnginePool {
    this.#pool ??= new EnginePool({
      workers: 1,
      env: process.env,
      stderr: 'inherit',
      outputLimits: { maxObjects: Infinity, maxBytes: Infinity },
    });
    return this.#pool;
  }

  /** Stops the worker (if started). */
  async close(): Promise<void> {
    await this.#pool?.close();
  }
}
