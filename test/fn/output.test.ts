/** Reading the engine's output (fn/output.ts): its YAML goes through the same alias budget as function input. */
import test from 'ava';
import { unwrapOutput } from '../../fn/output.js';

test('YAML output whose aliases would explode is a failure, not an expansion', async (t) => {
  const levels = ['a: &a [x, x, x, x, x, x, x, x, x]'];
  for (const [p, c] of [...'abcdefgh'].map((p, i) => [p, 'bcdefghi'[i]!])) levels.push(`${c}: &${c} [${Array(9).fill(`*${p}`).join(', ')}]`);
  const out = await unwrapOutput(`kind: A\nmetadata: {name: a}\n${levels.join('\n')}\n`);
  t.false(out.ok);
  if (!out.ok) t.regex(out.message, /^KCL output: document contains excessive aliasing/);
});

test('YAML output with a few aliases is read, expanded', async (t) => {
  const out = await unwrapOutput('kind: A\nmetadata: {name: a, labels: &l {app: a}}\nspec: {selector: *l}\n');
  t.deepEqual(out, { ok: true, objects: [{ kind: 'A', metadata: { name: 'a', labels: { app: 'a' } }, spec: { selector: { app: 'a' } } }] });
});

test('a program with no output (`{}`) is no resource, not an empty one', async (t) => {
  t.deepEqual(await unwrapOutput('{}\n', '{}'), { ok: true, objects: [] });
  t.deepEqual(await unwrapOutput('{}\n'), { ok: true, objects: [] });
  // a positive control: a real resource next to it is kept
  t.deepEqual(await unwrapOutput('', '{}\n{"kind": "A"}'), { ok: true, objects: [{ kind: 'A' }] });
});
