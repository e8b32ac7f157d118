/**
 * The engine worker protocol (fn/worker/protocol.ts) spoken to the real workers directly — the native host
 * (kclrun-engine-host) and the Node fallback (entry.js), the same conversation for both: a hello, engine calls
 * answered in order (an `ERROR:` reply passed on as the engine gave it), a work dir that cannot be entered and a
 * malformed frame answered as failures, a request that arrives a byte at a time, and the end of stdin ending the
 * worker with exit code 0; the worker ends with its parent, even mid-call. And the host's `--exec` mode: a
 * command run inside the sandbox, and git run under it failing as git run directly does when there is no git.
 */
import test from 'ava';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { engineHostPath, engineLibraryPath } from '../../fn/engine/library.js';
import { decodeGetVersionResult, encodeExecProgramArgs, decodeExecProgramResult } from '../../fn/engine/messages.js';
import { FrameReader, parseHello, parseReply, requestFrame, workerArgs, type ReplyMessage } from '../../fn/worker/protocol.js';
import { tempDir, writeTree } from '../support/kclrun.js';
import { cloneRepo, GitError } from '../../fn/package/git.js';

const HOST = engineHostPath(engineLibraryPath());
const ENTRY = fileURLToPath(new URL('../../fn/worker/entry.js', import.meta.url));
const WORKERS = {
  native: (args: string[]) => [HOST, ...args],
  node: (args: string[]) => [process.execPath, ENTRY, ...args],
};

/** A worker under test: send frames (or raw bytes), read frames, see how it ended. */
function start(kind: keyof typeof WORKERS) {
  const [command, ...args] = WORKERS[kind](workerArgs(engineLibraryPath()));
  const child = spawn(command!, args, { stdio: ['pipe', 'pipe', 'pipe'], env: {} });
  child.stderr.resume(); // the engine's panic message for the unknown method
  const reader = new FrameReader();
  const frames: Buffer[] = [];
  let wake: (() => void) | undefined;
  child.stdout.on('data', (chunk: Buffer) => {
    frames.push(...reader.push(chunk));
    wake?.();
  });
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  const next = async (): Promise<Buffer> => {
    while (!frames.length) await new Promise<void>((r) => (wake = r));
    return frames.shift()!;
  };
  return { child, next, exited, reply: async (): Promise<ReplyMessage> => parseReply(await next()) };
}

for (const kind of Object.keys(WORKERS) as (keyof typeof WORKERS)[]) {
  test(`${kind} worker: hello, calls answered in order, failures as failures, a byte-at-a-time request, exit 0 at the end of stdin`, async (t) => {
    if (kind === 'native') t.true(existsSync(HOST), `${HOST} is missing: run \`npm run engine:fetch\` with a C compiler`);
    const dir = writeTree(tempDir(), { 'main.k': 'a = 1\nb = "two"\n' });
    const w = start(kind);
    t.deepEqual(parseHello(await w.next()), { ready: true });

    // two calls written back to back are answered in order
    w.child.stdin.write(requestFrame('/', 'KclService.GetVersion', new Uint8Array()));
    w.child.stdin.write(requestFrame(dir, 'KclService.ExecProgram', encodeExecProgramArgs({ workDir: dir, files: [join(dir, 'main.k')] })));
    const version = await w.reply();
    t.true(version.ok && /^\d+\.\d+\.\d+/.test(decodeGetVersionResult(version.bytes).version));
    const run = await w.reply();
    t.is(run.ok && decodeExecProgramResult(run.bytes).yamlResult.trim(), 'a: 1\nb: two');

    // the engine's own ERROR: reply is passed on as it is (a caught panic: a NUL-terminated string, no length)
    w.child.stdin.write(requestFrame('/', 'KclService.NoSuchMethod', new Uint8Array()));
    const unknown = await w.reply();
    t.true(unknown.ok && unknown.bytes.toString('utf8').startsWith('ERROR:'), unknown.ok ? unknown.bytes.toString('utf8') : unknown.message);

    // the worker's own failures
    w.child.stdin.write(requestFrame(join(dir, 'no-such-dir'), 'KclService.GetVersion', new Uint8Array()));
    t.like(await w.reply(), { ok: false });
    const malformed = Buffer.alloc(8);
    malformed.writeUInt32LE(4);
    malformed.write('abcd', 4);
    w.child.stdin.write(malformed);
    t.deepEqual(await w.reply(), { ok: false, message: 'malformed request frame' });

    // a request that arrives a byte at a time (short reads)
    for (const byte of requestFrame('/', 'KclService.GetVersion', new Uint8Array())) {
      w.child.stdin.write(Buffer.of(byte));
      await new Promise((r) => setImmediate(r));
    }
    t.true((await w.reply()).ok);

    w.child.stdin.end();
    t.is(await w.exited, 0);
  });
}

test('native host --exec: the command runs inside the sandbox (a file outside the policy is refused; without --sandbox it is read)', (t) => {
  t.true(existsSync(HOST), `${HOST} is missing: run \`npm run engine:fetch\` with a C compiler`);
  const dir = writeTree(tempDir(), { 'secret.txt': 'the-secret' });
  const secret = join(dir, 'secret.txt');
  const system = ['/usr', '/bin', '/lib', '/lib64', '/etc/ld.so.cache'].flatMap((p) => ['--ro', p]);
  const open = spawnSync(HOST, ['--exec', 'cat', secret], { encoding: 'utf8' });
  t.is(open.stdout, 'the-secret', open.stderr);
  const sandboxed = spawnSync(HOST, ['--sandbox', ...system, '--exec', 'cat', secret], { encoding: 'utf8' });
  t.not(sandboxed.status, 0);
  t.regex(sandboxed.stderr, /Permission denied/);
  t.is(sandboxed.stdout, '');
  // what the policy lists is readable
  const allowed = spawnSync(HOST, ['--sandbox', ...system, '--ro', dir, '--exec', 'cat', secret], { encoding: 'utf8' });
  t.is(allowed.stdout, 'the-secret', allowed.stderr);
});

test.serial('git under the host (--exec) that finds no git binary says so, as git run directly does', async (t) => {
  const path = process.env.PATH;
  process.env.PATH = tempDir(); // nothing named git on it
  t.teardown(() => void (process.env.PATH = path));
  const clone = (runUnder?: string[]) => cloneRepo('https://127.0.0.1:9/none.git', undefined, join(tempDir(), 'dest'), { runUnder });
  const direct = await t.throwsAsync(clone(), { instanceOf: GitError });
  t.regex(direct!.message, /the git binary was not found on PATH/);
  const under = await t.throwsAsync(clone([HOST, '--exec']), { instanceOf: GitError });
  t.is(under!.message, direct!.message);
});

for (const kind of Object.keys(WORKERS) as (keyof typeof WORKERS)[]) {
  test(`${kind} worker: ends with its parent, even in the middle of a call`, async (t) => {
    if (kind === 'native') t.true(existsSync(HOST), `${HOST} is missing: run \`npm run engine:fetch\` with a C compiler`);
    // Minutes of work: a worker still there 5 s after its parent is gone would not have been ended with it.
    const dir = writeTree(tempDir(), { 'slow.k': 'fib = lambda n: int -> int { 1 if n < 2 else fib(n - 1) + fib(n - 2) }\na = fib(50)\n' });
    const args = encodeExecProgramArgs({ workDir: dir, files: [join(dir, 'slow.k')] }).toString('base64');
    // A parent that starts the worker, sends it the slow program, says the worker's pid and then waits forever.
    const parent = spawn(process.execPath, ['--input-type=module', '-e', `
      import { spawn } from 'node:child_process';
      import { requestFrame, workerArgs } from ${JSON.stringify(new URL('../../fn/worker/protocol.js', import.meta.url).href)};
      const [command, ...args] = ${JSON.stringify(WORKERS[kind](workerArgs(engineLibraryPath())))};
      const host = spawn(command, args, { stdio: ['pipe', 'pipe', 'ignore'] });
      host.stdout.once('data', () => {
        host.stdin.write(requestFrame(${JSON.stringify(dir)}, 'KclService.ExecProgram', Buffer.from(${JSON.stringify(args)}, 'base64')));
        console.log(host.pid);
      });
      setInterval(() => {}, 1000);
    `], { stdio: ['ignore', 'pipe', 'inherit'] });
    const hostPid = Number(await new Promise<string>((resolve) => parent.stdout.once('data', (d: Buffer) => resolve(d.toString()))));
    const alive = (pid: number) => existsSync(`/proc/${pid}`) && !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'latin1'));
    await new Promise((r) => setTimeout(r, 200));
    t.true(alive(hostPid), 'the worker runs the program while its parent lives');
    parent.kill('SIGKILL');
    const end = Date.now() + 5000;
    while (alive(hostPid) && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
    t.false(alive(hostPid), 'the worker ended with its parent');
  });
}
