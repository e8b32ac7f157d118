/**
 * The Node engine worker: what an engine worker is when the native host (scripts/engine-host.c, built by
 * `npm run engine:fetch` with a C compiler) is missing. Same arguments, same frames (protocol.ts), same sandbox
 * (sandbox.ts): the pool cannot tell them apart, except by memory (a Node runtime each). Started by worker.ts, never
 * by hand. It only makes engine calls: the render itself runs in the parent.
 */
import { openSync } from 'node:fs';
import { Socket } from 'node:net';
import koffi from 'koffi';
import { EngineCallError, errorReply } from '../engine/call.js';
import { callService, loadEngine } from '../engine/native.js';
import { FrameReader, helloFrame, parseRequest, parseWorkerArgs, frame, Reply } from './protocol.js';
import { applySandbox } from './sandbox.js';

/** Where the worker waits between calls: never inside an artifact that is about to be deleted. */
const IDLE_DIR = '/';
const F_DUPFD_CLOEXEC = 1030;
const PR_SET_PDEATHSIG = 1;
const SIGKILL = 9;

/**
 * The frames' own descriptors: stdin and stdout moved above 2, then stdin reads /dev/null and stdout goes to stderr,
 * so that nothing the engine prints can land in a frame (as in the native host). And, as the native host, the worker
 * ends with its parent, even in the middle of a call.
 */
function takeStdio(): { input: Socket; output: Socket } {
  const libc = koffi.load('libc.so.6');
  libc.func('int prctl(int option, unsigned long a, unsigned long b, unsigned long c, unsigned long d)')(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
  const fcntl = libc.func('int fcntl(int fd, int cmd, int arg)');
  const dup2 = libc.func('int dup2(int oldfd, int newfd)');
  const inFd = fcntl(0, F_DUPFD_CLOEXEC, 3) as number;
  const outFd = fcntl(1, F_DUPFD_CLOEXEC, 3) as number;
  if (inFd < 0 || outFd < 0 || dup2(openSync('/dev/null', 'r'), 0) < 0 || dup2(2, 1) < 0) throw new Error('cannot set up the frame descriptors');
  return { input: new Socket({ fd: inFd, readable: true, writable: false }), output: new Socket({ fd: outFd, readable: false, writable: true }) };
}

async function answer(payload: Buffer): Promise<Buffer> {
  const req = parseRequest(payload);
  if (!req) return frame(Reply.Failed, 'malformed request frame');
  try {
    process.chdir(req.cwd);
  } catch (err) {
    return frame(Reply.Failed, `cannot enter the work dir ${req.cwd}: ${(err as Error).message}`);
  }
  try {
    return frame(Reply.Engine, await callService(req.method, req.args));
  } catch (err) {
    if (err instanceof EngineCallError) return frame(Reply.Engine, errorReply(err.detail));
    return frame(Reply.Failed, `${(err as Error).name}: ${(err as Error).message}`);
  } finally {
    process.chdir(IDLE_DIR);
  }
}

process.title = 'kclrun-engine-worker';
const { input, output } = takeStdio();
const { libraryPath, sandbox: policy } = parseWorkerArgs(process.argv.slice(2));
try {
  const sandbox = policy && applySandbox(policy);
  loadEngine(libraryPath, { mainThread: sandbox?.applied });
  process.chdir(IDLE_DIR);
  output.write(helloFrame({ ready: true, sandbox }));
} catch (err) {
  output.end(helloFrame({ ready: false, message: (err as Error).message }), () => process.exit(1));
}
const reader = new FrameReader();
let replies: Promise<unknown> = Promise.resolve();
input.on('data', (chunk: Buffer) => {
  for (const payload of reader.push(chunk)) replies = replies.then(async () => output.write(await answer(payload)));
});
input.on('end', () => void replies.then(() => process.exit(0)));
