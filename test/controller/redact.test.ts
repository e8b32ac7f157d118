import test from 'ava';
import { REDACTED, redact, secretValues } from '../../controller/status/redact.js';

test('redact hides values, their JSON-escaped form and each of their lines', (t) => {
  const pem = '-----BEGIN-----\nAAAAline1\nBBBBline2\n';
  t.is(redact('token s3cr3t! here', ['s3cr3t!']), `token ${REDACTED} here`);
  t.is(redact(`Invalid value: ${JSON.stringify(pem)}`, [pem]), `Invalid value: "${REDACTED}"`);
  t.is(redact('key AAAAline1 BBBBline2', [pem]), `key ${REDACTED} ${REDACTED}`);
  t.is(redact('a short one: abc', ['abc']), 'a short one: abc');
  t.is(redact('nothing to hide', []), 'nothing to hide');
});

test('secretValues reads data (raw and decoded) and stringData of v1 Secrets only', (t) => {
  const values = secretValues([
    { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's' }, data: { a: Buffer.from('plain-a').toString('base64') }, stringData: { b: 'plain-b' } },
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' }, data: { c: 'not-secret' } },
  ]);
  t.deepEqual(values, [Buffer.from('plain-a').toString('base64'), 'plain-a', 'plain-b']);
});
