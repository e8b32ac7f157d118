/**
 * `argumentsReferences`: ConfigMap and Secret data reach the KCL program as `option("key")` (multi-line values keep
 * their newlines); a missing reference fails the build by name unless it is optional; and no Secret value ever
 * reaches the KCLRun's status, its Events or the controller's logs — not when the render fails, and not when the
 * API rejects a rendered Secret carrying the value.
 */
import test from 'ava';
import { Writable } from 'node:stream';
import { newNamespace } from '../harness/ava.js';
import type { ControlPlane } from '../harness/control-plane.js';
import { jsonLogger } from '../../controller/log.js';
import { condition, createKCLRun, createObject, failedWith, getKCLRun, getObject, gitRef, gitSource, kclPackage, listEvents, readyAt, setArtifact, useController, waitKCLRun } from './suite.js';

const logLines: string[] = [];
const sink = new Writable({
  write(chunk: Buffer, _enc, cb) {
    logLines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
    cb();
  },
});
const suite = useController(test, { logger: jsonLogger('debug', {}, sink) });

const TOKEN = 'tok-7Hq2-Zx9v-Wm4k';
const PEM = '-----BEGIN KEY-----\nMIIBsecretLineOne0000\nMIIBsecretLineTwo1111\n-----END KEY-----\n';
const SECRET_PARTS = [TOKEN, 'MIIBsecretLineOne0000', 'MIIBsecretLineTwo1111', Buffer.from(TOKEN).toString('base64')];

async function setupRefs(cp: ControlPlane, ns: string): Promise<void> {
  await createObject(cp, `/api/v1/namespaces/${ns}/configmaps`, {
    apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'settings' },
    data: { greeting: 'hello world', motd: 'first line\nsecond line\n' },
  });
  await createObject(cp, `/api/v1/namespaces/${ns}/secrets`, {
    apiVersion: 'v1', kind: 'Secret', metadata: { name: 'creds' },
    stringData: { token: TOKEN, key: PEM },
  });
}

/** Everything a user (or a log collector) can see about the KCLRun. */
async function visible(cp: ControlPlane, ns: string, name: string): Promise<string> {
  const k = await getKCLRun(cp, ns, name);
  const events = await listEvents(cp, ns);
  return [JSON.stringify(k?.status), JSON.stringify(events), logLines.join('\n')].join('\n');
}

function assertNoSecret(t: { false(v: boolean, m?: string): void }, text: string): void {
  for (const part of SECRET_PARTS) t.false(text.includes(part), `secret value "${part}" is visible`);
}

const refs = [
  { kind: 'ConfigMap' as const, name: 'settings' },
  { kind: 'Secret' as const, name: 'creds' },
];

test('ConfigMap and Secret values reach KCL through option(), newlines kept, and never surface', async (t) => {
  const { cp } = suite();
  const ns = await newNamespace(cp, 'args');
  await setupRefs(cp, ns);
  const art = await gitSource(cp, ns, 'repo', kclPackage(`items = [
    {apiVersion = "v1", kind = "ConfigMap", metadata.name = "rendered", data = {greeting = option("greeting"), motd = option("motd")}}
    {apiVersion = "v1", kind = "Secret", metadata.name = "copy", stringData = {token = option("token"), key = option("key")}}
]
`), 'main@sha1:1111111111111111111111111111111111111111');
  await createKCLRun(cp, ns, 'app', { sourceRef: gitRef('repo'), argumentsReferences: refs });
  await waitKCLRun(cp, ns, 'app', readyAt(art.revision));
  const cm = await getObject(cp, `/api/v1/namespaces/${ns}/configmaps/rendered`);
  t.deepEqual(cm?.data, { greeting: 'hello world', motd: 'first line\nsecond line\n' });
  const secret = await getObject(cp, `/api/v1/namespaces/${ns}/secrets/copy`);
  t.is(Buffer.from(secret?.data.token, 'base64').toString(), TOKEN);
  t.is(Buffer.from(secret?.data.key, 'base64').toString(), PEM);
  assertNoSecret(t, await visible(cp, ns, 'app'));
});

test('spec.params reaches KCL as option("params") and config.strictRangeCheck / config.debug reach the engine', async (t) => {
  const { cp } = suite();
  const ns = await newNamespace(cp, 'params');
  const art = await gitSource(cp, ns, 'repo', kclPackage(`p = option("params")
big = p.base + 1
items = [{apiVersion = "v1", kind = "ConfigMap", metadata.name = p.name, data = {replicas = str(p.replicas), tier = p.labels.tier, big = str(big)}}]
`), 'main@sha1:6666666666666666666666666666666666666666');
  const params = { name: 'from-params', replicas: 3, labels: { tier: 'web' }, base: 2147483647 };
  await createKCLRun(cp, ns, 'app', { sourceRef: gitRef('repo'), params, config: { debug: true } });
  await waitKCLRun(cp, ns, 'app', readyAt(art.revision));
  t.deepEqual((await getObject(cp, `/api/v1/namespaces/${ns}/configmaps/from-params`))?.data, { replicas: '3', tier: 'web', big: '2147483648' });
  // The same program with strict range checks overflows a 32-bit integer: the build fails, nothing else is applied.
  await createKCLRun(cp, ns, 'strict', { sourceRef: gitRef('repo'), params: { ...params, name: 'strict' }, config: { strictRangeCheck: true } });
  const k = await waitKCLRun(cp, ns, 'strict', failedWith('BuildFailed'));
  t.regex(condition(k, 'Ready')!.message, /main\.k:2:1: EvaluationError: 2147483648: A 32 bit integer overflow/);
  t.is(await getObject(cp, `/api/v1/namespaces/${ns}/configmaps/strict`), undefined);
});

test('a missing reference fails the build by name; an optional one is skipped', async (t) => {
  const { cp } = suite();
  const ns = await newNamespace(cp, 'argsmissing');
  const art = await gitSource(cp, ns, 'repo', kclPackage(`items = [{apiVersion = "v1", kind = "ConfigMap", metadata.name = "out", data.v = option("v") or "default"}]\n`), 'main@sha1:2222222222222222222222222222222222222222');
  await createKCLRun(cp, ns, 'strict', { sourceRef: gitRef('repo'), argumentsReferences: [{ kind: 'Secret', name: 'absent' }] });
  const k = await waitKCLRun(cp, ns, 'strict', failedWith('BuildFailed'));
  t.is(condition(k, 'Ready')!.message, `Secret '${ns}/absent' not found`);
  t.is(await getObject(cp, `/api/v1/namespaces/${ns}/configmaps/out`), undefined);

  await createKCLRun(cp, ns, 'lenient', { sourceRef: gitRef('repo'), argumentsReferences: [{ kind: 'ConfigMap', name: 'absent', optional: true }] });
  await waitKCLRun(cp, ns, 'lenient', readyAt(art.revision));
  t.deepEqual((await getObject(cp, `/api/v1/namespaces/${ns}/configmaps/out`))?.data, { v: 'default' });
});

test('a failing render that mentions a Secret value does not surface it', async (t) => {
  const { cp } = suite();
  const ns = await newNamespace(cp, 'argsrender');
  await setupRefs(cp, ns);
  await gitSource(cp, ns, 'repo', kclPackage(`port = int(option("token"))
items = [{apiVersion = "v1", kind = "ConfigMap", metadata.name = "never", data.port = str(port)}]
`), 'main@sha1:3333333333333333333333333333333333333333');
  await createKCLRun(cp, ns, 'app', { sourceRef: gitRef('repo'), argumentsReferences: refs });
  const k = await waitKCLRun(cp, ns, 'app', failedWith('BuildFailed'));
  t.log(condition(k, 'Ready')!.message);
  t.regex(condition(k, 'Ready')!.message, /main\.k:1/);
  assertNoSecret(t, await visible(cp, ns, 'app'));

  // An assertion that prints the value on purpose is redacted too.
  await setArtifact(cp, ns, 'repo', kclPackage(`assert option("token") == "expected", "unexpected token " + option("token") + " and key " + option("key")
items = []
`), 'main@sha1:4444444444444444444444444444444444444444');
  const k2 = await waitKCLRun(cp, ns, 'app', (k) => failedWith('BuildFailed')(k) && k.status?.lastAttemptedRevision === 'main@sha1:4444444444444444444444444444444444444444');
  t.log(condition(k2, 'Ready')!.message);
  t.regex(condition(k2, 'Ready')!.message, /unexpected token/);
  assertNoSecret(t, await visible(cp, ns, 'app'));
});

test('an apply of a Secret carrying the value that the API rejects does not surface it', async (t) => {
  const { cp } = suite();
  const ns = await newNamespace(cp, 'argsapply');
  await setupRefs(cp, ns);
  // The API rejects a label value with newlines and echoes it back ("Invalid value: …").
  await gitSource(cp, ns, 'repo', kclPackage(`items = [
    {apiVersion = "v1", kind = "Secret", metadata = {name = "bad", labels.leak = option("key")}, stringData.token = option("token")}
]
`), 'main@sha1:5555555555555555555555555555555555555555');
  await createKCLRun(cp, ns, 'app', { sourceRef: gitRef('repo'), argumentsReferences: refs });
  const k = await waitKCLRun(cp, ns, 'app', failedWith('ReconciliationFailed'));
  t.log(condition(k, 'Ready')!.message);
  t.regex(condition(k, 'Ready')!.message, new RegExp(`Secret/${ns}/bad`));
  t.is(await getObject(cp, `/api/v1/namespaces/${ns}/secrets/bad`), undefined);
  assertNoSecret(t, await visible(cp, ns, 'app'));
});
