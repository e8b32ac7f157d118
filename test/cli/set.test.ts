/**
 * `kclrun set` as CI uses it after a build: bump the Flask demo's image tag in place (in a temp copy), keep the rest
 * of main.k, and `kclrun render` shows the new tag. Bad input is an error with exit 1.
 */
import test from 'ava';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { copyExample, kclrun, tempDir, writeTree } from '../support/kclrun.js';

test('set bumps the Flask image tag, only that line changes, and render shows it', (t) => {
  const dir = copyExample('flask-demo');
  const main = join(dir, 'main.k');
  const before = readFileSync(main, 'utf8');
  const r = kclrun(['set', 'main.k', 'config.containers.flaskdemo.image=kcllang/flask_demo:1f2e3d4c'], { cwd: dir });
  t.is(r.code, 0, r.stderr);
  t.is(r.stdout, 'main.k: config.containers.flaskdemo.image="kcllang/flask_demo:1f2e3d4c"\n');
  const after = readFileSync(main, 'utf8');
  const changed = after.split('\n').filter((l, i) => l !== before.split('\n')[i]);
  t.deepEqual(changed.map((l) => l.trim()), ['image = "kcllang/flask_demo:1f2e3d4c"']);
  t.is(after.split('\n').length, before.split('\n').length);
  t.true(after.includes('# The Flask demo app.'), 'comments are kept');

  const rendered = kclrun(['render', dir]);
  t.is(rendered.code, 0, rendered.stderr);
  const [deploy] = parseAllDocuments(rendered.stdout).map((d) => d.toJS());
  t.is(deploy.spec.template.spec.containers[0].image, 'kcllang/flask_demo:1f2e3d4c');
});

test('set takes KCL literals as they are and adds attributes that are not there yet', (t) => {
  const dir = copyExample('flask-demo');
  const r = kclrun(['set', join(dir, 'main.k'), 'config.replicas=3', 'config.labels={"tier": "web"}']);
  t.is(r.code, 0, r.stderr);
  const rendered = kclrun(['render', dir]);
  t.is(rendered.code, 0, rendered.stderr);
  const [deploy] = parseAllDocuments(rendered.stdout).map((d) => d.toJS());
  t.is(deploy.spec.replicas, 3);
  t.deepEqual(deploy.metadata.labels, { app: 'flask-demo', tier: 'web' });
});

test('set errors: missing arguments, a missing file, a malformed assignment, a file with a syntax error', (t) => {
  const dir = writeTree(tempDir(), { 'broken.k': 'config = {\n    image = \n}\n' });
  const noArgs = kclrun(['set']);
  t.is(noArgs.code, 1);
  t.is(noArgs.stderr, 'kclrun: usage: kclrun set FILE PATH=VALUE...\n');
  const missing = kclrun(['set', 'nope.k', 'a=1'], { cwd: dir });
  t.is(missing.code, 1);
  t.is(missing.stderr, 'kclrun: nope.k: no such file\n');
  const malformed = kclrun(['set', 'broken.k', 'no-equals'], { cwd: dir });
  t.is(malformed.code, 1);
  t.is(malformed.stderr, 'kclrun: "no-equals": expected PATH=VALUE (or PATH- to delete)\n');
  const syntax = kclrun(['set', 'broken.k', 'config.image=x'], { cwd: dir });
  t.is(syntax.code, 1);
  t.regex(syntax.stderr, new RegExp(`^error: ${join(dir, 'broken.k')}:2(:\\d+)?: `));
  t.is(readFileSync(join(dir, 'broken.k'), 'utf8'), 'config = {\n    image = \n}\n', 'a failed set leaves the file alone');
});
