/**
 * The engine binding: the official KCL engine in-process. Version, runs (files, inline code, -D arguments),
 * diagnostics with file and line for syntax, type, assert and check errors, concurrent callers each getting their
 * own answer, OverrideFile and ListOptions.
 */
import test from 'ava';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { engineVersion, listOptions, overrideFile, runProgram } from '../../fn/engine/engine.js';
import { callEngine, enginePin } from '../../fn/engine/native.js';
import { formatDiagnostic } from '../../fn/engine/diagnostics.js';
import { tempDir, writeTree } from '../support/kclrun.js';

const dir = writeTree(tempDir('kclrun-engine-'), {
  'ok.k': 'name = "web"\nreplicas = option("replicas", type="int", default=1)\nlabels = {app = name}\n',
  'syntax.k': 'a = 1\nb = \n',
  'type.k': 'a = 1\nx: int = "s"\n',
  'assert.k': 'a = 1\n\nassert a > 2, "a must be greater than 2"\n',
  'check.k': [
    'schema Port:',
    '    port: int',
    '    check:',
    '        1 <= port <= 65535, "port must be between 1 and 65535"',
    '',
    'p = Port {port = 70000}',
    '',
  ].join('\n'),
  'options.k': [
    'name = option("name", type="str", required=True, help="the app name")',
    'replicas = option("replicas", type="int", default=3, help="how many")',
    '',
  ].join('\n'),
});
const f = (name: string) => join(dir, name);

async function failure(file: string) {
  const r = await runProgram({ workDir: dir, files: [f(file)] }, callEngine);
  if (r.ok) throw new Error(`${file} was expected to fail`);
  return r.diagnostics;
}

test('reports the pinned engine version', async (t) => {
  const v = await engineVersion(callEngine);
  t.is(v.version, enginePin().version);
  t.regex(v.gitSha, /^[0-9a-f]{40}$/);
});

test('runs a file and returns YAML and JSON, with -D arguments taken as JSON when they parse', async (t) => {
  const r = await runProgram({ workDir: dir, files: [f('ok.k')], args: [{ name: 'replicas', value: '3' }] }, callEngine);
  if (!r.ok) return t.fail(JSON.stringify(r.diagnostics));
  t.is(r.value.yaml.trim(), 'name: web\nreplicas: 3\nlabels:\n  app: web');
  t.deepEqual(JSON.parse(r.value.json), { name: 'web', replicas: 3, labels: { app: 'web' } });
});

test('runs inline code, and print() output comes back as the log', async (t) => {
  const r = await runProgram({
    workDir: dir,
    files: [f('inline.k')],
    codes: ['print("hello from kcl")\nv = option("v")\n'],
    args: [{ name: 'v', value: '{"k": [1, 2]}' }],
  }, callEngine);
  if (!r.ok) return t.fail(JSON.stringify(r.diagnostics));
  t.is(r.value.yaml.trim(), 'v:\n  k:\n  - 1\n  - 2');
  t.is(r.value.log.trim(), 'hello from kcl');
});

test('a syntax error names the file, line and column', async (t) => {
  const [d, ...rest] = await failure('syntax.k');
  t.is(rest.length, 0);
  t.like(d, { file: f('syntax.k'), line: 2, column: 4, kind: 'InvalidSyntax', code: 'E1001' });
  t.regex(d!.message, /expected one of .* got newline/);
});

test('a type error names the file and line', async (t) => {
  const [d] = await failure('type.k');
  t.like(d, { file: f('type.k'), line: 2, kind: 'TypeError' });
  t.is(d!.message, 'expected int, got str(s)');
  t.is(formatDiagnostic(d!), `${f('type.k')}:2:1: TypeError: expected int, got str(s)`);
});

test('a failed assert names the file, line and the assert message', async (t) => {
  const [d] = await failure('assert.k');
  t.like(d, { file: f('assert.k'), line: 3, message: 'a must be greater than 2' });
});

test('a failed schema check names where the instance is made and the failing condition', async (t) => {
  const [d] = await failure('check.k');
  t.like(d, { file: f('check.k'), line: 6, message: 'Instance check failed' });
  t.deepEqual(
    d!.related?.map((r) => [r.file, r.line, r.message]),
    [[f('check.k'), 4, 'Check failed on the condition: port must be between 1 and 65535']],
  );
});

test('inline code errors name the inline file name', async (t) => {
  const r = await runProgram({ workDir: dir, files: [f('fn-config.k')], codes: ['a = 1\nassert a > 3, "nope"\n'] }, callEngine);
  t.false(r.ok);
  if (!r.ok) t.like(r.diagnostics[0], { file: f('fn-config.k'), line: 2, message: 'nope' });
});

test('concurrent callers each get their own result (calls are serialised)', async (t) => {
  const calls = Array.from({ length: 40 }, (_, i) =>
    i % 4 === 3
      ? runProgram({ workDir: dir, files: [f('assert.k')] }, callEngine)
      : runProgram({ workDir: dir, files: [f(`c${i}.k`)], codes: [`i = ${i}\ns = "call-${i}"\n`] }, callEngine),
  );
  const results = await Promise.all(calls);
  results.forEach((r, i) => {
    if (i % 4 === 3) {
      t.false(r.ok, `call ${i}`);
      if (!r.ok) t.is(r.diagnostics[0]!.message, 'a must be greater than 2');
    } else {
      t.true(r.ok, `call ${i}`);
      if (r.ok) t.is(r.value.yaml.trim(), `i: ${i}\ns: call-${i}`);
    }
  });
});

test('OverrideFile edits a file in place and keeps its comments', async (t) => {
  const d = writeTree(tempDir(), {
    'main.k': '# the app\nconfig = {\n    # the image\n    image = "nginx:1.0"\n    replicas = 1\n}\n',
  });
  const r = await overrideFile(join(d, 'main.k'), ['config.image="nginx:2.0"', 'config.replicas=4'], callEngine);
  t.deepEqual(r, { ok: true, value: true });
  t.is(readFileSync(join(d, 'main.k'), 'utf8'), '# the app\nconfig = {\n    # the image\n    image = "nginx:2.0"\n    replicas = 4\n}\n');
});

test('OverrideFile on a file with a syntax error reports it with file and line', async (t) => {
  const d = writeTree(tempDir(), { 'main.k': 'config = {\n    image = \n}\n' });
  const r = await overrideFile(join(d, 'main.k'), ['config.image="x"'], callEngine);
  t.false(r.ok);
  if (!r.ok) t.like(r.diagnostics[0], { file: join(d, 'main.k'), line: 2 });
  t.is(readFileSync(join(d, 'main.k'), 'utf8'), 'config = {\n    image = \n}\n', 'the file is left as it was');
});

test('ListOptions lists the options a program reads', async (t) => {
  const r = await listOptions([f('options.k')], callEngine);
  t.deepEqual(r, {
    ok: true,
    value: [
      { name: 'name', type: 'str', required: true, defaultValue: '', help: 'the app name' },
      { name: 'replicas', type: 'int', required: false, defaultValue: '3', help: 'how many' },
    ],
  });
});
