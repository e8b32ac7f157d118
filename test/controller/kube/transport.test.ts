/**
 * One round trip against a loopback server that plays a hostile API server (a tenant's kubeconfig can name any):
 * a body without end is cut at the response cap and fails the request; a body under the cap comes back whole.
 */
import test from 'ava';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { urlToHttpOptions } from 'node:url';
import { roundTrip } from '../../../controller/kube/transport.js';

let server: http.Server;
let base: URL;

test.before(async () => {
  server = http.createServer((req, res) => {
    res.writeHead(200, { 'Content-Type': 'application/json' });
    if (req.url === '/small') return void res.end(JSON.stringify({ kind: 'Status', pad: 'x'.repeat(10_000) }));
    // Endless: a chunk whenever the socket takes one, until the client goes away.
    const chunk = Buffer.alloc(64 * 1024, 'x');
    const pump = () => {
      while (!res.destroyed && res.write(chunk));
      if (!res.destroyed) res.once('drain', pump);
    };
    pump();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
});

test.after.always(() => server.close());

const get = (path: string) =>
  roundTrip({ endpoint: { server: urlToHttpOptions(base), path, pathname: path }, method: 'GET', headers: {}, timeoutMs: 20_000, maxResponseBytes: 1024 * 1024 });

test('a response body past the cap fails the request (ResponseTooLarge) instead of filling memory', async (t) => {
  const res = await get('/endless');
  t.false(res.ok);
  if (!res.ok) {
    t.is(res.reason, 'ResponseTooLarge');
    t.is(res.message, 'GET /endless: the response passed 1048576 bytes');
  }
});

test('a response under the cap comes back whole (positive control)', async (t) => {
  const res = await get('/small');
  t.true(res.ok);
  if (res.ok) t.is((JSON.parse(res.text) as { pad: string }).pad.length, 10_000);
});
