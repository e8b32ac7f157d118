/**
 * Artifact handling as a user sees it: a digest mismatch, a truncated tarball (its digest matching the truncated
 * bytes) and a path-escaping tarball fail with ArtifactFailed and apply nothing (and the tarball writes nothing
 * outside the temp dir); a source without an artifact is "not ready
 * yet" (requeued quietly, then Ready once the artifact appears); a missing source is reported by name; `spec.path`
 * selects a subdirectory and cannot escape the artifact.
 */
import test from 'ava';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { newNamespace } from '../harness/ava.js';
import {
  condition,
  configMapsPackage,
  createKCLRun,
  delay,
  failedWith,
  getKCLRun,
  getObject,
  gitRef,
  gitSource,
  listEvents,
  readyAt,
  reconcileCount,
  setArtifact,
  setRawArtifact,
  useController,
  waitKCLRun,
} from './suite.js';

const suite = useController(test);

/** One USTAR header block. */
function tarHeader(name: string, size: number, type: '0' | '5'): Buffer {
  const h = Buffer.alloc(512);
  const octal = (off: number, len: number, v: number) => h.write(v.toString(8).padStart(len - 1, '0') + '\0', off, len, 'ascii');
  h.write(name, 0, 100, 'utf8');
  octal(100, 8, type === '5' ? 0o755 : 0o644);
  octal(108, 8, 0);
  octal(116, 8, 0);
  octal(124, 12, size);
  octal(136, 12, 0);
  h.write(type, 156, 1, 'ascii');
  h.write('ustar\x0000', 257, 8, 'binary');
  h.fill(' ', 148, 156);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 8, 'ascii');
  return h;
}

/** A raw .tar.gz with exactly these entries (names are written as given, `../` included). */
function rawTarball(files: Record<string, string>): Buffer {
  const parts: Buffer[] = [];
  for (const [name, text] of Object.entries(files)) {
    const data = Buffer.from(text);
    parts.push(tarHeader(name, data.length, '0'), data, Buffer.alloc((512 - (data.length % 512)) % 512));
  }
  parts.push(Buffer.alloc(1024));
  return gzipSync(Buffer.concat(parts));
}

let server: Server | undefined;
const blobs = new Map<string, Buffer>();
test.after.always(() => server?.close());

/** Serves `bytes` on a loopback server of this file; returns the artifact describing it (correct digest). */
async function serveRaw(bytes: Buffer, revision: string) {
  if (!server) {
    server = createServer((req, res) => {
      const blob = blobs.get(req.url ?? '');
      if (blob) res.writeHead(200, { 'Content-Type': 'application/gzip' }).end(blob);
      else res.writeHead(404).end();
    });
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', () => r()));
  }
  const path = `/raw/${randomBytes(4).toString('hex')}.tar.gz`;
  blobs.set(path, bytes);
  const addr = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${addr.port}${path}`,
    revision,
    digest: `sha256:${createHash('sha256').update(bytes).digest('hex')}`,
    size: bytes.length,
    lastUpdateTime: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    path: path.slice(1),
  };
}

test('a digest mismatch fails with ArtifactFailed and applies nothing', async (t) => {
  const { cp } = suite();
  const ns = await newNamespace(cp, 'digest');
  const good = await gitSource(cp, ns, 'repo', configMapsPackage({ tampered: { v: '1' } }), 'main@sha1:1111111111111111111111111111111111111111');
  const wrong = `sha256:${'0'.repeat(64)}`;
  await setRawArtifact(cp, ns, 'repo', { ...good, digest: wrong, revision: 'main@sha1:2222222222222222222222222222222222222222' });
  await createKCLRun(cp, ns, 'app', { sourceRef: gitRef('repo') });
  const k = await waitKCLRun(cp, ns, 'app', failedWith('ArtifactFailed'));
  const msg = condition(k, 'Ready')!.message;
  t.regex(msg, /digest mismatch/);
  t.true(msg.includes(wrong), msg);
  t.true(msg.includes(good.digest), msg);
  t.is(k.status?.lastAttemptedRevision, 'main@sha1:2222222222222222222222222222222222222222');
  t.is(k.status?.lastAppliedRevision, undefined);
  t.is(await getObject(cp, `/api/v1/namespaces/${ns}/configmaps/tampered`), undefined);
  t.is(k.status?.inventory, undefined);
});

test('a truncated tarball fails with ArtifactFailed naming the cause, and the next good revision applies', async (t) => {
  const { cp } = suite();
  const ns = await newNamespace(cp, 'truncated');
  const pkg = configMapsPackage({ whole: { v: '1' } });
  // A poorly compressible filler so the cut lands inside the compressed body.
  const filler = Array.from({ length: 200 }, (_, i) => createHash('sha256').update(String(i)).digest('hex')).join('\n');
  const full = rawTarball({ 'kcl.mod': pkg['kcl.mod']!, 'main.k': pkg['main.k']!, 'filler.txt': filler });
  const cut = 'main@sha1:4444444444444444444444444444444444444444';
  await gitSource(cp, ns, 'repo', configMapsPackage({ placeholder: { v: '0' } }));
  await setRawArtifact(cp, ns, 'repo', await serveRaw(full.subarray(0, Math.floor(full.length * 0.6)), cut));
  await createKCLRun(cp, ns, 'app', { sourceRef: gitRef('repo') });
  const k = await waitKCLRun(cp, ns, 'app', failedWith('ArtifactFailed'));
  t.regex(condition(k, 'Ready')!.message, /^cannot unpack artifact: the archive is truncated or corrupt \(gzip: .+\)$/);
  t.is(k.status?.lastAttemptedRevision, cut);
  t.is(await getObject(cp, `/api/v1/namespaces/${ns}/configmaps/whole`), undefined);
  // Positive control: the same archive, whole, applies.
  const whole = 'main@sha1:5555555555555555555555555555555555555555';
  await setRawArtifact(cp, ns, 'repo', await serveRaw(full, whole));
  await waitKCLRun(cp, ns, 'app', readyAt(whole));
  t.deepEqual((await getObject(cp, `/api/v1/namespaces/${ns}/configmaps/whole`))?.data, { v: '1' });
});

test('a tarball with paths escaping the target dir fails with ArtifactFailed naming the path and writes nothing outside', async (t) => {
  const { cp } = suite();
  const ns = await newNamespace(cp, 'escape');
  const tag = randomBytes(4).toString('hex');
  const relEvil = `../../kclrun-evil-${tag}`;
  const deepEvil = `../../../../../../../../../..${join(tmpdir(), `kclrun-evil-deep-${tag}`)}`;
  const pkg = configMapsPackage({ escaped: { v: '1' } });
  const bytes = rawTarball({ 'kcl.mod': pkg['kcl.mod']!, 'main.k': pkg['main.k']!, [relEvil]: 'pwned\n', [deepEvil]: 'pwned\n' });
  const revision = 'main@sha1:3333333333333333333333333333333333333333';
  const artifact = await serveRaw(bytes, revision);
  await gitSource(cp, ns, 'repo', configMapsPackage({ placeholder: { v: '0' } }));
  await setRawArtifact(cp, ns, 'repo', artifact);
  await createKCLRun(cp, ns, 'app', { sourceRef: gitRef('repo') });
  const k = await waitKCLRun(cp, ns, 'app', failedWith('ArtifactFailed'));
  const msg = condition(k, 'Ready')!.message;
  t.regex(msg, /escapes the target directory/);
  t.true(msg.includes(`kclrun-evil-`), msg);
  t.is(k.status?.lastAttemptedRevision, revision);
  t.is(await getObject(cp, `/api/v1/namespaces/${ns}/configmaps/escaped`), undefined);
  t.is(await getObject(cp, `/api/v1/namespaces/${ns}/configmaps/placeholder`), undefined);
  // Neither `../../x` from <tmp>/kclrun-artifact-*/content (→ <tmp>/x) nor the deep one reached the disk.
  t.false(existsSync(join(tmpdir(), `kclrun-evil-${tag}`)));
  t.false(existsSync(join(tmpdir(), `kclrun-evil-deep-${tag}`)));
});

test('a source without an artifact is requeued quietly, then Ready once the artifact appears', async (t) => {
  const { cp, controller } = suite();
  const ns = await newNamespace(cp, 'noart');
  const res = await cp.request('POST', `/apis/source.toolkit.fluxcd.io/v1/namespaces/${ns}/gitrepositories`, {
    body: { apiVersion: 'source.toolkit.fluxcd.io/v1', kind: 'GitRepository', metadata: { name: 'repo', namespace: ns }, spec: { interval: '10m', url: 'http://127.0.0.1/x.git' } },
  });
  t.true(res.ok);
  await createKCLRun(cp, ns, 'app', { sourceRef: gitRef('repo') });
  const k = await waitKCLRun(cp, ns, 'app', failedWith('ArtifactFailed'));
  t.is(condition(k, 'Ready')!.message, `Source 'GitRepository/${ns}/repo' is not ready, artifact not found`);
  t.is(condition(k, 'Stalled'), undefined);
  // Requeued every second (--requeue-dependency in tests) for a few seconds: Ready stays False (it does not flap
  // through Unknown on each retry), the status is not rewritten, and the Warning is recorded once.
  const seen = new Set<string>();
  const rv = k.metadata.resourceVersion;
  const reconciles = await reconcileCount(controller, ns, 'app');
  for (const until = Date.now() + 3500; Date.now() < until; await delay(50)) {
    const c = condition(await getKCLRun(cp, ns, 'app'), 'Ready');
    seen.add(`${c?.status}/${c?.reason}`);
  }
  // The positive control: it was requeued and reconciled meanwhile (not merely left alone by a slow controller).
  const more = (await reconcileCount(controller, ns, 'app')) - reconciles;
  t.true(more >= 2, `${more} reconciles in 3.5 s`);
  t.deepEqual([...seen], ['False/ArtifactFailed']);
  t.is((await getKCLRun(cp, ns, 'app'))?.metadata.resourceVersion, rv);
  const warnings = (await listEvents(cp, ns, 'app')).filter((e) => e.type === 'Warning');
  t.log(`${warnings.length} warning event(s) after ~4 s`);
  t.true(warnings.length >= 1 && warnings.length <= 2, JSON.stringify(warnings));
  t.true(warnings.every((e) => e.reason === 'ArtifactFailed'));

  const art = await setArtifact(cp, ns, 'repo', configMapsPackage({ later: { v: '1' } }), 'main@sha1:4444444444444444444444444444444444444444');
  await waitKCLRun(cp, ns, 'app', readyAt(art.revision), 15_000);
  t.deepEqual((await getObject(cp, `/api/v1/namespaces/${ns}/configmaps/later`))?.data, { v: '1' });
});

test('a missing source fails with ArtifactFailed naming it', async (t) => {
  const { cp } = suite();
  const ns = await newNamespace(cp, 'nosrc');
  await createKCLRun(cp, ns, 'app', { sourceRef: gitRef('absent') });
  const k = await waitKCLRun(cp, ns, 'app', failedWith('ArtifactFailed'));
  t.is(condition(k, 'Ready')!.message, `Source 'GitRepository/${ns}/absent' not found`);
  t.is(condition(k, 'Reconciling')?.reason, 'ProgressingWithRetry');
});

test('spec.path selects a subdirectory of the artifact; a path escaping it fails with BuildFailed', async (t) => {
  const { cp } = suite();
  const ns = await newNamespace(cp, 'path');
  const sub = configMapsPackage({ fromsub: { where: 'sub' } });
  const root = configMapsPackage({ fromroot: { where: 'root' } });
  const art = await gitSource(cp, ns, 'repo', {
    ...root,
    'deploy/app/kcl.mod': sub['kcl.mod']!,
    'deploy/app/main.k': sub['main.k']!,
  }, 'main@sha1:5555555555555555555555555555555555555555');
  await createKCLRun(cp, ns, 'sub', { sourceRef: gitRef('repo'), path: './deploy/app' });
  await waitKCLRun(cp, ns, 'sub', readyAt(art.revision));
  t.deepEqual((await getObject(cp, `/api/v1/namespaces/${ns}/configmaps/fromsub`))?.data, { where: 'sub' });
  t.is(await getObject(cp, `/api/v1/namespaces/${ns}/configmaps/fromroot`), undefined);

  await createKCLRun(cp, ns, 'escape', { sourceRef: gitRef('repo'), path: '../../etc' });
  const k = await waitKCLRun(cp, ns, 'escape', failedWith('BuildFailed'));
  t.is(condition(k, 'Ready')!.message, 'path "../../etc" escapes the artifact');
  t.is(k.status?.inventory, undefined);
});
