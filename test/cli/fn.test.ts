/**
 * `kclrun fn` and `bin/kclrun-fn` as processes: ResourceList on stdin → ResourceList on stdout; a failing program
 * still prints the ResourceList (items unchanged, error results naming file:line) and exits 1; unreadable input
 * (including a YAML alias bomb) exits 1 with the line and column on stderr and in an error result.
 */
import { readFileSync } from 'node:fs';
import test from 'ava';
import { parse } from 'yaml';
import { KCLRUN_FN, kclrun, run, tempDir, writeTree } from '../support/kclrun.js';

const dir = writeTree(tempDir('kclrun-fn-cli-'), {
  'label.k': 'items = [i | {metadata.labels.team: option("params").team} for i in option("items")]\n',
  'deny.k': 'items = option("items")\n\nassert len(items) == 0, "no resources allowed here, got ${len(items)}"\n',
});

function rl(source: string, params = ''): string {
  return `apiVersion: config.kubernetes.io/v1
kind: ResourceList
items:
- apiVersion: v1
  kind: ConfigMap
  metadata:
    name: cfg # the config
  data:
    mode: '0644'
functionConfig:
  apiVersion: krm.kcl.dev/v1alpha1
  kind: KCLRun
  metadata:
    name: fn
  spec:
    source: ${source}
${params}`;
}

test('kclrun fn: a ResourceList in, the mutated ResourceList out, exit 0', (t) => {
  const r = kclrun(['fn'], { cwd: dir, input: rl('./label.k', '    params:\n      team: payments\n') });
  t.is(r.code, 0, r.stderr);
  t.is(
    r.stdout,
    `apiVersion: config.kubernetes.io/v1
kind: ResourceList
items:
- apiVersion: v1
  kind: ConfigMap
  metadata:
    name: cfg # the config
    labels:
      team: payments
  data:
    mode: '0644'
functionConfig:
  apiVersion: krm.kcl.dev/v1alpha1
  kind: KCLRun
  metadata:
    name: fn
  spec:
    source: ./label.k
    params:
      team: payments
`,
  );
});

test('kclrun fn: a failing program prints the items unchanged with an error result, and exits 1', (t) => {
  const input = rl('./deny.k');
  const r = kclrun(['fn'], { cwd: dir, input });
  t.is(r.code, 1);
  const out = parse(r.stdout);
  t.deepEqual(out.items, parse(input).items);
  t.true(r.stdout.includes('name: cfg # the config'));
  t.deepEqual(out.results, [
    { message: 'deny.k:3:1: EvaluationError: no resources allowed here, got 1', severity: 'error', file: { path: 'deny.k' } },
  ]);
  t.is(r.stderr, '[error] deny.k:3:1: EvaluationError: no resources allowed here, got 1\n', 'errors on stderr too (kustomize drops stdout)');
});

test('bin/kclrun-fn takes no arguments and behaves as kclrun fn', (t) => {
  const r = run(KCLRUN_FN, [], { cwd: dir, input: rl('./label.k', '    params:\n      team: search\n') });
  t.is(r.code, 0, r.stderr);
  t.is(parse(r.stdout).items[0].metadata.labels.team, 'search');
});

test('kclrun fn: input that is not YAML exits 1 naming line and column, on stderr and as an error result', (t) => {
  const r = kclrun(['fn'], { input: 'items: [\n' });
  t.is(r.code, 1);
  t.regex(r.stderr, /^kclrun fn: cannot read input: .*line \d+, column \d+/);
  const out = parse(r.stdout);
  t.deepEqual(out.items, [], 'no items: none could be read');
  t.is(out.results.length, 1);
  t.is(out.results[0].severity, 'error');
  t.regex(out.results[0].message, /^cannot read input: .*line \d+, column \d+/);
});

test('kclrun fn: a YAML alias bomb exits 1 at once with an error result (nothing expands it)', (t) => {
  const r = kclrun(['fn'], { cwd: dir, input: readFileSync(new URL('../../../test/krm/fixtures/alias-bomb.yaml', import.meta.url), 'utf8') });
  t.is(r.code, 1, r.stderr);
  const out = parse(r.stdout);
  t.deepEqual(out.items, []);
  t.is(out.results[0].severity, 'error');
  t.regex(out.results[0].message, /^cannot read input: invalid KRM input at line 13, column \d+: document contains excessive aliasing/);
  t.regex(r.stderr, /excessive aliasing/);
});

test('kclrun fn: a YAML stream with a failing KCLRun prints the items and the error on stderr, exit 1', (t) => {
  const r = kclrun(['fn'], {
    cwd: dir,
    input: 'apiVersion: krm.kcl.dev/v1alpha1\nkind: KCLRun\nmetadata:\n  name: deny\nspec:\n  source: ./deny.k\n---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: a\n',
  });
  t.is(r.code, 1);
  t.is(r.stdout, 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: a\n');
  t.is(r.stderr, '[error] deny.k:3:1: EvaluationError: no resources allowed here, got 1\n');
});

test('fn: a validator with no output gives an empty stream, or an empty items: for a ResourceList', (t) => {
  const config = 'apiVersion: krm.kcl.dev/v1alpha1\nkind: KCLRun\nmetadata:\n  name: check\nspec:\n  source: |\n    assert True, "fine"\n';
  const stream = kclrun(['fn'], { input: config });
  t.is(stream.code, 0, stream.stderr);
  t.is(stream.stdout, '');
  const indented = config.replace(/^/gm, '  ').trimEnd();
  const list = kclrun(['fn'], { input: `apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems: []\nfunctionConfig:\n${indented}\n` });
  t.is(list.code, 0, list.stderr);
  t.regex(list.stdout, /^apiVersion: config.kubernetes.io\/v1\nkind: ResourceList\nitems: \[\]\nfunctionConfig:\n/);
});
