/**
 * Source-controller gone: the artifact URL refuses connections, answers 404, or hangs. The KCLRun goes
 * Ready=False ArtifactFailed with the cause, nothing is applied or pruned, and it recovers on its own (no
 * controller restart, no spec change) when the URL serves the artifact again.
 */
import test from 'ava';
import { createServer, type Server } from 'node:http';
import type { Socket } from 'node:net';
import { newNamespace } from '../harness/ava.js';
import { serveArtifact } from '../harness/artifact-server.js';
import { freePort } from '../harness/processes.js';
import {
  condition, configMapsPackage, createKCLRun, delay, failedWith, gitRef, gitSource, readyAt, setRawArtifact, useController, waitKCLRun,
} from './suite.js';
import { assertExact, maps } from './faults.js';

const suite = useController(test, { httpTimeoutMs: 1500 });
let revs = 0;
const rev = () => `main@sha1:${(++revs).toString(16).padStart(40, 'c')}`;

type Mode = 'refuse' | 'not-found' | 'hang' | 'ok';

/** A stand-in for source-controller's artifact endpoint at a fixed port: serves `blob`, or fails as `mode` says. */
async function standIn(blob: Buffer, mode: Mode) {
  const port = await freePort();
  const sockets = new Set<Socket>();
  let server: Server | undefined;
  const listen = () =>
    new Promise<void>((resolve, reject) => {
      server = createServer((req, res) => {
        if (mode === 'hang') return; // accept, read, never answer
        if (mode === 'not-found') return void res.writeHead(404).end('not found\n');
        res.writeHead(200, { 'Content-Type': 'application/gzip', 'Content-Length': blob.length }).end(blob);
      });
      server.on('connection', (s) => sockets.add(s.on('close', () => sockets.delete(s))));
      server.once('error', reject).listen(port, '127.0.0.1', () => resolve());
    });
  if (mode !== 'refuse') await listen();
  return {
    url: (path: string) => `http://127.0.0.1:${port}/${path}`,
    async recover() {
      mode = 'ok';
      if (!server) await listen();
      for (const s of sockets) s.destroy(); // hung requests
    },
    close: () => new Promise<void>((r) => (server ? (sockets.forEach((s) => s.destroy()), server.close(() => r())) : r())),
  };
}

const causes: Record<Exclude<Mode, 'ok'>, RegExp> = {
  refuse: /ECONNREFUSED/,
  'not-found': /artifact not found at http:\/\/127\.0\.0\.1:\d+\//,
  hang: /no complete response within 1500ms/,
};

for (const mode of ['refuse', 'not-found', 'hang'] as const) {
  test(`artifact URL ${mode}: ArtifactFailed with the cause, nothing applied or pruned, recovery without a restart`, async (t) => {
    const { cp } = suite();
    const ns = await newNamespace(cp, `src-${mode}`);
    const r1 = await gitSource(cp, ns, 'repo', configMapsPackage(maps(['a', 'b'], '1')), rev());
    await createKCLRun(cp, ns, 'app', { sourceRef: gitRef('repo'), interval: '10m', retryInterval: '1s' });
    await waitKCLRun(cp, ns, 'app', readyAt(r1.revision));

    const good = await serveArtifact(configMapsPackage(maps(['a', 'c'], '2')), { namespace: ns, name: 'repo', revision: rev() });
    const blob = Buffer.from(await (await fetch(good.url)).arrayBuffer());
    const source = await standIn(blob, mode);
    t.teardown(source.close);
    await setRawArtifact(cp, ns, 'repo', { ...good, url: source.url(good.path) });

    const k = await waitKCLRun(cp, ns, 'app', failedWith('ArtifactFailed'));
    t.regex(condition(k, 'Ready')!.message, causes[mode]);
    await delay(1500); // more failed attempts (retryInterval 1s) …
    await assertExact(t, cp, ns, 'app', ['a', 'b'], '1'); // … still nothing applied or pruned
    t.is((await waitKCLRun(cp, ns, 'app', () => true)).status?.lastAppliedRevision, r1.revision);

    const back = Date.now();
    await source.recover();
    await waitKCLRun(cp, ns, 'app', readyAt(good.revision));
    t.log(`recovered ${Date.now() - back} ms after the artifact URL came back`);
    await assertExact(t, cp, ns, 'app', ['a', 'c'], '2');
  });
}
