/**
 * The engine pool's supervisor, with real engine workers (the native host, and for the program failures the Node
 * fallback too): a crash, a deadline, a memory cap, an output cap, an abort each end in a typed failure naming the
 * program's file and the limit's flag, the worker is gone and the next call starts another; workers start on demand
 * and exit when idle; workers get only the environment they are given; calls run in parallel.
 */
import test, { type ExecutionContext } from 'ava';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { EnginePool, type EnginePoolOptions } from '../../fn/worker/pool.js';
import { EngineUnavailableError, PoolClosedError, RenderAbortedError } from '../../fn/worker/errors.js';
import type { RenderOutcome } from '../../fn/render.js';
import { formatDiagnostic } from '../../fn/engine/diagnostics.js';
import { createServer } from 'node:net';
import { createServer as createHttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tempDir, writeTree } from '../support/kclrun.js';
import { engineHostPath, engineLibraryPath } from '../../fn/engine/library.js';

const dir = tempDir('kclrun-pool-');
const MAIN = join(dir, 'main.k');
const RECURSION = 'f = lambda x: int -> int { f(x + 1) }\na = f(1)\n';
const SLOW = 'fib = lambda n: int -> int { 1 if n < 2 else fib(n - 1) + fib(n - 2) }\na = fib(40)\n';
const HUNGRY = 'a = len("x" * 900000000)\n';

const inline = (code: string) => ({ source: { kind: 'inline' as const, code }, baseDir: dir, inlineName: MAIN });
const message = (out: RenderOutcome) => (out.ok ? 'ok' : out.diagnostics.map(formatDiagnostic).join('; '));

function pool(t: ExecutionContext, opts: EnginePoolOptions = {}): EnginePool {
  const p = new EnginePool({ workers: 1, ...opts });
  t.teardown(() => p.close());
  const native = opts.hostPath !== null;
  if (p.native !== native) t.fail(`expected ${native ? 'native' : 'Node'} workers: run \`npm run engine:fetch\` with a C compiler to build kclrun-engine-host`);
  return p;
}

/** This process's children that are engine workers (the native host, or Node running the worker entry). */
function workerProcesses(): number[] {
  const out: number[] = [];
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'latin1');
      if (ppid === process.pid && /kclrun-engine-host|worker\/entry\.js/.test(cmdline)) out.push(Number(pid));
    } catch {
      /* exited meanwhile */
    }
  }
  return out;
}

async function until(what: string, check: () => boolean, timeoutMs = 5000): Promise<void> {
  for (const end = Date.now() + timeoutMs; !check(); await new Promise((r) => setTimeout(r, 20))) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
  }
}

for (const [kind, hostPath] of [['native', undefined], ['node', null]] as const) {
  test(`${kind} worker: a program that crashes the engine is a diagnostic naming its file; the next call starts another worker`, async (t) => {
    const p = pool(t, { hostPath });
    const out = await p.render(inline(RECURSION), dir);
    t.is(message(out), `${MAIN}: the KCL engine crashed (SIGSEGV) while running this program; the usual cause is unbounded recursion`);
    t.is(p.workers, 0);
    t.is(message(await p.render(inline('a = 1\n'), dir)), 'ok');
    t.is(p.workers, 1);
  });

  test(`${kind} worker: a program past the deadline is stopped; the message names the limit and what set it`, async (t) => {
    const p = pool(t, { hostPath, timeoutMs: 1000 });
    t.is(message(await p.render(inline(SLOW), dir)), `${MAIN}: the program ran longer than the 1s limit and was stopped (set by --render-timeout)`);
    // a lower per-call deadline wins and is named
    const lower = await p.render(inline(SLOW), dir, { timeoutMs: 500, timeoutSetBy: "the KCLRun's spec.timeout" });
    t.is(message(lower), `${MAIN}: the program ran longer than the 500ms limit and was stopped (set by the KCLRun's spec.timeout)`);
    t.is(message(await p.render(inline('a = 1\n'), dir)), 'ok');
  });

  test(`${kind} worker: a worker past the memory cap is killed; the message names the limit and its flag`, async (t) => {
    const p = pool(t, { hostPath, memoryLimitBytes: 150 * 1024 * 1024 });
    t.regex(message(await p.render(inline(HUNGRY), dir)), new RegExp(`^${MAIN}: the program used more than the 150Mi memory limit \\(\\d+(\\.\\d)?Mi\\) and was stopped \\(set by --render-memory-limit\\)$`));
    t.is(message(await p.render(inline('a = 1\n'), dir)), 'ok');
  });
}

test.serial('workers start on demand, up to the pool size, and exit after idling', async (t) => {
  const p = pool(t, { workers: 2, idleMs: 400, growAfterMs: 0 });
  t.is(p.workers, 0);
  t.deepEqual(workerProcesses(), [], 'no worker before the first call');
  const outs = await Promise.all([p.render(inline('a = 1\n'), dir), p.render(inline('a = 2\n'), dir), p.render(inline('a = 3\n'), dir)]);
  t.deepEqual(outs.map(message), ['ok', 'ok', 'ok']);
  t.is(p.workers, 2);
  t.is(workerProcesses().length, 2);
  await until('the idle workers to exit', () => p.workers === 0 && workerProcesses().length === 0);
  // and the next call starts one again
  t.is(message(await p.render(inline('a = 4\n'), dir)), 'ok');
  t.is(workerProcesses().length, 1);
});

test.serial('sequential calls keep using the worker that rested last, so a worker no longer needed idles out', async (t) => {
  const p = pool(t, { workers: 2, idleMs: 1500, growAfterMs: 0 });
  await Promise.all([p.render(inline('a = 1\n'), dir), p.render(inline('a = 2\n'), dir)]);
  t.is(workerProcesses().length, 2, 'two calls at once start two workers');
  // One call every 200 ms: one worker takes them all; the other passes its idle time and exits.
  const end = Date.now() + 2500;
  while (Date.now() < end) {
    t.is(message(await p.render(inline('a = 3\n'), dir)), 'ok');
    await new Promise((r) => setTimeout(r, 200));
  }
  t.is(workerProcesses().length, 1);
  t.is(p.workers, 1);
});

test.serial('a further worker starts only once a call has waited growAfterMs for a busy one', async (t) => {
  // Quick calls queue behind the one worker instead of starting another (the test above, growAfterMs 0, got two).
  const patient = pool(t, { workers: 2, growAfterMs: 60_000 });
  const outs = await Promise.all([1, 2, 3].map((i) => patient.render(inline(`a = ${i}\n`), dir)));
  t.deepEqual(outs.map(message), ['ok', 'ok', 'ok']);
  t.is(workerProcesses().length, 1);
  t.is(patient.workers, 1);
  await patient.close();
  // A call stuck behind a slow one gets its own worker after the wait, and finishes first.
  const p = pool(t, { workers: 2, growAfterMs: 300, timeoutMs: 3000 });
  const slow = p.render(inline(SLOW), dir);
  const t0 = performance.now();
  t.is(message(await p.render(inline('a = 1\n'), dir)), 'ok');
  t.true(performance.now() - t0 >= 300, 'the second call waited growAfterMs first');
  t.is(p.workers, 2);
  t.is(p.busy, 1, 'the slow call still runs');
  t.regex(message(await slow), /3s limit/);
});

test.serial('probe starts a worker and says whether it is sandboxed; calls then use that worker', async (t) => {
  const p = pool(t, { idleMs: 60_000 });
  t.is(await p.probe(), undefined, 'no sandbox was asked for');
  const [pid] = workerProcesses();
  t.truthy(pid);
  t.is(message(await p.render(inline('a = 1\n'), dir)), 'ok');
  t.deepEqual(workerProcesses(), [pid]);
});

test('a dependency download is inside the deadline: a registry that never answers stops the render, named as such', async (t) => {
  const silent = createServer(() => {});
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
  t.teardown(() => silent.close());
  const port = (silent.address() as AddressInfo).port;
  const pkg = writeTree(tempDir(), {
    'kcl.mod': `[package]\nname = "app"\nversion = "0.0.1"\n\n[dependencies]\nlib = { oci = "oci://127.0.0.1:${port}/lib/x", tag = "1.0.0" }\n`,
    'main.k': 'import lib\na = lib.x\n',
  });
  const p = pool(t, { timeoutMs: 1000, env: { KCL_PKG_PATH: tempDir() } });
  const out = await p.render({ source: { kind: 'local', paths: [pkg] }, baseDir: pkg }, pkg);
  t.is(message(out), `${pkg}: fetching the package's dependencies took longer than the 1s limit and was stopped (set by --render-timeout)`);
  t.is(message(await p.render(inline('a = 1\n'), dir)), 'ok');
});

test('a render stopped by its deadline stops downloading: a slow registry sees no request after the deadline', async (t) => {
  // Each request is answered after 1.5 s, with a bearer-token challenge: a download that goes on after the 1 s
  // deadline makes a second request (for the token).
  const requests: string[] = [];
  const slow = createHttpServer((req, res) => {
    requests.push(req.url ?? '');
    const realm = `http://127.0.0.1:${(slow.address() as AddressInfo).port}/token`;
    setTimeout(() => res.writeHead(401, { 'www-authenticate': `Bearer realm="${realm}",service="test",scope="repository:lib/x:pull"` }).end(), 1500);
  });
  await new Promise<void>((r) => slow.listen(0, '127.0.0.1', r));
  t.teardown(() => {
    slow.closeAllConnections();
    slow.close();
  });
  const port = (slow.address() as AddressInfo).port;
  const pkg = writeTree(tempDir(), {
    'kcl.mod': `[package]\nname = "app"\nversion = "0.0.1"\n\n[dependencies]\nlib = { oci = "oci://127.0.0.1:${port}/lib/x", tag = "1.0.0" }\n`,
    'main.k': 'import lib\na = lib.x\n',
  });
  const run = (timeoutMs: number) => pool(t, { timeoutMs, env: { KCL_PKG_PATH: tempDir(), OCI_REG_PLAIN_HTTP: 'on' } }).render({ source: { kind: 'local', paths: [pkg] }, baseDir: pkg }, pkg);
  // Positive control: with time enough, the download goes past its first answer.
  await run(5000);
  t.true(requests.length >= 2, `the download makes more than one request: ${JSON.stringify(requests)}`);
  requests.length = 0;
  t.regex(message(await run(1000)), /fetching the package's dependencies took longer than the 1s limit/);
  await new Promise((r) => setTimeout(r, 2500));
  t.is(requests.length, 1, `no request after the deadline: ${JSON.stringify(requests)}`);
});

test('a large output (many frames\' worth of pipe reads) comes back whole', async (t) => {
  const p = pool(t);
  const out = await p.render(inline('a = "x" * 12000000\nb = 2\n'), dir);
  t.true(out.ok, message(out));
  t.deepEqual(out.ok && out.objects.map((o) => [String(o.a).length, o.b]), [[12_000_000, 2]]);
});

test('output caps: too many resources or too many bytes fail, naming the flag', async (t) => {
  const p = pool(t, { outputLimits: { maxObjects: 3, maxBytes: 1000 } });
  const objects = (n: number) => `items = [{apiVersion = "v1", kind = "ConfigMap", metadata.name = "c${'${i}'}"} for i in range(${n})]\n`;
  t.is(message(await p.render(inline(objects(3)), dir)), 'ok');
  t.is(message(await p.render(inline(objects(4)), dir)), `${MAIN}: the program rendered 4 resources, more than the limit of 3 (--render-max-objects)`);
  t.regex(message(await p.render(inline('a = "x" * 2000\n'), dir)), /main\.k: the program's output is 2(\.\d)?Ki, more than the 1000B limit \(--render-max-bytes\)$/);
});

test('workers see only the environment they are given (the controller gives none)', async (t) => {
  process.env.KCLRUN_POOL_TEST_SECRET = 'from-the-parent';
  t.teardown(() => delete process.env.KCLRUN_POOL_TEST_SECRET);
  const program = 'import file\nv = file.read_env("KCLRUN_POOL_TEST_SECRET") or "unset"\n';
  const empty = await pool(t).render(inline(program), dir);
  t.deepEqual(empty.ok && empty.objects, [{ v: 'unset' }]);
  // positive control: a pool given the parent's environment (the CLI's) sees the variable
  const inherited = await pool(t, { env: process.env }).render(inline(program), dir);
  t.deepEqual(inherited.ok && inherited.objects, [{ v: 'from-the-parent' }]);
});

test('calls run in parallel: a slow program does not hold back another one', async (t) => {
  const p = pool(t, { workers: 2, timeoutMs: 3000 });
  const order: string[] = [];
  const slow = p.render(inline(SLOW), dir).then((o) => (order.push('slow'), o));
  const fast = p.render(inline('a = 1\n'), dir).then((o) => (order.push('fast'), o));
  t.is(message(await fast), 'ok');
  t.regex(message(await slow), /3s limit/);
  t.deepEqual(order, ['fast', 'slow']);
});

test('an abort kills the running call and drops a queued one; the pool goes on', async (t) => {
  const p = pool(t);
  const ac = new AbortController();
  const running = p.render(inline(SLOW), dir, { signal: ac.signal });
  const queued = p.render(inline('a = 1\n'), dir, { signal: ac.signal });
  setTimeout(() => ac.abort(), 200);
  await t.throwsAsync(running, { instanceOf: RenderAbortedError });
  await t.throwsAsync(queued, { instanceOf: RenderAbortedError });
  t.is(message(await p.render(inline('a = 2\n'), dir)), 'ok');
});

test('an engine that cannot be loaded is a typed error, and no worker is restarted in a loop', async (t) => {
  const p = pool(t, { libraryPath: join(dir, 'no-such-libkcl.so'), hostPath: engineHostPath(engineLibraryPath()) });
  const err = await t.throwsAsync(p.render(inline('a = 1\n'), dir), { instanceOf: EngineUnavailableError });
  t.regex(err!.message, /KCL engine not found at .*no-such-libkcl\.so/);
  await new Promise((r) => setTimeout(r, 300));
  t.is(p.workers, 0);
});

test('close fails running and waiting calls and stops every worker', async (t) => {
  const p = new EnginePool({ workers: 1 });
  const running = p.render(inline(SLOW), dir);
  const waiting = p.render(inline('a = 1\n'), dir);
  await p.close();
  await t.throwsAsync(waiting, { instanceOf: PoolClosedError });
  await t.throwsAsync(running, { instanceOf: PoolClosedError });
  t.is(p.workers, 0);
});

test('a long-lived signal (the controller stop) collects no listeners from finished calls', async (t) => {
  const p = pool(t, { workers: 2 });
  const stop = new AbortController();
  const { getEventListeners } = await import('node:events');
  for (let i = 0; i < 12; i++) t.is(message(await p.render(inline(`a = ${i}\n`), dir, { signal: stop.signal })), 'ok');
  t.is(getEventListeners(stop.signal, 'abort').length, 0);
});
