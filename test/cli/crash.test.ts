/**
 * A KCL program that crashes the engine (unbounded recursion: SIGSEGV in the engine) runs in kclrun's engine
 * worker, not in the CLI's process: `kclrun render` and `kclrun fn` exit 1 with a message naming the file and the
 * crash — never a bare exit 139 — and `kclrun fn` still writes its items back unchanged with an error result.
 */
import test from 'ava';
import { parse } from 'yaml';
import { kclrun, tempDir, writeTree } from '../support/kclrun.js';

const RECURSION = 'f = lambda x: int -> int { f(x + 1) }\na = f(1)\n';
const CRASH = /main\.k: the KCL engine crashed \(SIGSEGV\) while running this program; the usual cause is unbounded recursion/;

const dir = writeTree(tempDir('kclrun-crash-'), { 'recurse/main.k': RECURSION, 'fine/main.k': 'a = 1\n' });

test('kclrun render: a program that crashes the engine exits 1 naming main.k and the crash, nothing on stdout', (t) => {
  const r = kclrun(['render', 'recurse'], { cwd: dir });
  t.is(r.code, 1, r.stderr);
  t.regex(r.stderr, CRASH);
  t.is(r.stdout, '');
  // positive control: the same command on a program that does not crash
  const ok = kclrun(['render', 'fine'], { cwd: dir });
  t.is(ok.code, 0, ok.stderr);
  t.is(ok.stdout, 'a: 1\n');
});

test('kclrun fn: a crashing program gives an error result and the items back unchanged, exit 1', (t) => {
  const input = `apiVersion: config.kubernetes.io/v1
kind: ResourceList
items:
- apiVersion: v1
  kind: ConfigMap
  metadata:
    name: cfg # keep me
  data:
    mode: '0644'
functionConfig:
  apiVersion: krm.kcl.dev/v1alpha1
  kind: KCLRun
  metadata:
    name: fn
  spec:
    source: ./recurse/main.k
`;
  const r = kclrun(['fn'], { cwd: dir, input });
  t.is(r.code, 1, r.stderr);
  t.regex(r.stderr, CRASH);
  t.true(r.stdout.startsWith(input.slice(0, input.indexOf('functionConfig:'))), r.stdout);
  const out = parse(r.stdout) as { items: unknown[]; results: Array<{ severity: string; message: string }> };
  t.is(out.items.length, 1);
  t.is(out.results.length, 1);
  t.is(out.results[0]!.severity, 'error');
  t.regex(out.results[0]!.message, CRASH);
});
