/**
 * The fetch stage against a loopback HTTP server of this test's own: digest parsing (bare hex = sha256, sha384,
 * sha512, unsupported algorithms), verification, retries on 5xx then success, 404 → notFound (no retries), the size
 * cap, safe untar (`../` and absolute paths rejected, symlinks and hard links skipped) and the temp dir removed by
 * cleanup and on every failure. Digests: sha256 (also bare hex), sha384, sha512 and blake3, as source-controller.
 * Hostile archives: a real tar.gz truncated at many offsets (each an ArtifactFailed-style outcome naming the cause,
 * never a rejection, and nothing left in the temp root), the entry-count cap, and the per-attempt timeout against a
 * server that hangs before or in the middle of the body.
 */
import test from 'ava';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { blake3 } from '@noble/hashes/blake3.js';
import { c as createTar } from 'tar';
import { fetchArtifact, parseDigest, type Artifact } from '../../controller/stages/fetch.js';

// ---- a minimal USTAR writer that can express hostile entries -------------------------------------------------

interface Entry {
  name: string;
  type?: '0' | '1' | '2' | '5';
  body?: string;
  linkname?: string;
}

function header(e: Entry, size: number): Buffer {
  const h = Buffer.alloc(512);
  const octal = (off: number, len: number, v: number) => h.write(v.toString(8).padStart(len - 1, '0') + '\0', off, len, 'ascii');
  h.write(e.name, 0, 100, 'utf8');
  octal(100, 8, e.type === '5' ? 0o755 : 0o644);
  octal(108, 8, 0);
  octal(116, 8, 0);
  octal(124, 12, size);
  octal(136, 12, 0);
  h.write(e.type ?? '0', 156, 1, 'ascii');
  if (e.linkname) h.write(e.linkname, 157, 100, 'utf8');
  h.write('ustar\0', 257, 6, 'ascii');
  h.write('00', 263, 2, 'ascii');
  h.fill(' ', 148, 156);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 8, 'ascii');
  return h;
}

function tarGz(entries: Entry[]): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    const body = Buffer.from(e.body ?? '');
    const size = e.type === '0' || e.type === undefined ? body.length : 0;
    parts.push(header(e, size));
    if (size) parts.push(body, Buffer.alloc((512 - (size % 512)) % 512));
  }
  parts.push(Buffer.alloc(1024));
  return gzipSync(Buffer.concat(parts));
}

const hex = (algo: string, b: Buffer) => (algo === 'blake3' ? Buffer.from(blake3(b)).toString('hex') : createHash(algo).update(b).digest('hex'));

// ---- a loopback server with scripted responses ---------------------------------------------------------------

type Script = Array<{ status: number; body?: Buffer } | 'destroy' | 'hang' | 'stall'>;
const scripts = new Map<string, Script>();
const hits = new Map<string, number>();
let server: Server;
let base = '';

test.before(async () => {
  server = createServer((req, res) => {
    const path = req.url ?? '/';
    const n = hits.get(path) ?? 0;
    hits.set(path, n + 1);
    const script = scripts.get(path);
    const step = script?.[Math.min(n, script.length - 1)] ?? { status: 404 };
    if (step === 'destroy') return void req.socket.destroy();
    if (step === 'hang') return; // never answers
    if (step === 'stall') {
      // Headers and half a body, then nothing.
      res.writeHead(200, { 'content-type': 'application/gzip', 'content-length': String(GOOD.length) });
      return void res.write(GOOD.subarray(0, GOOD.length >> 1));
    }
    res.writeHead(step.status, { 'content-type': 'application/gzip' });
    res.end(step.body ?? '');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const a = server.address();
  base = `http://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}`;
});
test.after.always(() => {
  server?.closeAllConnections();
  server?.close();
});

let seq = 0;
function serve(script: Script): string {
  const path = `/artifact-${++seq}.tar.gz`;
  scripts.set(path, script);
  return path;
}
const artifact = (path: string, digest?: string): Artifact => ({ url: `${base}${path}`, revision: 'main@sha1:0', digest });
// A temp root of this file's own, so other test files fetching at the same time cannot look like leftovers.
const TEMP_ROOT = mkdtempSync(join(tmpdir(), 'kclrun-fetch-test-'));
test.after.always(() => rmSync(TEMP_ROOT, { recursive: true, force: true }));
const FAST = { retries: 3, retryDelayMs: 10, tempRoot: TEMP_ROOT };

const tempDirs = () => new Set(readdirSync(TEMP_ROOT).filter((n) => n.startsWith('kclrun-artifact-')));
/** Runs `fn` and asserts it left no new kclrun-artifact-* temp dir behind. */
async function noLeftovers<T>(t: { deepEqual(a: unknown, b: unknown, m?: string): void }, fn: () => Promise<T>): Promise<T> {
  const before = tempDirs();
  const out = await fn();
  const after = [...tempDirs()].filter((d) => !before.has(d));
  t.deepEqual(after, [], 'temp dir removed');
  return out;
}

const GOOD = tarGz([
  { name: './', type: '5' },
  { name: 'kcl.mod', body: '[package]\nname = "x"\n' },
  { name: 'sub/', type: '5' },
  { name: 'sub/main.k', body: 'a = 1\n' },
]);

// ---- digest parsing --------------------------------------------------------------------------------------------

const digests: Array<[string, ReturnType<typeof parseDigest>]> = [
  ['ABCdef0123', { algorithm: 'sha256', hex: 'abcdef0123' }],
  ['sha256:abc', { algorithm: 'sha256', hex: 'abc' }],
  ['sha384:ABC', { algorithm: 'sha384', hex: 'abc' }],
  ['sha512:0f', { algorithm: 'sha512', hex: '0f' }],
  ['blake3:ABC', { algorithm: 'blake3', hex: 'abc' }],
  ['md5:abc', 'unsupported digest algorithm "md5" (supported: sha256, sha384, sha512, blake3)'],
  ['sha1:abc', 'unsupported digest algorithm "sha1" (supported: sha256, sha384, sha512, blake3)'],
  ['sha256:xyz', 'malformed digest "sha256:xyz"'],
  ['sha256:', 'malformed digest "sha256:"'],
];
for (const [input, expected] of digests) {
  test.serial(`parseDigest(${JSON.stringify(input)})`, (t) => {
    t.deepEqual(parseDigest(input), expected);
  });
}

// ---- downloads -------------------------------------------------------------------------------------------------

for (const algo of ['sha256', 'sha384', 'sha512', 'blake3'] as const) {
  test.serial(`downloads, verifies a ${algo} digest and unpacks; cleanup removes the temp dir`, async (t) => {
    const path = serve([{ status: 200, body: GOOD }]);
    const out = await fetchArtifact(artifact(path, `${algo}:${hex(algo, GOOD)}`), FAST);
    if (!out.ok) return t.fail(out.message);
    t.is(readFileSync(join(out.dir, 'sub/main.k'), 'utf8'), 'a = 1\n');
    t.true(existsSync(join(out.dir, 'kcl.mod')));
    t.true(out.dir.startsWith(TEMP_ROOT));
    await out.cleanup();
    t.false(existsSync(out.dir));
    t.false(existsSync(join(out.dir, '..')), 'the whole temp root is removed');
  });
}

test.serial('a bare hex digest is sha256', async (t) => {
  const path = serve([{ status: 200, body: GOOD }]);
  const out = await fetchArtifact(artifact(path, hex('sha256', GOOD)), FAST);
  t.true(out.ok);
  if (out.ok) await out.cleanup();
});

test.serial('a digest mismatch fails, names both digests, and leaves no temp dir', async (t) => {
  const path = serve([{ status: 200, body: GOOD }]);
  const wrong = 'sha256:' + '0'.repeat(64);
  const out = await noLeftovers(t, () => fetchArtifact(artifact(path, wrong), FAST));
  t.false(out.ok);
  if (!out.ok) {
    t.false(out.notFound);
    t.is(out.message, `artifact digest mismatch: expected ${wrong}, got sha256:${hex('sha256', GOOD)}`);
  }
});

test.serial('an unsupported digest algorithm fails before downloading', async (t) => {
  const path = serve([{ status: 200, body: GOOD }]);
  const out = await noLeftovers(t, () => fetchArtifact(artifact(path, 'md5:abcdef'), FAST));
  t.deepEqual(out, { ok: false, notFound: false, message: 'unsupported digest algorithm "md5" (supported: sha256, sha384, sha512, blake3)' });
  t.is(hits.get(path), undefined);
});

test.serial('5xx responses and dropped connections are retried until success', async (t) => {
  const path = serve([{ status: 503 }, 'destroy', { status: 500 }, { status: 200, body: GOOD }]);
  const out = await fetchArtifact(artifact(path, `sha256:${hex('sha256', GOOD)}`), FAST);
  t.true(out.ok, out.ok ? '' : out.message);
  t.is(hits.get(path), 4);
  if (out.ok) await out.cleanup();
});

test.serial('retries run out with the last error and the retry count', async (t) => {
  const path = serve([{ status: 502 }]);
  const out = await noLeftovers(t, () => fetchArtifact(artifact(path), { retries: 2, retryDelayMs: 5, tempRoot: TEMP_ROOT }));
  t.false(out.ok);
  if (!out.ok) t.is(out.message, `GET ${base}${path}: HTTP 502 (after 2 retries)`);
  t.is(hits.get(path), 3);
});

test.serial('404 means notFound (the source is not ready yet), without retries', async (t) => {
  const path = serve([{ status: 404 }]);
  const out = await noLeftovers(t, () => fetchArtifact(artifact(path), FAST));
  t.deepEqual(out, { ok: false, notFound: true, message: `artifact not found at ${base}${path}` });
  t.is(hits.get(path), 1);
});

test.serial('other 4xx fail at once', async (t) => {
  const path = serve([{ status: 403 }]);
  const out = await noLeftovers(t, () => fetchArtifact(artifact(path), FAST));
  t.deepEqual(out, { ok: false, notFound: false, message: `GET ${base}${path}: HTTP 403` });
  t.is(hits.get(path), 1);
});

test.serial('the download is capped at maxBytes (no retries)', async (t) => {
  const big = tarGz([{ name: 'big.txt', body: Buffer.alloc(200_000, 7).toString('base64') }]);
  const path = serve([{ status: 200, body: big }]);
  const out = await noLeftovers(t, () => fetchArtifact(artifact(path), { ...FAST, maxBytes: 1000 }));
  t.false(out.ok);
  if (!out.ok) t.regex(out.message, /exceeds the 1000 byte limit/);
  t.is(hits.get(path), 1);
});

test.serial('the unpacked content is capped at maxBytes (a gzip bomb)', async (t) => {
  const bomb = tarGz([{ name: 'zeros', body: '\0'.repeat(2_000_000) }]);
  t.true(bomb.length < 10_000);
  const path = serve([{ status: 200, body: bomb }]);
  const out = await noLeftovers(t, () => fetchArtifact(artifact(path), { ...FAST, maxBytes: 100_000 }));
  t.false(out.ok);
  if (!out.ok) t.regex(out.message, /artifact content exceeds the 100000 byte limit/);
});

const escaping: Array<[string, Entry[]]> = [
  ['a ../ path', [{ name: 'ok.k', body: 'a = 1' }, { name: '../escape.k', body: 'pwned' }]],
  ['a nested ../../ path', [{ name: 'sub/../../escape.k', body: 'pwned' }]],
  ['an absolute path', [{ name: '/tmp/kclrun-escape-abs.k', body: 'pwned' }]],
];
for (const [what, entries] of escaping) {
  test.serial(`a tarball with ${what} is rejected and nothing is left behind`, async (t) => {
    const body = tarGz(entries);
    const path = serve([{ status: 200, body }]);
    const out = await noLeftovers(t, () => fetchArtifact(artifact(path, `sha256:${hex('sha256', body)}`), FAST));
    t.false(out.ok);
    if (!out.ok) {
      t.false(out.notFound);
      t.regex(out.message, /artifact contains a path that escapes the target directory/);
    }
    t.false(existsSync(join(tmpdir(), 'escape.k')));
    t.false(existsSync('/tmp/kclrun-escape-abs.k'));
  });
}

test.serial('symbolic and hard links are skipped; regular files still unpack', async (t) => {
  const body = tarGz([
    { name: 'main.k', body: 'a = 1\n' },
    { name: 'passwd', type: '2', linkname: '/etc/passwd' },
    { name: 'up', type: '2', linkname: '../..' },
    { name: 'hard', type: '1', linkname: 'main.k' },
  ]);
  const path = serve([{ status: 200, body }]);
  const out = await fetchArtifact(artifact(path), FAST);
  if (!out.ok) return t.fail(out.message);
  t.deepEqual(readdirSync(out.dir).sort(), ['main.k']);
  await out.cleanup();
  t.false(existsSync(out.dir));
});

test.serial('a corrupt tarball fails with a clear message and leaves no temp dir', async (t) => {
  const path = serve([{ status: 200, body: Buffer.from('this is not gzip at all') }]);
  const out = await noLeftovers(t, () => fetchArtifact(artifact(path), FAST));
  t.false(out.ok);
  if (!out.ok) t.regex(out.message, /cannot unpack artifact|TAR|zlib|gzip|invalid/i);
});

test.serial('hostOverride replaces the artifact URL host (SOURCE_CONTROLLER_LOCALHOST)', async (t) => {
  const path = serve([{ status: 200, body: GOOD }]);
  const out = await fetchArtifact({ url: `http://source-controller.flux-system.svc.cluster.local.${path}`, revision: 'r' }, { ...FAST, hostOverride: new URL(base).host });
  t.true(out.ok, out.ok ? '' : out.message);
  if (out.ok) await out.cleanup();
});

test.serial('an aborted signal stops retrying', async (t) => {
  const path = serve([{ status: 503 }]);
  const ac = new AbortController();
  setTimeout(() => ac.abort(), 50);
  const started = Date.now();
  const out = await noLeftovers(t, () => fetchArtifact(artifact(path), { retries: 100, retryDelayMs: 20, signal: ac.signal, tempRoot: TEMP_ROOT }));
  t.false(out.ok);
  t.true(Date.now() - started < 2000);
});

// ---- hostile archives --------------------------------------------------------------------------------------------

/** A real tar.gz made by node-tar from a directory of a few dozen files of varied (poorly compressible) content. */
async function realArtifact(): Promise<Buffer> {
  const src = mkdtempSync(join(TEMP_ROOT, 'src-'));
  try {
    for (let d = 0; d < 4; d++) {
      mkdirSync(join(src, `dir${d}`));
      for (let f = 0; f < 8; f++) {
        // Deterministic, poorly compressible content: a chain of digests.
        const parts = Array.from({ length: 10 + f * 5 }, (_, i) => createHash('sha512').update(`${d}/${f}/${i}`).digest('base64'));
        const body = parts.join('\n');
        writeFileSync(join(src, `dir${d}`, `file${f}.k`), body);
      }
    }
    const chunks: Buffer[] = [];
    const stream = createTar({ gzip: true, cwd: src, portable: true }, readdirSync(src));
    for await (const c of stream as AsyncIterable<Buffer>) chunks.push(Buffer.from(c));
    return Buffer.concat(chunks);
  } finally {
    rmSync(src, { recursive: true, force: true });
  }
}

test.serial('a tar.gz truncated at any of many offsets fails with the cause, never rejects, and leaves no temp dir', async (t) => {
  const whole = await realArtifact();
  t.true(whole.length > 20_000, `artifact is ${whole.length} bytes`);
  // Positive control: the whole artifact unpacks.
  const full = await fetchArtifact(artifact(serve([{ status: 200, body: whole }])), FAST);
  if (!full.ok) return t.fail(full.message);
  t.is(readdirSync(full.dir).length, 4);
  await full.cleanup();

  const offsets = new Set<number>([0, 1, 10, 11, 512]);
  for (let i = 1; i < 40; i++) offsets.add(Math.floor((whole.length * i) / 40));
  for (const back of [1, 2, 4, 7, 8, 9, 16, 100, 600]) offsets.add(whole.length - back);
  for (const at of [...offsets].sort((a, b) => a - b)) {
    const body = whole.subarray(0, at);
    const path = serve([{ status: 200, body }]);
    // No digest: the truncated file must be caught by the unpacker itself, not by the digest check.
    const out = await fetchArtifact(artifact(path), FAST).catch((err: unknown) => ({ rejected: err }));
    if ('rejected' in out) {
      t.fail(`truncated at ${at}: fetchArtifact rejected: ${String(out.rejected)}`);
      continue;
    }
    t.false(out.ok, `truncated at ${at} of ${whole.length} bytes was accepted`);
    if (!out.ok) {
      t.false(out.notFound);
      t.regex(out.message, /^cannot unpack artifact: the archive is truncated or corrupt \((gzip|tar): .+\)$/, `truncated at ${at}`);
    }
  }
  t.deepEqual([...tempDirs()], [], 'the fetch temp root is empty');
});

test.serial('the entry count is capped (maxEntries), with a positive control at the cap', async (t) => {
  const entries = (n: number): Entry[] => Array.from({ length: n }, (_, i) => ({ name: `f${i}.k`, body: `a = ${i}\n` }));
  const atCap = await fetchArtifact(artifact(serve([{ status: 200, body: tarGz(entries(10)) }])), { ...FAST, maxEntries: 10 });
  if (!atCap.ok) return t.fail(atCap.message);
  t.is(readdirSync(atCap.dir).length, 10);
  await atCap.cleanup();
  const over = await noLeftovers(t, () => fetchArtifact(artifact(serve([{ status: 200, body: tarGz(entries(11)) }])), { ...FAST, maxEntries: 10 }));
  t.deepEqual(over, { ok: false, notFound: false, message: 'artifact has more than 10 entries' });
});

for (const [what, step] of [['never answers', 'hang'], ['stalls in the middle of the body', 'stall']] as const) {
  test.serial(`a server that ${what} hits the per-attempt timeout, which is retried`, async (t) => {
    const path = serve([step]);
    const out = await noLeftovers(t, () => fetchArtifact(artifact(path), { retries: 1, retryDelayMs: 10, timeoutMs: 200, tempRoot: TEMP_ROOT }));
    t.deepEqual(out, { ok: false, notFound: false, message: `GET ${base}${path}: no complete response within 200ms (after 1 retries)` });
    t.is(hits.get(path), 2);
  });
}

test.serial('the per-attempt timeout does not cut a download that answers in time (positive control)', async (t) => {
  const path = serve(['hang', { status: 200, body: GOOD }]);
  const out = await fetchArtifact(artifact(path), { retries: 1, retryDelayMs: 10, timeoutMs: 200, tempRoot: TEMP_ROOT });
  t.true(out.ok, out.ok ? '' : out.message);
  t.is(hits.get(path), 2);
  if (out.ok) await out.cleanup();
});
