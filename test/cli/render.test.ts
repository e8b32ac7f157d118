/**
 * `kclrun render` as CI runs it (a child process): the Flask demo renders to its Deployment and Service; -D, -Y,
 * -O, -S and -o json change what comes out; errors exit 1 with file:line on stderr and nothing on stdout.
 */
import test from 'ava';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { EXAMPLES, kclrun, tempDir, writeTree } from '../support/kclrun.js';

const FLASK = join(EXAMPLES, 'flask-demo');
const IMAGE = /^kcllang\/flask_demo:[0-9a-f]{7,40}$/;

const docs = (yaml: string) => parseAllDocuments(yaml).map((d) => d.toJS());

const fixture = writeTree(tempDir('kclrun-render-'), {
  'app.k': [
    'env = option("env", type="str", default="dev")',
    'replicas = 1',
    '',
    'deployment = {',
    '    apiVersion = "apps/v1"',
    '    kind = "Deployment"',
    '    metadata = {name = "web-${env}", labels.env = env}',
    '    spec.replicas = replicas',
    '}',
    '',
    'settings = {',
    '    apiVersion = "v1"',
    '    kind = "ConfigMap"',
    '    metadata.name = "settings"',
    '    data = {zeta = "z", alpha = "a", _hidden = "h"}',
    '}',
    '',
    'items = [deployment, settings]',
    '',
  ].join('\n'),
  'kcl.yaml': 'kcl_options:\n- key: env\n  value: staging\n',
  'broken.k': 'a = 1\n\nassert a > 2, "a must be greater than 2"\n',
  'pkg/kcl.mod': '[package]\nname = "pkg"\n',
  'pkg/main.k': 'import missing_pkg\n\nx = missing_pkg.y\n',
});
const appFile = join(fixture, 'app.k');

test('render of the Flask demo prints its Deployment and Service as a YAML stream', (t) => {
  const r = kclrun(['render', FLASK]);
  t.is(r.code, 0, r.stderr);
  t.is(r.stderr, '');
  const [deploy, svc, ...rest] = docs(r.stdout);
  t.is(rest.length, 0);
  t.like(deploy, {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'flask-demo', labels: { app: 'flask-demo' } },
    spec: { replicas: 1, selector: { matchLabels: { app: 'flask-demo' } }, template: { metadata: { labels: { app: 'flask-demo' } } } },
  });
  const [container, ...more] = deploy.spec.template.spec.containers;
  t.is(more.length, 0);
  t.is(container.name, 'flaskdemo');
  t.regex(container.image, IMAGE);
  t.deepEqual(container.ports, [{ containerPort: 5000, protocol: 'TCP' }]);
  t.deepEqual(svc, {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'flask-demo', labels: { app: 'flask-demo' } },
    spec: { type: 'NodePort', selector: { app: 'flask-demo' }, ports: [{ port: 5000, targetPort: 5000, protocol: 'TCP' }] },
  });
  t.true(r.stdout.startsWith('apiVersion: apps/v1\nkind: Deployment\n'));
  t.true(r.stdout.includes('\n---\napiVersion: v1\nkind: Service\n'));
});

test('render with no PATH renders the current directory', (t) => {
  const r = kclrun(['render'], { cwd: FLASK });
  t.is(r.code, 0, r.stderr);
  t.deepEqual(
    docs(r.stdout).map((d) => d.kind),
    ['Deployment', 'Service'],
  );
});

test('-D sets an option', (t) => {
  const r = kclrun(['render', appFile, '-D', 'env=prod']);
  t.is(r.code, 0, r.stderr);
  t.like(docs(r.stdout)[0], { kind: 'Deployment', metadata: { name: 'web-prod', labels: { env: 'prod' } } });
});

test('-Y loads options from a kcl.yaml settings file', (t) => {
  const r = kclrun(['render', 'app.k', '-Y', 'kcl.yaml'], { cwd: fixture });
  t.is(r.code, 0, r.stderr);
  t.is(docs(r.stdout)[0].metadata.name, 'web-staging');
});

test('-O overrides a value before running', (t) => {
  const r = kclrun(['render', appFile, '-O', 'replicas=4']);
  t.is(r.code, 0, r.stderr);
  t.is(docs(r.stdout)[0].spec.replicas, 4);
});

test('-S selects part of the output', (t) => {
  const r = kclrun(['render', appFile, '-S', 'settings']);
  t.is(r.code, 0, r.stderr);
  t.is(r.stdout, 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  zeta: z\n  alpha: a\n');
});

test('--sort-keys and --show-hidden', (t) => {
  const r = kclrun(['render', appFile, '-S', 'settings', '--sort-keys', '--show-hidden']);
  t.is(r.code, 0, r.stderr);
  t.is(r.stdout, 'apiVersion: v1\ndata:\n  _hidden: h\n  alpha: a\n  zeta: z\nkind: ConfigMap\nmetadata:\n  name: settings\n');
});

test('-o json prints a v1 List', (t) => {
  const r = kclrun(['render', FLASK, '-o', 'json']);
  t.is(r.code, 0, r.stderr);
  const list = JSON.parse(r.stdout);
  t.is(list.apiVersion, 'v1');
  t.is(list.kind, 'List');
  t.deepEqual(
    list.items.map((i: { kind: string; metadata: { name: string } }) => `${i.kind}/${i.metadata.name}`),
    ['Deployment/flask-demo', 'Service/flask-demo'],
  );
});

test('a failing assert: exit 1, file:line on stderr, nothing on stdout', (t) => {
  const r = kclrun(['render', 'broken.k'], { cwd: fixture });
  t.is(r.code, 1);
  t.is(r.stdout, '');
  t.is(r.stderr, `error: ${join(fixture, 'broken.k')}:3:1: EvaluationError: a must be greater than 2\n`);
});

test('a compile error (unknown import): exit 1, file:line on stderr', (t) => {
  const r = kclrun(['render', 'pkg'], { cwd: fixture });
  t.is(r.code, 1);
  t.is(r.stdout, '');
  t.regex(r.stderr, new RegExp(`^error: ${join(fixture, 'pkg', 'main.k').replace(/[.]/g, '\\.')}:1:\\d+: .*missing_pkg`, 'm'));
});

test('a path that does not exist, and a bad -o value, are errors with exit 1', (t) => {
  const missing = kclrun(['render', 'nowhere'], { cwd: fixture });
  t.is(missing.code, 1);
  t.is(missing.stderr, `error: ${join(fixture, 'nowhere')}: no such file or directory\n`);
  const badOutput = kclrun(['render', appFile, '-o', 'xml']);
  t.is(badOutput.code, 1);
  t.is(badOutput.stderr, 'kclrun: --output must be yaml or json, got xml\n');
  const badFlag = kclrun(['render', '--frobnicate']);
  t.is(badFlag.code, 1);
  t.regex(badFlag.stderr, /^kclrun: Unknown option '--frobnicate'/);
});

test('kclrun render: a path dependency outside the package root exits 1 naming it; --root widens the root', (t) => {
  const top = writeTree(tempDir('kclrun-render-root-'), {
    'libs/team/kcl.mod': '[package]\nname = "team"\n',
    'libs/team/labels.k': 'team = "platform"\n',
    'app/kcl.mod': '[package]\nname = "app"\n\n[dependencies]\nteam = { path = "../libs/team" }\n',
    'app/main.k': 'import team\n\nowner = team.team\n',
  });
  const confined = kclrun(['render', 'app'], { cwd: top });
  t.is(confined.code, 1);
  t.is(confined.stdout, '');
  t.is(confined.stderr, `error: ${join(top, 'app', 'kcl.mod')}: dependency "team": path ../libs/team leads outside the package root (${join(top, 'app')})\n`);
  const widened = kclrun(['render', 'app', '--root', '.'], { cwd: top });
  t.is(widened.code, 0, widened.stderr);
  t.is(widened.stdout, 'owner: platform\n');
});

test('a program that only asserts prints an empty stream (kubectl apply -f refuses a `{}` document)', (t) => {
  const dir = tempDir('kclrun-render-empty-');
  writeTree(dir, { 'main.k': 'assert True, "fine"\n' });
  const r = kclrun(['render', join(dir, 'main.k')]);
  t.is(r.code, 0, r.stderr);
  t.is(r.stdout, '');
  const json = kclrun(['render', '-o', 'json', join(dir, 'main.k')]);
  t.deepEqual(JSON.parse(json.stdout).items, []);
});
