/**
 * An engine worker: a child process (started by `EnginePool`, never run by hand) that loads the KCL engine once
 * and answers calls from its parent over IPC, one at a time. The KCL program runs here, so when it crashes the
 * engine, exhausts memory or loops, only this process dies or is killed. Imports only what a render needs.
 *
 * argv: [libkcl.so path, sandbox policy as JSON (optional)]. The environment is whatever the parent gave (the
 * controller gives an empty one). With a policy, the worker sandboxes itself (sandbox.ts) before loading the engine.
 */
import { engineVersion, overrideFile } from '../engine/engine.js';
import { loadEngine } from '../engine/native.js';
import { PackageRoot } from '../package/root.js';
import { render } from '../render.js';
import type { WorkerReply, WorkerRequest } from './protocol.js';
import { applySandbox } from './sandbox.js';
import type { SandboxPolicy, SandboxStatus } from './sandbox-policy.js';

/** Where the worker waits between calls: never inside an artifact that is about to be deleted. */
const IDLE_DIR = '/';

function send(reply: WorkerReply, then?: () => void): void {
  process.send!(reply, undefined, {}, then);
}

async function answer(req: WorkerRequest): Promise<unknown> {
  switch (req.method) {
    case 'render': {
      process.chdir(req.args.cwd);
      try {
        const onRun = (files: readonly string[]) => send({ type: 'running', id: req.id, files: [...files] });
        const { root } = req.args;
        const request = { ...req.args.request, root: root && new PackageRoot(root.dir, root.label) };
        return await render(request, { limits: req.args.limits, onRun });
      } finally {
        process.chdir(IDLE_DIR);
      }
    }
    case 'override':
      return overrideFile(req.args.file, req.args.specs);
    case 'version':
      return engineVersion();
  }
}

async function handle(req: WorkerRequest): Promise<void> {
  try {
    send({ type: 'result', id: req.id, result: await answer(req) });
  } catch (err) {
    const e = err instanceof Error ? err : new Error(String(err));
    send({ type: 'error', id: req.id, name: e.name, message: e.message });
  }
}

process.title = 'kclrun-engine-worker';
process.on('disconnect', () => process.exit(0));
try {
  const policy = process.argv[3] ? (JSON.parse(process.argv[3]) as SandboxPolicy) : undefined;
  const sandbox: SandboxStatus | undefined = policy && applySandbox(policy);
  loadEngine(process.argv[2] ?? '', { mainThread: sandbox?.applied });
  process.chdir(IDLE_DIR);
  process.on('message', (req: WorkerRequest) => void handle(req));
  send({ type: 'ready', sandbox });
} catch (err) {
  send({ type: 'unavailable', message: (err as Error).message }, () => process.exit(1));
}
