/**
 * The controller's own kubeconfig, loaded from real files and used against a real TLS server on loopback (the test
 * PKI's serving certificate, client certificates checked against its CA): CA and client certificate from files or
 * `-data`, tls-server-name, a token file that rotates, exec plugins (cached until expiry or a 401, token or client
 * certificate), the in-cluster config, an http CONNECT proxy, and the order the loader looks in. What the server saw
 * (Authorization header, client certificate CN, CONNECT line) is what is asserted.
 */
import test from 'ava';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { stringify } from 'yaml';
import { KubeClient } from '../../../controller/kube/client.js';
import {
  inClusterConfig,
  KubeconfigInvalidError,
  KubeconfigLoadError,
  loadKubeConfig,
  type KubeConfig,
} from '../../../controller/kube/kubeconfig.js';
import { createPki, issueClientCert, type ClientCert, type Pki } from '../../harness/pki.js';

const dir = mkdtempSync(join(tmpdir(), 'kclrun-kubeconfig-'));
let pki: Pki;
let alice: ClientCert;
let server: https.Server;
let serverUrl: string;
/** What the server saw, one entry per request. */
const seen: Array<{ authorization?: string; cn?: string; impersonate?: string }> = [];
/** Bearer tokens the server answers 401 to. */
const revoked = new Set<string>();

test.before(async () => {
  pki = await createPki(mkdtempSync(join(dir, 'pki-')));
  alice = await issueClientCert(pki, 'alice', ['team']);
  server = https.createServer(
    { key: readFileSync(pki.serverKey), cert: readFileSync(pki.serverCert), ca: readFileSync(pki.caCert), requestCert: true, rejectUnauthorized: false },
    (req, res) => {
      const peer = (req.socket as TLSSocket).getPeerCertificate();
      const authorization = req.headers.authorization;
      seen.push({ authorization, cn: peer?.subject?.CN === undefined ? undefined : String(peer.subject.CN), impersonate: req.headers['impersonate-user'] as string | undefined });
      res.setHeader('Content-Type', 'application/json');
      if (authorization && revoked.has(authorization.replace(/^Bearer /, ''))) {
        res.statusCode = 401;
        res.end(JSON.stringify({ kind: 'Status', status: 'Failure', reason: 'Unauthorized', message: 'Unauthorized', code: 401 }));
      } else res.end(JSON.stringify({ major: '1', minor: '33' }));
    },
  );
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  serverUrl = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

test.after.always(async () => {
  server?.closeAllConnections();
  await new Promise((r) => server?.close(r));
  rmSync(dir, { recursive: true, force: true });
});

const b64 = (s: string | Buffer) => Buffer.from(s).toString('base64');

/** Writes a one-context kubeconfig into a fresh directory (so relative paths resolve there); returns its path. */
function writeConfig(user: Record<string, unknown>, cluster: Record<string, unknown> = {}, files: Record<string, string> = {}): string {
  const d = mkdtempSync(join(dir, 'cfg-'));
  for (const [name, content] of Object.entries(files)) writeFileSync(join(d, name), content, { mode: 0o700 });
  const path = join(d, 'config');
  writeFileSync(
    path,
    stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'c', cluster: { server: serverUrl, 'certificate-authority-data': b64(readFileSync(pki.caCert)), ...cluster } }],
      users: [{ name: 'u', user }],
      contexts: [{ name: 'ctx', context: { cluster: 'c', user: 'u', namespace: 'apps' } }],
      'current-context': 'ctx',
    }),
  );
  return path;
}

/** GET /version with a fresh client of `kc`; the result and what the server saw. */
async function get(client: KubeClient): Promise<{ ok: boolean; status: number; message?: string; saw?: (typeof seen)[number] }> {
  const before = seen.length;
  const res = await client.request('GET', '/version');
  return { ok: res.ok, status: res.status, ...(!res.ok ? { message: res.message } : {}), saw: seen.length > before ? seen[seen.length - 1] : undefined };
}

const client = (kc: KubeConfig) => new KubeClient({ kubeConfig: kc, timeoutMs: 10_000 });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test.serial('a CA file (relative to the kubeconfig) and client certificate data: the server sees the certificate; without the CA the server is not trusted', async (t) => {
  const user = { 'client-certificate-data': b64(alice.cert), 'client-key-data': b64(alice.key) };
  const withCaFile = loadKubeConfig(writeConfig(user, { 'certificate-authority-data': null, 'certificate-authority': 'ca.crt' }, { 'ca.crt': readFileSync(pki.caCert, 'utf8') }));
  t.is(withCaFile.namespace, 'apps');
  const ok = await get(client(withCaFile));
  t.true(ok.ok, ok.message);
  t.is(ok.saw?.cn, 'alice');
  t.is(ok.saw?.authorization, undefined);
  const noCa = await get(client(loadKubeConfig(writeConfig(user, { 'certificate-authority-data': null }))));
  t.false(noCa.ok);
  t.is(noCa.saw, undefined, 'nothing reached the server without the CA');
});

test.serial('client certificate and key files, basic auth, `as`; tls-server-name is what the certificate is checked against', async (t) => {
  const files = { 'alice.crt': alice.cert, 'alice.key': alice.key };
  const user = { 'client-certificate': 'alice.crt', 'client-key': join('.', 'alice.key'), username: 'bob', password: 'pw', as: 'carol' };
  const ok = await get(client(loadKubeConfig(writeConfig(user, { 'tls-server-name': 'localhost' }, files))));
  t.true(ok.ok, ok.message);
  t.deepEqual(ok.saw, { cn: 'alice', authorization: `Basic ${b64('bob:pw')}`, impersonate: 'carol' });
  const wrongName = await get(client(loadKubeConfig(writeConfig(user, { 'tls-server-name': 'other.example' }, files))));
  t.false(wrongName.ok);
  t.regex(wrongName.message ?? '', /other\.example/);
});

test.serial('a token file is read when used, and read again after the server answers 401 (it rotates)', async (t) => {
  const path = writeConfig({ tokenFile: 'token', token: 'static-token-loses' }, {}, { token: 'token-one\n' });
  const c = client(loadKubeConfig(path));
  t.is((await get(c)).saw?.authorization, 'Bearer token-one', 'the file wins over a static token, trimmed');
  writeFileSync(join(path, '..', 'token'), 'token-two');
  revoked.add('token-one');
  const rejected = await get(c);
  t.is(rejected.status, 401, 'the old token is still in use until the server refuses it');
  const after = await get(c);
  t.true(after.ok, after.message);
  t.is(after.saw?.authorization, 'Bearer token-two');
});

/** A node script that counts its runs, records KUBERNETES_EXEC_INFO and prints the ExecCredential status in $STATUS. */
function plugin(): { files: Record<string, string>; runs: (cfg: string) => number; info: (cfg: string) => Record<string, unknown> } {
  const script = `#!${process.execPath}
const fs = require('node:fs');
const path = require('node:path');
const here = path.dirname(process.argv[1]);
fs.appendFileSync(path.join(here, 'runs'), 'x');
const n = fs.readFileSync(path.join(here, 'runs'), 'utf8').length;
fs.writeFileSync(path.join(here, 'info.json'), process.env.KUBERNETES_EXEC_INFO || '');
if (process.env.FAIL) { process.stderr.write('plugin says no'); process.exit(3); }
const status = JSON.parse(process.env.STATUS.replaceAll('{n}', String(n)));
console.log(JSON.stringify({ apiVersion: JSON.parse(process.env.KUBERNETES_EXEC_INFO).apiVersion, kind: 'ExecCredential', status }));
`;
  const at = (cfg: string, f: string) => join(cfg, '..', f);
  return {
    files: { 'plugin.cjs': script },
    runs: (cfg) => {
      try {
        return readFileSync(at(cfg, 'runs'), 'utf8').length;
      } catch {
        return 0;
      }
    },
    info: (cfg) => JSON.parse(readFileSync(at(cfg, 'info.json'), 'utf8')) as Record<string, unknown>,
  };
}

function execUser(status: Record<string, unknown>, extra: Record<string, unknown> = {}, apiVersion = 'client.authentication.k8s.io/v1'): Record<string, unknown> {
  return {
    exec: { apiVersion, command: './plugin.cjs', args: [], env: [{ name: 'STATUS', value: JSON.stringify(status) }], interactiveMode: 'Never', ...extra },
  };
}

test.serial('an exec plugin (relative command) is run once and its token reused until expirationTimestamp; an expired one runs again', async (t) => {
  const p = plugin();
  const future = loadKubeConfigWith(execUser({ token: 'exec-{n}', expirationTimestamp: new Date(Date.now() + 3600_000).toISOString() }, { provideClusterInfo: true }), p.files);
  const c = client(future.kc);
  t.is((await get(c)).saw?.authorization, 'Bearer exec-1');
  await sleep(1100); // past the resolved-connection reuse (1 s): the credential cache is what answers now
  t.is((await get(c)).saw?.authorization, 'Bearer exec-1');
  t.is(p.runs(future.path), 1);
  const info = p.info(future.path);
  t.like(info, { apiVersion: 'client.authentication.k8s.io/v1', kind: 'ExecCredential', spec: { interactive: false, cluster: { server: serverUrl } } });
  // Positive control: a credential that has expired is fetched again.
  const past = loadKubeConfigWith(execUser({ token: 'old-{n}', expirationTimestamp: new Date(Date.now() - 1000).toISOString() }, {}, 'client.authentication.k8s.io/v1beta1'), p.files);
  const c2 = client(past.kc);
  t.is((await get(c2)).saw?.authorization, 'Bearer old-1');
  await sleep(1100);
  t.is((await get(c2)).saw?.authorization, 'Bearer old-2');
  t.is(p.runs(past.path), 2);
  t.false('cluster' in ((p.info(past.path).spec ?? {}) as object), 'no cluster info unless provideClusterInfo');
});

test.serial('an exec credential without expiry is kept until a 401; a client certificate from the plugin is presented', async (t) => {
  const p = plugin();
  const tok = loadKubeConfigWith(execUser({ token: 'forever-{n}' }), p.files);
  const c = client(tok.kc);
  t.is((await get(c)).saw?.authorization, 'Bearer forever-1');
  revoked.add('forever-1');
  t.is((await get(c)).status, 401);
  t.is((await get(c)).saw?.authorization, 'Bearer forever-2');
  t.is(p.runs(tok.path), 2);
  const cert = loadKubeConfigWith(execUser({ clientCertificateData: alice.cert, clientKeyData: alice.key }), p.files);
  const res = await get(client(cert.kc));
  t.true(res.ok, res.message);
  t.is(res.saw?.cn, 'alice');
});

test.serial('exec plugin failures are ConfigError results naming the plugin: exit status, interactiveMode Always, a wrong apiVersion', async (t) => {
  const p = plugin();
  const failing = await get(client(loadKubeConfigWith(execUser({ token: 't' }, { env: [{ name: 'FAIL', value: '1' }] }), p.files).kc));
  t.is(failing.status, 0);
  t.regex(failing.message ?? '', /exec plugin '.*plugin\.cjs': exited with 3: plugin says no/);
  const always = await get(client(loadKubeConfigWith(execUser({ token: 't' }, { interactiveMode: 'Always' }), p.files).kc));
  t.regex(always.message ?? '', /interactiveMode is Always/);
  t.throws(() => loadKubeConfigWith(execUser({ token: 't' }, {}, 'client.authentication.k8s.io/v1alpha1'), p.files), { instanceOf: KubeconfigInvalidError, message: /apiVersion/ });
});

function loadKubeConfigWith(user: Record<string, unknown>, files: Record<string, string>): { kc: KubeConfig; path: string } {
  const path = writeConfig(user, {}, files);
  return { kc: loadKubeConfig(path), path };
}

test.serial('in-cluster: KUBERNETES_SERVICE_HOST/PORT, the mounted CA, token (re-read after a 401) and namespace', async (t) => {
  const sa = mkdtempSync(join(dir, 'sa-'));
  writeFileSync(join(sa, 'token'), 'sa-token-1');
  writeFileSync(join(sa, 'ca.crt'), readFileSync(pki.caCert));
  writeFileSync(join(sa, 'namespace'), 'flux-system');
  const port = String((server.address() as AddressInfo).port);
  const kc = inClusterConfig({ KUBERNETES_SERVICE_HOST: '127.0.0.1', KUBERNETES_SERVICE_PORT: port }, sa);
  t.is(kc?.namespace, 'flux-system');
  const c = client(kc!);
  t.is((await get(c)).saw?.authorization, 'Bearer sa-token-1');
  writeFileSync(join(sa, 'token'), 'sa-token-2');
  revoked.add('sa-token-1');
  t.is((await get(c)).status, 401);
  t.is((await get(c)).saw?.authorization, 'Bearer sa-token-2');
  t.is(inClusterConfig({ KUBERNETES_SERVICE_HOST: 'fd00::1', KUBERNETES_SERVICE_PORT: '443' }, sa)?.cluster.server, 'https://[fd00::1]:443');
  t.is(inClusterConfig({}, sa), undefined, 'not in a pod');
  t.is(inClusterConfig({ KUBERNETES_SERVICE_HOST: '127.0.0.1', KUBERNETES_SERVICE_PORT: port }, join(sa, 'missing')), undefined, 'no token mounted');
});

test.serial('proxy-url: requests go through an http CONNECT proxy', async (t) => {
  const connects: string[] = [];
  const proxy = http.createServer((_req, res) => res.writeHead(405).end());
  proxy.on('connect', (req: http.IncomingMessage, client: Socket) => {
    connects.push(`${req.url} ${req.headers['proxy-authorization'] ?? ''}`);
    const [host, port] = [req.url!.slice(0, req.url!.lastIndexOf(':')), Number(req.url!.slice(req.url!.lastIndexOf(':') + 1))];
    const upstream = connect(port, host, () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      upstream.pipe(client).pipe(upstream);
    });
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
  });
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
  t.teardown(() => {
    proxy.closeAllConnections();
    proxy.close();
  });
  const proxyUrl = `http://pu:pp@127.0.0.1:${(proxy.address() as AddressInfo).port}`;
  const c = client(loadKubeConfig(writeConfig({ token: 'via-proxy' }, { 'proxy-url': proxyUrl })));
  const res = await get(c);
  t.true(res.ok, res.message);
  t.is(res.saw?.authorization, 'Bearer via-proxy');
  t.deepEqual(connects, [`${new URL(serverUrl).host} Basic ${b64('pu:pp')}`]);
  c.close();
  const socks = await get(client(loadKubeConfig(writeConfig({ token: 'x' }, { 'proxy-url': 'socks5://127.0.0.1:1080' }))));
  t.regex(socks.message ?? '', /proxy-url scheme socks5: is not supported/);
});

test.serial('the loader: --kubeconfig, else the first KUBECONFIG file, else ~/.kube/config; auth-provider is refused', (t) => {
  const a = writeConfig({ token: 'a' });
  const b = writeConfig({ token: 'b' });
  t.is(loadKubeConfig(a, { KUBECONFIG: b }).user.token, 'a');
  t.is(loadKubeConfig(undefined, { KUBECONFIG: `:${b}:${a}` }).user.token, 'b');
  const home = mkdtempSync(join(dir, 'home-'));
  mkdirSync(join(home, '.kube'));
  writeFileSync(join(home, '.kube', 'config'), readFileSync(a));
  t.is(loadKubeConfig(undefined, { HOME: home }).user.token, 'a');
  t.throws(() => loadKubeConfig(undefined, { HOME: join(dir, 'nohome') }), { instanceOf: KubeconfigLoadError, message: /no kubeconfig/ });
  t.throws(() => loadKubeConfig(join(dir, 'missing')), { instanceOf: KubeconfigLoadError, message: /cannot read .*missing: ENOENT/ });
  t.throws(() => loadKubeConfig(writeConfig({ 'auth-provider': { name: 'oidc', config: {} } })), { instanceOf: KubeconfigInvalidError, message: /auth-provider, which is not supported/ });
});
