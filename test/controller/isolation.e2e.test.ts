/**
 * Render isolation on a real API server: tenant KCL programs run in the controller's engine workers, never in its
 * own process. A program that crashes the engine (unbounded recursion), one that runs too long and one that eats
 * memory each fail the build with the file and the limit named, apply nothing, and leave the controller and every
 * other KCLRun going: a new revision of another KCLRun is applied while they render. A program reading the
 * environment sees none of the controller's, and the workers' file-system sandbox refuses a write.
 */
import test from 'ava';
import { newNamespace } from '../harness/ava.js';
import type { KCLRun } from '../../controller/api/types.js';
import {
  condition,
  configMapsPackage,
  createKCLRun,
  deleteKCLRuns,
  failedWith,
  getKCLRun,
  getObject,
  gitRef,
  gitSource,
  httpGet,
  kclPackage,
  readyAt,
  setArtifact,
  useController,
  waitKCLRun,
} from './suite.js';
import { tempDir, renderHere } from '../support/kclrun.js';

const Mi = 1024 * 1024;
const suite = useController(test, { renderWorkers: 3, renderTimeoutMs: 5000, renderMemoryLimitBytes: 200 * Mi });

const RECURSION = 'f = lambda x: int -> int { f(x + 1) }\na = f(1)\n';
const SLOW = 'fib = lambda n: int -> int { 1 if n < 2 else fib(n - 1) + fib(n - 2) }\nitems = [{apiVersion = "v1", kind = "ConfigMap", metadata.name = "slow", data.n = str(fib(40))}]\n';
const HUNGRY = 'items = [{apiVersion = "v1", kind = "ConfigMap", metadata.name = "hungry", data.n = str(len("x" * 900000000))}]\n';
const rev = (c: string) => `main@sha1:${c.repeat(40)}`;

const readyMessage = (k: KCLRun | undefined) => condition(k, 'Ready')?.message ?? '';

test.serial('a program that recurses forever fails the build naming main.k; the controller and other KCLRuns go on', async (t) => {
  const { cp, controller } = suite();
  const ns = await newNamespace(cp, 'crash');
  await gitSource(cp, ns, 'recurse', kclPackage(RECURSION), rev('1'));
  await createKCLRun(cp, ns, 'recurse', { sourceRef: gitRef('recurse') });
  const k = await waitKCLRun(cp, ns, 'recurse', failedWith('BuildFailed'));
  t.is(readyMessage(k), 'KCL build failed: main.k: the KCL engine crashed (SIGSEGV) while running this program; the usual cause is unbounded recursion');
  t.is(k.status?.lastAppliedRevision, undefined);
  t.deepEqual(k.status?.inventory?.entries ?? [], []);
  // the controller is alive and renders the next KCLRun
  t.is((await httpGet(controller.healthPort, '/healthz')).status, 200);
  const good = await gitSource(cp, ns, 'good', configMapsPackage({ after: { v: '1' } }), rev('2'));
  await createKCLRun(cp, ns, 'good', { sourceRef: gitRef('good') });
  await waitKCLRun(cp, ns, 'good', readyAt(good.revision));
  t.deepEqual((await getObject(cp, `/api/v1/namespaces/${ns}/configmaps/after`))?.data, { v: '1' });
  await deleteKCLRuns(cp, ns, ['recurse', 'good']);
});

test.serial('a slow and a memory-hungry program fail with their limit named, while another KCLRun gets its new revision applied', async (t) => {
  const { cp } = suite();
  const ns = await newNamespace(cp, 'limits');
  const v1 = await gitSource(cp, ns, 'app', configMapsPackage({ app: { v: '1' } }), rev('a'));
  await createKCLRun(cp, ns, 'app', { sourceRef: gitRef('app') });
  await waitKCLRun(cp, ns, 'app', readyAt(v1.revision));

  await gitSource(cp, ns, 'slow', kclPackage(SLOW), rev('b'));
  await gitSource(cp, ns, 'hungry', kclPackage(HUNGRY), rev('c'));
  await createKCLRun(cp, ns, 'slow', { sourceRef: gitRef('slow'), retryInterval: '1s' });
  await createKCLRun(cp, ns, 'hungry', { sourceRef: gitRef('hungry'), retryInterval: '1s' });
  // The slow program's first render is under way: its KCLRun is building and has not failed yet.
  await waitKCLRun(cp, ns, 'slow', (k) => /^Building manifests/.test(condition(k, 'Reconciling')?.message ?? ''));

  const v2 = await setArtifact(cp, ns, 'app', configMapsPackage({ app: { v: '2' } }), rev('d'));
  await waitKCLRun(cp, ns, 'app', readyAt(v2.revision));
  const slowMeanwhile = await getKCLRun(cp, ns, 'slow');
  t.deepEqual((await getObject(cp, `/api/v1/namespaces/${ns}/configmaps/app`))?.data, { v: '2' });
  // Applied before the slow program's first render ended: it did not wait behind it.
  t.false(failedWith('BuildFailed')(slowMeanwhile!), `slow already failed: ${readyMessage(slowMeanwhile)}`);

  const slow = await waitKCLRun(cp, ns, 'slow', failedWith('BuildFailed'));
  t.is(readyMessage(slow), 'KCL build failed: main.k: the program ran longer than the 5s limit and was stopped (set by --render-timeout)');
  const hungry = await waitKCLRun(cp, ns, 'hungry', failedWith('BuildFailed'));
  t.regex(readyMessage(hungry), /^KCL build failed: main\.k: the program used more than the 200Mi memory limit \(\d+(\.\d)?Mi\) and was stopped \(set by --render-memory-limit\)$/);
  for (const name of ['slow', 'hungry']) {
    t.is(await getObject(cp, `/api/v1/namespaces/${ns}/configmaps/${name}`), undefined, `${name} applied nothing`);
  }
  await deleteKCLRuns(cp, ns, ['slow', 'hungry', 'app']);
});

test.serial("a program reading the environment sees none of the controller's", async (t) => {
  const { cp } = suite();
  process.env.KCLRUN_E2E_CONTROLLER_SECRET = 'controller-only';
  t.teardown(() => delete process.env.KCLRUN_E2E_CONTROLLER_SECRET);
  const main = [
    'import file',
    'items = [{apiVersion = "v1", kind = "ConfigMap", metadata.name = "env-probe", data = {',
    '    secret = file.read_env("KCLRUN_E2E_CONTROLLER_SECRET") or "unset"',
    '    path = file.read_env("PATH") or "unset"',
    '}}]',
    '',
  ].join('\n');
  // Positive control: rendered in this process (which runs the controller), the program does see the variable.
  const here = await renderHere({ source: { kind: 'inline', code: main }, baseDir: tempDir() });
  t.deepEqual(here.ok && here.objects[0]?.data, { secret: 'controller-only', path: process.env.PATH });

  const ns = await newNamespace(cp, 'env');
  const art = await gitSource(cp, ns, 'probe', kclPackage(main), rev('e'));
  await createKCLRun(cp, ns, 'probe', { sourceRef: gitRef('probe') });
  await waitKCLRun(cp, ns, 'probe', readyAt(art.revision));
  t.deepEqual((await getObject(cp, `/api/v1/namespaces/${ns}/configmaps/env-probe`))?.data, { secret: 'unset', path: 'unset' });
  await deleteKCLRuns(cp, ns, ['probe']);
});

test.serial('the engine workers are sandboxed: a program cannot write, even inside its own artifact', async (t) => {
  const { cp } = suite();
  const main = [
    'import file',
    'file.write("planted.k", "a = 1")',
    'items = [{apiVersion = "v1", kind = "ConfigMap", metadata.name = "writer"}]',
    '',
  ].join('\n');
  // Positive control: outside the sandbox the engine lets a program write inside its module root.
  const dir = tempDir();
  const here = await renderHere({ source: { kind: 'inline', code: main }, baseDir: dir });
  t.true(here.ok);

  const ns = await newNamespace(cp, 'sandbox');
  const art = await gitSource(cp, ns, 'writer', kclPackage(main), rev('f'));
  await createKCLRun(cp, ns, 'writer', { sourceRef: gitRef('writer') });
  const k = await waitKCLRun(cp, ns, 'writer', (k) => failedWith('BuildFailed')(k) && k.status?.lastAttemptedRevision === art.revision);
  t.regex(condition(k, 'Ready')?.message ?? '', /main\.k:2(:\d+)?: EvaluationError: Failed to create file '.*planted\.k': Permission denied/);
  t.is(await getObject(cp, `/api/v1/namespaces/${ns}/configmaps/writer`), undefined);
  await deleteKCLRuns(cp, ns, ['writer']);
});
