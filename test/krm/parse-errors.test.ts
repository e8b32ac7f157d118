import test from 'ava';
import { KrmInputError, parseInput } from '../../krm/index.js';

function parseError(text: string): KrmInputError {
  const err = (() => {
    try {
      parseInput(text);
    } catch (e) {
      return e;
    }
    return undefined;
  })();
  if (!(err instanceof KrmInputError)) throw new Error(`expected KrmInputError, got ${String(err)}`);
  return err;
}

test('a YAML syntax error names line and column', (t) => {
  const err = parseError('apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n- kind: A\n  metadata: {name: x: y}\n');
  t.is(err.line, 5);
  t.is(err.column, 20); // the 'x' that starts the nested mapping
  t.is(err.message, 'invalid KRM input at line 5, column 20: Block collections are not allowed within flow collections');
  const unclosed = parseError('kind: A\nmetadata: {name: x\n');
  t.regex(unclosed.message, /^invalid KRM input at line 3, column 1: Flow map .* end with a \}/);
});

test('bad indentation in the second document of a stream', (t) => {
  const err = parseError('kind: A\n---\nkind: B\nmetadata:\n  name: a\n   x: y\n');
  t.is(err.line, 5);
  t.regex(err.message, /line 5, column 9/);
});

test('duplicate keys are an error, as in yaml.v3', (t) => {
  const err = parseError('kind: A\nkind: B\n');
  t.is(err.line, 2);
  t.regex(err.message, /unique|duplicate/i);
});

test('non-mapping items and documents are rejected with their position', (t) => {
  const e1 = parseError('apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n- kind: A\n- just a string\n');
  t.is(e1.line, 5);
  t.regex(e1.message, /items\[1\] is not a mapping/);
  const e2 = parseError('kind: A\n---\n- a\n- b\n');
  t.is(e2.line, 3);
  t.regex(e2.message, /document 2 is not a mapping/);
  const e3 = parseError('apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems: {a: 1}\n');
  t.is(e3.line, 3);
});
