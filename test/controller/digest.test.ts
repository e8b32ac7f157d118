/**
 * Artifact digests in every algorithm source-controller can use (`--artifact-digest-algo`): sha256, sha384,
 * sha512 and blake3. The fetch stage verifies the downloaded bytes against each.
 */
import test from 'ava';
import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { blake3 } from '@noble/hashes/blake3.js';
import { packDirectory } from '../harness/tarball.js';
import { fetchArtifact, parseDigest } from '../../controller/stages/fetch.js';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';

test('parseDigest accepts sha256/384/512 and blake3, treats bare hex as sha256, and names unsupported algorithms', (t) => {
  t.deepEqual(parseDigest('blake3:AF13'), { algorithm: 'blake3', hex: 'af13' });
  t.deepEqual(parseDigest('abcd'), { algorithm: 'sha256', hex: 'abcd' });
  t.is(parseDigest('md5:abcd'), 'unsupported digest algorithm "md5" (supported: sha256, sha384, sha512, blake3)');
});

test('an artifact is verified against each digest algorithm; a wrong one fails naming both digests', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'kclrun-digest-'));
  writeFileSync(join(dir, 'main.k'), 'a = 1\n');
  const bytes = packDirectory(dir);
  const server = createServer((_req, res) => res.end(bytes));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  t.teardown(() => server.close());
  const port = (server.address() as { port: number }).port;
  const url = `http://127.0.0.1:${port}/a.tar.gz`;
  const digests = {
    sha256: createHash('sha256').update(bytes).digest('hex'),
    sha384: createHash('sha384').update(bytes).digest('hex'),
    sha512: createHash('sha512').update(bytes).digest('hex'),
    blake3: Buffer.from(blake3(bytes)).toString('hex'),
  };
  for (const [algo, hex] of Object.entries(digests)) {
    const out = await fetchArtifact({ url, revision: 'r', digest: `${algo}:${hex}` }, { retries: 0 });
    t.true(out.ok, `${algo}: ${out.ok ? '' : out.message}`);
    if (out.ok) {
      t.is(readFileSync(join(out.dir, 'main.k'), 'utf8'), 'a = 1\n');
      await out.cleanup();
    }
  }
  const wrong = `blake3:${'0'.repeat(64)}`;
  const bad = await fetchArtifact({ url, revision: 'r', digest: wrong }, { retries: 0 });
  t.false(bad.ok);
  if (!bad.ok) t.is(bad.message, `artifact digest mismatch: expected ${wrong}, got blake3:${digests.blake3}`);
});

test('blake3 matches the reference test vector for empty input', (t) => {
  t.is(Buffer.from(blake3(new Uint8Array())).toString('hex'), 'af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262');
});
