/**
 * The function's configuration as a user writes it: a KCLRun (krm.kcl.dev/v1alpha1) or a ConfigMap functionConfig,
 * and what a user sees when it is wrong — missing source, wrong kind or apiVersion, malformed fields, remote sources
 * (plain http without the allow-insecure-source annotation). Every problem is an error result naming the field, with exit code 1 and the items unchanged.
 */
import test from 'ava';
import { parse } from 'yaml';
import { parseInput } from '../../krm/index.js';
import { readFunctionConfig } from '../../fn/config.js';
import { fn } from '../support/kclrun.js';

const ITEM = `  - apiVersion: v1
    kind: ConfigMap
    metadata:
      name: data # a comment
    data:
      k: v
`;

function resourceList(functionConfig: string, items = ITEM): string {
  return `apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n${items}${functionConfig ? `functionConfig:\n${functionConfig}` : ''}`;
}

function configOf(functionConfig: string) {
  return readFunctionConfig(parseInput(resourceList(functionConfig)).functionConfig);
}

test('a KCLRun functionConfig gives source, params, matchConstraints and config', (t) => {
  const r = configOf(`  apiVersion: krm.kcl.dev/v1alpha1
  kind: KCLRun
  metadata:
    name: set-it
  spec:
    source: ./main.k
    params:
      replicas: 3
    matchConstraints:
      resourceRules:
      - apiVersions: [apps/v1]
        kinds: [Deployment]
    config:
      arguments: [env=prod]
      sortKeys: true
`);
  t.deepEqual(r, {
    ok: true,
    config: {
      name: 'set-it',
      origin: 'KCLRun/set-it',
      packagePath: undefined,
      allowInsecure: false,
      spec: {
        source: './main.k',
        params: { replicas: 3 },
        matchConstraints: { resourceRules: [{ apiVersions: ['apps/v1'], kinds: ['Deployment'] }] },
        config: { arguments: ['env=prod'], sortKeys: true },
      },
    },
  });
});

test('a KCLRun without a name is called kcl-function-run, without params gets {}', (t) => {
  const r = configOf('  apiVersion: krm.kcl.dev/v1alpha1\n  kind: KCLRun\n  spec:\n    source: "a = 1"\n');
  t.true(r.ok);
  if (r.ok) {
    t.is(r.config.name, 'kcl-function-run');
    t.deepEqual(r.config.spec.params, {});
  }
});

test('kpt package-path on the functionConfig anchors relative sources', (t) => {
  const r = configOf(`  apiVersion: krm.kcl.dev/v1alpha1
  kind: KCLRun
  metadata:
    name: x
    annotations:
      internal.config.kubernetes.io/package-path: /pkgs/web
  spec:
    source: ./main.k
`);
  t.true(r.ok);
  if (r.ok) t.is(r.config.packagePath, '/pkgs/web');
});

test('a ConfigMap functionConfig (kpt fn eval -- source=... k=v): data.source is the program, other keys are params', async (t) => {
  const out = await fn(
    resourceList(`  apiVersion: v1
  kind: ConfigMap
  metadata:
    name: function-input
  data:
    source: |
      items = [i | {metadata.labels.tier: option("params").tier} for i in option("items")]
    tier: backend
`),
  );
  t.is(out.code, 0, out.stdout);
  const rl = parse(out.stdout);
  t.deepEqual(rl.items[0].metadata, { name: 'data', labels: { tier: 'backend' } });
  t.true(out.stdout.includes('name: data # a comment'));
});

test('no functionConfig at all: an error result saying what to give', async (t) => {
  const out = await fn(resourceList(''));
  t.is(out.code, 1);
  t.deepEqual(out.results, [
    {
      severity: 'error',
      message: 'ResourceList: functionConfig is missing: give a KCLRun (krm.kcl.dev/v1alpha1) or a ConfigMap with data.source',
      field: { path: 'functionConfig' },
    },
  ]);
  t.true(out.stdout.includes('name: data # a comment'), 'items are written back unchanged');
});

test('a KCLRun without spec.source: an error result naming spec.source', async (t) => {
  const out = await fn(resourceList('  apiVersion: krm.kcl.dev/v1alpha1\n  kind: KCLRun\n  metadata:\n    name: empty\n  spec:\n    params: {}\n'));
  t.is(out.code, 1);
  t.like(out.results[0], {
    severity: 'error',
    message: 'KCLRun/empty: spec.source is required: inline KCL code, a .k file or a KCL package directory',
    field: { path: 'spec.source' },
    resourceRef: { apiVersion: 'krm.kcl.dev/v1alpha1', kind: 'KCLRun', name: 'empty' },
  });
});

test('a ConfigMap without data.source: an error result saying how to pass it', async (t) => {
  const out = await fn(resourceList('  apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: function-input\n  data: {}\n'));
  t.is(out.code, 1);
  t.regex(out.results[0]!.message, /^ConfigMap\/function-input: data\.source is required \(e\.g\. `-- source="\$\(cat main\.k\)"`\)/);
});

test('a functionConfig of another kind: an error result naming the kinds accepted', async (t) => {
  const out = await fn(resourceList('  apiVersion: fn.kpt.dev/v1alpha1\n  kind: StarlarkRun\n  metadata:\n    name: star\n  source: x\n'));
  t.is(out.code, 1);
  t.is(out.results[0]!.message, 'StarlarkRun/star: kind must be KCLRun (krm.kcl.dev/v1alpha1) or ConfigMap, got StarlarkRun');
});

test('a KCLRun with the wrong apiVersion: an error result naming apiVersion', async (t) => {
  const out = await fn(resourceList('  apiVersion: krm.kcl.dev/v1\n  kind: KCLRun\n  metadata:\n    name: x\n  spec:\n    source: a = 1\n'));
  t.is(out.code, 1);
  t.is(out.results[0]!.message, 'KCLRun/x: apiVersion must be krm.kcl.dev/v1alpha1, got krm.kcl.dev/v1');
});

test('malformed spec fields are each reported with their path', async (t) => {
  const out = await fn(
    resourceList(`  apiVersion: krm.kcl.dev/v1alpha1
  kind: KCLRun
  metadata:
    name: bad
  spec:
    source: a = 1
    params: [1, 2]
    config:
      arguments: env=prod
      sortKeys: "yes"
`),
  );
  t.is(out.code, 1);
  t.deepEqual(
    out.results.map((r) => r.message),
    [
      'KCLRun/bad: spec.params must be a mapping',
      'KCLRun/bad: spec.config.arguments must be a list of strings',
      'KCLRun/bad: spec.config.sortKeys must be true or false',
    ],
  );
});

test('spec.dependencies, spec.credentials and the allow-insecure-source annotation are read; malformed ones are reported, never quoting a password', async (t) => {
  const good = configOf(`  apiVersion: krm.kcl.dev/v1alpha1
  kind: KCLRun
  metadata:
    name: deps
    annotations:
      krm.kcl.dev/allow-insecure-source: "Yes"
  spec:
    source: a = 1
    dependencies: |
      k8s = "1.28"
    credentials:
      url: ghcr.io
      username: me
      password: pw
`);
  t.true(good.ok);
  if (good.ok) {
    t.true(good.config.allowInsecure);
    t.is(good.config.spec.dependencies, 'k8s = "1.28"\n');
    t.deepEqual(good.config.spec.credentials, { url: 'ghcr.io', username: 'me', password: 'pw' });
  }
  const off = configOf('  apiVersion: krm.kcl.dev/v1alpha1\n  kind: KCLRun\n  metadata:\n    name: x\n    annotations:\n      krm.kcl.dev/allow-insecure-source: "no"\n  spec:\n    source: a = 1\n');
  t.true(off.ok && !off.config.allowInsecure);
  const out = await fn(
    resourceList(`  apiVersion: krm.kcl.dev/v1alpha1
  kind: KCLRun
  metadata:
    name: bad
  spec:
    source: a = 1
    dependencies: [k8s]
    credentials:
      username: me
      password: [hunter2]
`),
  );
  t.is(out.code, 1);
  t.deepEqual(
    out.results.map((r) => r.message),
    ['KCLRun/bad: spec.dependencies must be a string: the lines of a kcl.mod [dependencies] table', 'KCLRun/bad: spec.credentials.password must be a string'],
  );
});

for (const source of ['git::http://example.invalid/x.git//examples/set-annotations?ref=main', 'http://example.invalid/org/x.git', 'http://example.invalid/main.k']) {
  test(`a remote source over plain http (${source.slice(0, 30)}…) is refused without the allow-insecure-source annotation, saying so`, async (t) => {
    const out = await fn(
      resourceList(`  apiVersion: krm.kcl.dev/v1alpha1\n  kind: KCLRun\n  metadata:\n    name: remote\n  spec:\n    source: ${source}\n`),
    );
    t.is(out.code, 1);
    t.is(out.results.length, 1);
    t.is(out.results[0]!.severity, 'error');
    t.regex(out.results[0]!.message, /^http:\/\/example\.invalid\/\S+: plain http:\/\/ sources are refused; use https:\/\/, or set the annotation krm\.kcl\.dev\/allow-insecure-source: "true" on the KCLRun$/);
    t.true(out.stdout.includes('name: data # a comment'), 'items are written back unchanged');
  });
}
