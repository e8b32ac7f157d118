/**
 * One engine worker process, seen from the parent: start it, call it, read its memory, kill it. It knows nothing of
 * deadlines or limits (the pool supervises); it only turns the child's messages and its exit into promises.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { EngineUnavailableError, WorkerInternalError } from './errors.js';
import type { WorkerMethod, WorkerMethods, WorkerReply, WorkerRequest } from './protocol.js';
import type { SandboxPolicy, SandboxStatus } from './sandbox-policy.js';

const ENTRY = fileURLToPath(new URL('./entry.js', import.meta.url));

/** How to start a worker. */
export interface WorkerStartOptions {
  /** The engine library (`libkcl.so`) the worker loads. */
  libraryPath: string;
  /** The worker's whole environment. */
  env: NodeJS.ProcessEnv;
  /** The worker's stderr (the engine's own panic messages): shown (CLI) or dropped (controller: JSON logs only). */
  stderr: 'inherit' | 'ignore';
  /** The file-system sandbox the worker applies to itself before loading the engine (none: unrestricted). */
  sandbox?: SandboxPolicy;
}

/** How a worker process ended. */
export interface WorkerExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** The worker ended while a call was in flight. */
export class WorkerExitedError extends Error {
  override name = 'WorkerExitedError';
  constructor(readonly exit: WorkerExit) {
    super(`engine worker exited (${exit.signal ?? `code ${exit.code}`})`);
  }
}

interface Pending {
  resolve: (value: unknown) => void;
  reject: (err: Error) => void;
  onRunning?: (files: string[]) => void;
}

/** A running engine worker. */
export class EngineWorker {
  readonly #child: ChildProcess;
  readonly #pending = new Map<number, Pending>();
  #nextId = 1;
  #unavailable: string | undefined;
  #exit: WorkerExit | undefined;
  /** Resolves when the process has ended. */
  readonly exited: Promise<WorkerExit>;
  /** Resolves when the engine is loaded, with the sandbox's status if one was asked for (never, if the worker dies first). */
  readonly ready: Promise<SandboxStatus | undefined>;
  #onReady!: (sandbox: SandboxStatus | undefined) => void;

  constructor(opts: WorkerStartOptions) {
    this.#child = fork(ENTRY, opts.sandbox ? [opts.libraryPath, JSON.stringify(opts.sandbox)] : [opts.libraryPath], {
      env: opts.env,
      cwd: '/',
      execArgv: [],
      serialization: 'advanced',
      stdio: ['ignore', 'ignore', opts.stderr, 'ipc'],
    });
    this.ready = new Promise((resolve) => (this.#onReady = resolve));
    this.#child.on('message', (m: WorkerReply) => this.#onMessage(m));
    this.exited = new Promise((resolve) => {
      const finish = (exit: WorkerExit) => {
        if (this.#exit) return;
        this.#exit = exit;
        const err = this.#unavailable !== undefined ? new EngineUnavailableError(this.#unavailable) : new WorkerExitedError(exit);
        for (const p of this.#pending.values()) p.reject(err);
        this.#pending.clear();
        resolve(exit);
      };
      // 'close', not 'exit': it comes after the IPC channel is drained, so a 'running' message is never lost.
      this.#child.once('close', (code, signal) => finish({ code, signal }));
      // A fork that failed (no pid) never exits; other errors (a closed channel) are followed by 'exit'.
      this.#child.on('error', (err) => {
        if (this.#child.pid !== undefined) return;
        this.#unavailable ??= `cannot start an engine worker: ${err.message}`;
        finish({ code: null, signal: null });
      });
    });
  }

  /** The process id (undefined if the fork failed). */
  get pid(): number | undefined {
    return this.#child.pid;
  }

  /** True once the process has ended. */
  get dead(): boolean {
    return this.#exit !== undefined;
  }

  /** True when the worker said it could not load the engine. */
  get unavailable(): boolean {
    return this.#unavailable !== undefined;
  }

  /**
   * Calls `method`; `onRunning` hears which files the engine is about to run. Rejects with WorkerExitedError if the
   * process ends first, EngineUnavailableError if it could not load the engine, WorkerInternalError if its code threw.
   */
  call<M extends WorkerMethod>(method: M, args: WorkerMethods[M]['args'], onRunning?: (files: string[]) => void): Promise<WorkerMethods[M]['result']> {
    if (this.#exit) return Promise.reject(new WorkerExitedError(this.#exit));
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve: resolve as (v: unknown) => void, reject, onRunning });
      this.#child.send({ id, method, args } as WorkerRequest, (err) => {
        // The channel closed under us: the 'exit' handler rejects the call.
        if (err) this.kill();
      });
    });
  }

  #onMessage(m: WorkerReply): void {
    if (m.type === 'ready') return this.#onReady(m.sandbox);
    if (m.type === 'unavailable') {
      this.#unavailable = m.message;
      return;
    }
    const p = this.#pending.get(m.id);
    if (!p) return;
    if (m.type === 'running') return p.onRunning?.(m.files);
    this.#pending.delete(m.id);
    if (m.type === 'result') p.resolve(m.result);
    else p.reject(new WorkerInternalError(m.name, m.message));
  }

  /** Resident memory in bytes (VmRSS), or undefined when the process is gone. */
  rssBytes(): number | undefined {
    if (this.#exit || this.#child.pid === undefined) return undefined;
    try {
      const kb = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${this.#child.pid}/status`, 'latin1'))?.[1];
      return kb === undefined ? undefined : Number(kb) * 1024;
    } catch {
      return undefined; // exited between the check and the read
    }
  }

  /** Kills the process at once (SIGKILL: the engine holds nothing worth a graceful stop). */
  kill(): void {
    if (!this.#exit) this.#child.kill('SIGKILL');
  }
}
