/**
 * Remote kubeconfigs are tenant input: `exec` and `auth-provider` are refused unless --insecure-kubeconfig-exec,
 * insecure TLS (and plain http) unless --insecure-kubeconfig-tls, and every file-reading field always; the refusal
 * names the field and the flag. The exec case has its positive control: with the flag, the same kubeconfig does run
 * the command (so the "marker never appears" assertion can fail). Flux's configMapRef data is parsed the same way.
 */
import test from 'ava';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import {
  INSECURE_EXEC_FLAG,
  INSECURE_TLS_FLAG,
  KubeconfigInvalidError,
  KubeconfigRefusedError,
  loadRemoteKubeconfig,
} from '../../controller/kube/remote-config.js';
import { parseProviderConfig, providerKubeConfig } from '../../controller/kube/provider-config.js';
import { ConnectionResolver } from '../../controller/kube/auth.js';

const dir = mkdtempSync(join(tmpdir(), 'kclrun-remote-kubeconfig-'));
test.after.always(() => rmSync(dir, { recursive: true, force: true }));

const b64 = (s: string) => Buffer.from(s).toString('base64');

/** A one-context kubeconfig; `user` and `cluster` are merged over a valid token user and https cluster. */
function kubeconfig(user: Record<string, unknown> = {}, cluster: Record<string, unknown> = {}): string {
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'remote', cluster: { server: 'https://remote.example:6443', 'certificate-authority-data': b64('CA'), ...cluster } }],
    users: [{ name: 'deployer', user: { token: 'T0KEN', ...user } }],
    contexts: [{ name: 'ctx', context: { cluster: 'remote', user: 'deployer', namespace: 'apps' } }],
    'current-context': 'ctx',
  });
}

function refusal(t: import('ava').ExecutionContext, fn: () => unknown): KubeconfigRefusedError {
  const err = t.throws(fn, { instanceOf: KubeconfigRefusedError });
  return err as KubeconfigRefusedError;
}

test('a kubeconfig with client certificate data and a token loads; unknown fields are dropped', (t) => {
  const kc = loadRemoteKubeconfig(kubeconfig({ 'client-certificate-data': b64('CERT'), 'client-key-data': b64('KEY'), 'x-unknown': 'y' }));
  t.is(kc.cluster.server, 'https://remote.example:6443');
  t.is(kc.cluster.caData, b64('CA'));
  t.false(kc.cluster.insecureSkipTlsVerify);
  t.is(kc.namespace, 'apps');
  const user = kc.user;
  t.is(user?.token, 'T0KEN');
  t.is(user?.certData, b64('CERT'));
  t.is(user?.keyData, b64('KEY'));
  t.deepEqual(Object.keys(user ?? {}).filter((k) => (user as unknown as Record<string, unknown>)[k] !== undefined).sort(), ['certData', 'keyData', 'name', 'token']);
});

test('an exec plugin is refused, names exec and the flag, and never runs; with the flag it does run (positive control)', async (t) => {
  const marker = join(dir, 'exec-marker');
  const exec = { apiVersion: 'client.authentication.k8s.io/v1beta1', command: 'sh', args: ['-c', `touch ${marker}; echo '{"apiVersion":"client.authentication.k8s.io/v1beta1","kind":"ExecCredential","status":{"token":"x"}}'`] };
  const text = kubeconfig({ exec });
  const err = refusal(t, () => loadRemoteKubeconfig(text));
  t.is(err.field, 'exec');
  t.is(err.flag, INSECURE_EXEC_FLAG);
  t.regex(err.message, /kubeconfig user 'deployer' uses exec, .*--insecure-kubeconfig-exec/);
  t.false(existsSync(marker));
  // The same kubeconfig, allowed by the operator: the client runs the command when it builds a request.
  const kc = loadRemoteKubeconfig(text, { allowExec: true });
  const conn = await new ConnectionResolver(kc).resolve();
  t.true(existsSync(marker), 'the exec plugin ran when allowed, so the refusal above is what kept it from running');
  t.is(conn.headers['Authorization'], 'Bearer x');
});

test('auth-provider (cmd-path) is refused unless --insecure-kubeconfig-exec, and unsupported with it', (t) => {
  const text = kubeconfig({ 'auth-provider': { name: 'gcp', config: { 'cmd-path': '/bin/sh', 'cmd-args': '-c id' } } });
  const err = refusal(t, () => loadRemoteKubeconfig(text));
  t.is(err.field, 'auth-provider');
  t.regex(err.message, /--insecure-kubeconfig-exec/);
  t.throws(() => loadRemoteKubeconfig(text, { allowExec: true }), { instanceOf: KubeconfigInvalidError, message: /auth-provider, which is not supported .*use an exec plugin/ });
});

const fileFields: Array<[string, () => string]> = [
  ['token-file', () => kubeconfig({ 'token-file': '/var/run/secrets/kubernetes.io/serviceaccount/token' })],
  ['tokenFile', () => kubeconfig({ tokenFile: '/var/run/secrets/kubernetes.io/serviceaccount/token' })],
  ['client-certificate', () => kubeconfig({ 'client-certificate': '/etc/kubernetes/pki/admin.crt' })],
  ['client-key', () => kubeconfig({ 'client-key': '/etc/kubernetes/pki/admin.key' })],
  ['auth-provider tokenFile', () => kubeconfig({ 'auth-provider': { name: 'file', config: { tokenFile: '/etc/passwd' } } })],
  ['certificate-authority', () => kubeconfig({}, { 'certificate-authority': '/etc/kubernetes/pki/ca.crt' })],
];
for (const [field, text] of fileFields) {
  test(`${field} (a controller file path) is refused even with both insecure flags`, (t) => {
    const err = refusal(t, () => loadRemoteKubeconfig(text(), { allowExec: true, allowInsecureTls: true }));
    t.is(err.field, field);
    t.is(err.flag, undefined);
    t.regex(err.message, /reads a file of the controller's file system: refused \(use the -data form/);
  });
}

test('token-file is refused before anything reads it', (t) => {
  const secret = join(dir, 'controller-token');
  writeFileSync(secret, 'CONTROLLER-SECRET');
  const err = refusal(t, () => loadRemoteKubeconfig(kubeconfig({ token: undefined, 'token-file': secret })));
  t.false(err.message.includes('CONTROLLER-SECRET'));
});

test('insecure-skip-tls-verify is refused unless --insecure-kubeconfig-tls', (t) => {
  const text = kubeconfig({}, { 'insecure-skip-tls-verify': true });
  const err = refusal(t, () => loadRemoteKubeconfig(text, { allowExec: true }));
  t.is(err.field, 'insecure-skip-tls-verify');
  t.is(err.flag, INSECURE_TLS_FLAG);
  t.regex(err.message, /kubeconfig cluster 'remote' uses insecure-skip-tls-verify, .*--insecure-kubeconfig-tls/);
  t.true(loadRemoteKubeconfig(text, { allowInsecureTls: true }).cluster.insecureSkipTlsVerify);
});

test('a plain-http server is refused unless --insecure-kubeconfig-tls', (t) => {
  const text = kubeconfig({}, { server: 'http://remote.example:8080' });
  t.is(refusal(t, () => loadRemoteKubeconfig(text)).flag, INSECURE_TLS_FLAG);
  t.is(loadRemoteKubeconfig(text, { allowInsecureTls: true }).cluster.server, 'http://remote.example:8080');
  // Spellings that URL parsing turns into the same plain-http server are refused too.
  for (const server of [' http://remote.example:8080', '\thttp://remote.example', 'HTTP://remote.example']) {
    t.is(refusal(t, () => loadRemoteKubeconfig(kubeconfig({}, { server }))).flag, INSECURE_TLS_FLAG, JSON.stringify(server));
  }
});

test('every user is checked, not only the current one', (t) => {
  const doc = { clusters: [{ name: 'c', cluster: { server: 'https://x' } }], users: [{ name: 'ok', user: { token: 't' } }, { name: 'evil', user: { exec: { command: 'sh' } } }], contexts: [{ name: 'x', context: { cluster: 'c', user: 'ok' } }], 'current-context': 'x' };
  t.regex(refusal(t, () => loadRemoteKubeconfig(stringify(doc))).message, /user 'evil' uses exec/);
});

test('malformed kubeconfigs are invalid, and the error never quotes the text', (t) => {
  for (const text of ['token: s3cr3t-value: : [', '- just a list', stringify({ users: [], clusters: [], contexts: [], 'current-context': 'nope' })]) {
    const err = t.throws(() => loadRemoteKubeconfig(text), { instanceOf: KubeconfigInvalidError });
    t.false(err?.message.includes('s3cr3t'));
  }
});

test('a kubeconfig whose token is a YAML alias bomb is invalid at once (the budget of krm/yaml-limits.ts)', (t) => {
  const levels = ['  a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]'];
  for (const [p, c] of [...'abcdefgh'].map((p, i) => [p, 'bcdefghi'[i]!])) levels.push(`  ${c}: &${c} [${Array(9).fill(`*${p}`).join(', ')}]`);
  const text = `bomb:\n${levels.join('\n')}\n${kubeconfig().replace('T0KEN', '*i')}`;
  const err = t.throws(() => loadRemoteKubeconfig(text), { instanceOf: KubeconfigInvalidError });
  t.regex(err?.message ?? '', /^document contains excessive aliasing/);
});

test('configMapRef (generic provider): parsed into address, CA, ServiceAccount and audiences; the KubeConfig carries only the token', (t) => {
  const cfg = parseProviderConfig({ provider: 'generic', address: 'https://remote.example:6443/', 'ca.crt': 'PEM', serviceAccountName: 'deployer', audiences: 'a, b\nc' });
  t.deepEqual(cfg, { provider: 'generic', address: 'https://remote.example:6443', caCert: 'PEM', serviceAccountName: 'deployer', audiences: ['a', 'b', 'c'] });
  const kc = providerKubeConfig(cfg, 'TOKEN');
  t.is(kc.cluster.server, 'https://remote.example:6443');
  t.is(kc.cluster.caData, b64('PEM'));
  t.deepEqual({ ...kc.user }, { name: 'deployer', token: 'TOKEN' });
});

test('configMapRef: cloud providers, a missing key and plain http are refused with the reason', (t) => {
  const base = { provider: 'generic', address: 'https://remote.example', serviceAccountName: 'sa' };
  t.throws(() => parseProviderConfig({ ...base, provider: 'aws' }), { instanceOf: KubeconfigInvalidError, message: "provider 'aws' is not supported by this controller (supported: generic)" });
  t.throws(() => parseProviderConfig({ ...base, serviceAccountName: '' }), { instanceOf: KubeconfigInvalidError, message: /no 'serviceAccountName' key/ });
  t.throws(() => parseProviderConfig({ ...base, address: 'http://remote.example' }), { instanceOf: KubeconfigRefusedError, message: /--insecure-kubeconfig-tls/ });
  t.is(parseProviderConfig({ ...base, address: 'http://remote.example' }, { allowInsecureTls: true }).address, 'http://remote.example');
});
