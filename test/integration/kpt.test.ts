/**
 * kclrun under the real kpt (/usr/bin/kpt): `kpt fn eval --exec` with a ConfigMap (`-- source=... k=v`) and with
 * `--fn-config kclrun.yaml`, and `kpt fn render --allow-exec` with a Kptfile pipeline (a KCL mutator and a KCL
 * validator, both `exec:`). Comments, `0644` and file modes survive; a failing validator fails the render with
 * rc=1 and no file written (bytes compared before/after).
 */
import test from 'ava';
import { cpSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parse } from 'yaml';
import { parseInput } from '../../krm/index.js';
import { fixturePath } from '../krm/fixtures.js';
import { EXAMPLES, KCLRUN_FN, kpt, tempDir, writeTree } from '../support/kclrun.js';

const DEPLOY = `# the web deployment
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web # the name
spec:
  replicas: 3 # three replicas
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      containers:
      - name: web
        image: "nginx:1.27" # pinned
      volumes:
      - name: cfg
        configMap:
          name: cfg
          defaultMode: 0644
`;

const SVC = `apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  ports:
  - port: 80 # http
`;

/** A kpt package with a Deployment and a Service, plus the example functions under fns/. */
function kptPackage(extra: Record<string, string> = {}): { root: string; pkg: string } {
  const root = tempDir('kclrun-kpt-');
  const pkg = join(root, 'pkg');
  writeTree(pkg, { 'deploy.yaml': DEPLOY, 'svc.yaml': SVC, ...extra });
  for (const ex of ['mutation/set-annotations', 'validation/replica-limits']) {
    cpSync(join(EXAMPLES, ex), join(pkg, 'fns', ex.split('/')[1]!), { recursive: true, filter: (src) => !src.includes('/suite') });
  }
  return { root, pkg };
}

/** Every file under `dir` with its bytes and mode. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      const st = statSync(p);
      if (st.isDirectory()) walk(p);
      else out[relative(dir, p)] = `${(st.mode & 0o777).toString(8)} ${readFileSync(p, 'utf8')}`;
    }
  };
  walk(dir);
  return out;
}

test('kpt fn eval --exec kclrun-fn -- source="$(cat main.k)" k=v: a ConfigMap functionConfig mutates in place', (t) => {
  const { root, pkg } = kptPackage();
  const source = 'items = [i | {metadata.labels.team: option("params").team} for i in option("items")]\n';
  const r = kpt(['fn', 'eval', pkg, '--exec', KCLRUN_FN, '--', `source=${source}`, 'team=payments'], root);
  t.is(r.code, 0, r.stderr);
  t.regex(r.stderr, /\[PASS\] ".*kclrun-fn"/);
  const deploy = readFileSync(join(pkg, 'deploy.yaml'), 'utf8');
  t.is(
    deploy,
    DEPLOY.replace('  name: web # the name\n', '  name: web # the name\n  labels:\n    team: payments\n'),
    'only the label is added: comments, quoting and 0644 are kept',
  );
  t.is(parse(readFileSync(join(pkg, 'svc.yaml'), 'utf8')).metadata.labels.team, 'payments');
  t.true(readFileSync(join(pkg, 'svc.yaml'), 'utf8').includes('- port: 80 # http'));
  t.deepEqual(readdirSync(pkg).sort(), ['deploy.yaml', 'fns', 'svc.yaml'], 'kpt keeps every resource in its file');
  t.is(statSync(join(pkg, 'deploy.yaml')).mode & 0o777, 0o644);
});

test('kpt fn eval --fn-config kclrun.yaml: a KCLRun with a relative source (against kpt\'s working directory)', (t) => {
  const { root, pkg } = kptPackage();
  writeTree(root, {
    'kclrun.yaml': `apiVersion: krm.kcl.dev/v1alpha1
kind: KCLRun
metadata:
  name: set-annotations
spec:
  source: ./fns/set-annotations/main.k
  params:
    annotations:
      owner: platform
`,
  });
  const r = kpt(['fn', 'eval', '.', '--exec', KCLRUN_FN, '--fn-config', '../kclrun.yaml'], pkg);
  t.is(r.code, 0, r.stderr);
  const deploy = readFileSync(join(pkg, 'deploy.yaml'), 'utf8');
  t.is(deploy, DEPLOY.replace('  name: web # the name\n', '  name: web # the name\n  annotations:\n    owner: platform\n'));
});

test('kpt fn eval: a failing KCL program fails the eval with its file:line and writes nothing', (t) => {
  const { root, pkg } = kptPackage();
  const before = snapshot(pkg);
  const r = kpt(
    ['fn', 'eval', pkg, '--exec', KCLRUN_FN, '--', 'source=items = option("items")\nassert len(items) == 0, "no resources allowed"\n'],
    root,
  );
  t.is(r.code, 1);
  t.regex(r.stderr, /\[FAIL\] ".*kclrun-fn"/);
  t.regex(r.stderr, /\[error\]: ConfigMap\/function-input \(spec\.source\):2(:\d+)?: EvaluationError: no resources allowed/);
  t.deepEqual(snapshot(pkg), before);
});

const KPTFILE = `apiVersion: kpt.dev/v1
kind: Kptfile
metadata:
  name: pkg
  annotations:
    config.kubernetes.io/local-config: "true"
pipeline:
  mutators:
  - exec: ./bin/kclrun-fn # exec paths resolve against kpt's working directory
    configPath: set-annotations.yaml
  validators:
  - exec: ./bin/kclrun-fn
    configPath: replica-limits.yaml
`;

function renderPackage(max: number) {
  const { root, pkg } = kptPackage({
    Kptfile: KPTFILE,
    'set-annotations.yaml': `apiVersion: krm.kcl.dev/v1alpha1
kind: KCLRun
metadata:
  name: set-annotations
  annotations:
    config.kubernetes.io/local-config: "true"
spec:
  # relative to this package (kpt's package-path)
  source: ./fns/set-annotations/main.k
  params:
    annotations:
      owner: platform
`,
    'replica-limits.yaml': `apiVersion: krm.kcl.dev/v1alpha1
kind: KCLRun
metadata:
  name: replica-limits
  annotations:
    config.kubernetes.io/local-config: "true"
spec:
  source: ./fns/replica-limits/main.k
  params:
    min: 1
    max: ${max}
`,
  });
  mkdirSync(join(root, 'bin'));
  symlinkSync(KCLRUN_FN, join(root, 'bin', 'kclrun-fn'));
  return { root, pkg };
}

test('kpt fn render --allow-exec: a KCL mutator and a KCL validator in a Kptfile pipeline', (t) => {
  const { root, pkg } = renderPackage(5);
  const before = snapshot(pkg);
  const r = kpt(['fn', 'render', 'pkg', '--allow-exec'], root);
  t.is(r.code, 0, r.stderr);
  t.regex(r.stderr, /Successfully executed 2 function\(s\) in 1 package\(s\)/);
  const after = snapshot(pkg);
  t.deepEqual(Object.keys(after).sort(), Object.keys(before).sort(), 'no file added or removed');
  t.is(
    readFileSync(join(pkg, 'deploy.yaml'), 'utf8'),
    DEPLOY.replace('  name: web # the name\n', '  name: web # the name\n  annotations:\n    owner: platform\n'),
  );
  t.is(readFileSync(join(pkg, 'svc.yaml'), 'utf8'), SVC.replace('  name: web\n', '  name: web\n  annotations:\n    owner: platform\n'));
  for (const f of ['Kptfile', 'set-annotations.yaml', 'replica-limits.yaml']) t.is(after[f], before[f], `${f} (local config) is untouched`);
  t.is(statSync(join(pkg, 'deploy.yaml')).mode & 0o777, 0o644);
});

test('kpt fn render: a failing validator fails the render with rc=1, names main.k:line, and writes no file', (t) => {
  const { root, pkg } = renderPackage(2);
  const before = snapshot(pkg);
  const r = kpt(['fn', 'render', 'pkg', '--allow-exec', '--results-dir', join(root, 'results')], root);
  t.is(r.code, 1, r.stderr);
  t.regex(r.stderr, /\[PASS\] "\.\/bin\/kclrun-fn"/, 'the mutator ran');
  t.regex(r.stderr, /\[FAIL\] "\.\/bin\/kclrun-fn"/);
  t.regex(r.stderr, /\[error\]: pkg\/fns\/replica-limits\/main\.k:17(:\d+)?: EvaluationError: Deployment\/web: replicas 3 is outside the allowed range 1\.\.2/);
  t.deepEqual(snapshot(pkg), before, 'no file written: the mutator\'s changes are discarded too');
  const results = parse(readFileSync(join(root, 'results', 'results.yaml'), 'utf8'));
  t.is(results.kind, 'FunctionResultList');
  t.is(results.items.at(-1).exitCode, 1);
});

test('kpt fn eval --fn-config written by PyYAML (source closed at column 0 by kpt): the corpus package is mutated, values kept', (t) => {
  // test/krm/fixtures/corpus-pkg: multi-line quoted, folded and kept scalars, `---` in a block scalar, anchors,
  // tabs, long lines, CRLF and a BOM. The fn-config's source is a multi-line single-quoted scalar (PyYAML safe_dump).
  const root = tempDir('kclrun-kpt-corpus-');
  const pkg = join(root, 'pkg');
  cpSync(fixturePath('corpus-pkg'), pkg, { recursive: true });
  cpSync(fixturePath('corpus-fn-config.yaml'), join(root, 'fn-config.yaml'));
  const values = (dir: string) =>
    readdirSync(dir)
      .sort()
      .flatMap((f) => parseInput(readFileSync(join(dir, f), 'utf8')).items.map((i) => i.toObject()));
  const before = values(pkg);
  const r = kpt(['fn', 'eval', 'pkg', '--exec', KCLRUN_FN, '--fn-config', 'fn-config.yaml'], root);
  t.is(r.code, 0, r.stderr);
  const after = values(pkg);
  t.is(after.length, before.length);
  const withAnnotation = before.map((o) => {
    const meta = (o.metadata ?? {}) as Record<string, unknown>;
    return { ...o, metadata: { ...meta, annotations: { ...((meta.annotations as object) ?? {}), managed: 'kcl' } } };
  });
  t.deepEqual(after, withAnnotation);
});
