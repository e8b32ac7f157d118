/**
 * The KCLRun function's behaviour, end to end on YAML text (in-process, real engine): what KCL sees (params,
 * items, resource_list), matchConstraints pass-through, how the output is merged back (one document with items,
 * several documents, a single resource), comments and kpt's internal annotations surviving a mutation, relative
 * sources, YAML streams with KCLRun documents, and failures (items unchanged, error results naming file:line, exit 1).
 */
import test from 'ava';
import { join } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { fn, tempDir, writeTree } from '../support/kclrun.js';

const ITEMS = `  - apiVersion: apps/v1
    kind: Deployment
    metadata:
      name: web # the web tier
      annotations:
        config.kubernetes.io/index: '0'
        config.kubernetes.io/path: 'deploy.yaml'
        internal.config.kubernetes.io/index: '0'
        internal.config.kubernetes.io/path: 'deploy.yaml'
        internal.config.kubernetes.io/id: '1'
        config.k8s.io/id: '1'
    spec:
      # how many pods
      replicas: 1
      template:
        spec:
          volumes:
          - name: cfg
            configMap:
              name: cfg
              defaultMode: 0644
  - apiVersion: v1
    kind: Service
    metadata:
      name: web
      annotations:
        internal.config.kubernetes.io/path: 'svc.yaml'
        internal.config.kubernetes.io/id: '2'
    spec:
      ports:
      - port: 80 # http
`;

function rl(spec: string, items = ITEMS): string {
  const indented = spec
    .trim()
    .split('\n')
    .map((l) => `    ${l}`)
    .join('\n');
  return `apiVersion: config.kubernetes.io/v1
kind: ResourceList
items:
${items}functionConfig:
  apiVersion: krm.kcl.dev/v1alpha1
  kind: KCLRun
  metadata:
    name: under-test
  spec:
${indented}
`;
}

/** `spec.source: |` followed by KCL code. */
function inline(code: string, more = ''): string {
  return `source: |\n${code
    .trim()
    .split('\n')
    .map((l) => `  ${l}`)
    .join('\n')}\n${more}`;
}

test('KCL sees params, items and resource_list', async (t) => {
  const out = await fn(
    rl(
      inline(
        `
_rl = option("resource_list")
items = [{
    apiVersion = "v1"
    kind = "ConfigMap"
    metadata.name = "seen"
    data = {
        param = option("params").greeting
        kinds = ",".join([i.kind for i in option("items")])
        rlKind = _rl.kind
        rlItems = str(len(_rl.items))
        fnConfig = _rl.functionConfig.metadata.name
    }
}]`,
        'params:\n  greeting: hello\n',
      ),
    ),
  );
  t.is(out.code, 0, JSON.stringify(out.results));
  const items = parse(out.stdout).items;
  t.deepEqual(items, [
    {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'seen' },
      data: { param: 'hello', kinds: 'Deployment,Service', rlKind: 'ResourceList', rlItems: '2', fnConfig: 'under-test' },
    },
  ]);
});

test('a mutation keeps comments, 0644 and kpt internal annotations, and the functionConfig is echoed', async (t) => {
  const out = await fn(rl(inline('items = [i | {metadata.labels.tier: "web"} for i in option("items")]')));
  t.is(out.code, 0, JSON.stringify(out.results));
  t.true(out.stdout.includes('name: web # the web tier'), out.stdout);
  t.regex(out.stdout, /# how many pods\n\s+replicas: 1\n/);
  t.true(out.stdout.includes('defaultMode: 0644'), out.stdout);
  t.true(out.stdout.includes('- port: 80 # http'), out.stdout);
  const list = parse(out.stdout);
  t.deepEqual(list.items[0].metadata.labels, { tier: 'web' });
  t.is(list.items[0].metadata.annotations['internal.config.kubernetes.io/path'], 'deploy.yaml');
  t.is(list.items[1].metadata.annotations['internal.config.kubernetes.io/id'], '2');
  t.is(list.functionConfig.metadata.name, 'under-test');
  t.is(list.results, undefined);
});

test('a comment before the first item of items: survives KCL rewriting that item', async (t) => {
  const out = await fn(rl(inline('items = [i | {metadata.labels.tier: "web"} for i in option("items")]'), `# the first item\n${ITEMS}`));
  t.is(out.code, 0, JSON.stringify(out.results));
  t.regex(out.stdout, /items:\n\s*- # the first item\n\s+apiVersion: apps\/v1\n/);
  t.deepEqual(parse(out.stdout).items[0].metadata.labels, { tier: 'web' });
});

test('items KCL rebuilds without annotations get kpt internal annotations back (matched by apiVersion/kind/namespace/name)', async (t) => {
  const out = await fn(
    rl(
      inline(`
items = [{
    apiVersion = i.apiVersion
    kind = i.kind
    metadata.name = i.metadata.name
    spec = i.spec
} for i in option("items")]`),
    ),
  );
  t.is(out.code, 0, JSON.stringify(out.results));
  const [deploy, svc] = parse(out.stdout).items;
  t.like(deploy.metadata.annotations, {
    'internal.config.kubernetes.io/path': 'deploy.yaml',
    'internal.config.kubernetes.io/index': '0',
    'internal.config.kubernetes.io/id': '1',
    'config.k8s.io/id': '1',
    'config.kubernetes.io/path': 'deploy.yaml',
  });
  t.like(svc.metadata.annotations, { 'internal.config.kubernetes.io/path': 'svc.yaml', 'internal.config.kubernetes.io/id': '2' });
});

test('matchConstraints: only matching items reach KCL; the others pass through unchanged', async (t) => {
  const out = await fn(
    rl(
      inline('items = [i | {spec.replicas = 3, metadata.annotations.seen = str(len(option("items")))} for i in option("items")]') +
        'matchConstraints:\n  resourceRules:\n  - apiVersions: [apps/v1]\n    kinds: [Deployment]\n',
    ),
  );
  t.is(out.code, 0, JSON.stringify(out.results));
  const items = parse(out.stdout).items;
  t.deepEqual(
    items.map((i: { kind: string }) => i.kind),
    ['Service', 'Deployment'],
    'pass-through items first, then what KCL returned',
  );
  t.is(items[1].spec.replicas, 3);
  t.is(items[1].metadata.annotations.seen, '1');
  t.deepEqual(items[0], { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', annotations: { 'internal.config.kubernetes.io/path': 'svc.yaml', 'internal.config.kubernetes.io/id': '2' } }, spec: { ports: [{ port: 80 }] } });
  t.true(out.stdout.includes('- port: 80 # http'));
});

test('output merge: one document with `items` → exactly those items (the function replaces the list)', async (t) => {
  const out = await fn(rl(inline('items = [i for i in option("items") if i.kind == "Service"]\nother = "not a resource"')));
  t.is(out.code, 0, JSON.stringify(out.results));
  t.deepEqual(
    parse(out.stdout).items.map((i: { kind: string }) => i.kind),
    ['Service'],
  );
});

test('output merge: several documents → each document is a resource', async (t) => {
  const out = await fn(
    rl(
      inline(`
import manifests
manifests.yaml_stream([
    {apiVersion = "v1", kind = "Namespace", metadata.name = "a"}
    {apiVersion = "v1", kind = "Namespace", metadata.name = "b"}
])`),
    ),
  );
  t.is(out.code, 0, JSON.stringify(out.results));
  t.deepEqual(
    parse(out.stdout).items.map((i: { metadata: { name: string } }) => i.metadata.name),
    ['a', 'b'],
  );
});

test('output merge: one document without `items` → a single resource', async (t) => {
  const out = await fn(rl(inline('apiVersion = "v1"\nkind = "Namespace"\nmetadata = {name = "only"}')));
  t.is(out.code, 0, JSON.stringify(out.results));
  t.deepEqual(parse(out.stdout).items, [{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'only' } }]);
});

test('output that is not a list of resources is an error, not dropped', async (t) => {
  const out = await fn(rl(inline('items = [1, 2]')));
  t.is(out.code, 1);
  t.is(out.results[0]!.message, 'KCL output item 0 is a number, not a resource');
});

test('an assert failure: items unchanged, one error result naming the inline source and line, exit 1', async (t) => {
  const input = rl(inline('a = 1\nassert len(option("items")) > 5, "need more than 5 items"\nitems = []'));
  const out = await fn(input);
  t.is(out.code, 1);
  t.deepEqual(out.results, [
    {
      severity: 'error',
      message: 'KCLRun/under-test (spec.source):2: EvaluationError: need more than 5 items',
      file: { path: 'KCLRun/under-test (spec.source)' },
    },
  ]);
  const list = parse(out.stdout);
  t.deepEqual(list.items, parse(input).items, 'items are written back as they came in');
  t.true(out.stdout.includes('name: web # the web tier'));
  t.is(list.results[0].severity, 'error');
});

test('errors in a local .k file name the file relative to the working directory, with line', async (t) => {
  const dir = writeTree(tempDir(), {
    'policy/main.k': 'items = option("items")\n\nassert all i in items { i.kind != "Service" }, "Services are not allowed"\n',
  });
  const out = await fn(rl('source: ./policy/main.k'), { cwd: dir });
  t.is(out.code, 1);
  t.is(out.results[0]!.message, 'policy/main.k:3:1: EvaluationError: Services are not allowed');
  t.deepEqual(out.results[0]!.file, { path: 'policy/main.k' });
});

test('a syntax error in the source is an error result with file and line', async (t) => {
  const out = await fn(rl(inline('a = 1\nb = \nitems = []')));
  t.is(out.code, 1);
  t.regex(out.results[0]!.message, /^KCLRun\/under-test \(spec\.source\):2:\d+: InvalidSyntax: /);
});

test('a schema check failure names the check condition', async (t) => {
  const out = await fn(
    rl(
      inline(`
schema Limits:
    replicas: int
    check:
        replicas <= 2, "at most 2 replicas"

items = [i for i in option("items") if Limits {replicas = i.spec?.replicas or 0}]`),
      ITEMS.replace('replicas: 1', 'replicas: 4'),
    ),
  );
  t.is(out.code, 1);
  t.regex(out.results[0]!.message, /Instance check failed/);
  t.regex(out.results[0]!.message, /\(spec\.source\):4: Check failed on the condition: at most 2 replicas/);
});

test('relative sources resolve against kpt package-path, else the working directory', async (t) => {
  const pkg = writeTree(tempDir(), { 'fn/main.k': 'items = [i | {metadata.labels.from: "package"} for i in option("items")]\n' });
  const elsewhere = tempDir();
  const withPath = rl('source: ./fn/main.k').replace(
    '    name: under-test\n',
    `    name: under-test\n    annotations:\n      internal.config.kubernetes.io/package-path: ${pkg}\n`,
  );
  const a = await fn(withPath, { cwd: elsewhere });
  t.is(a.code, 0, JSON.stringify(a.results));
  t.is(parse(a.stdout).items[0].metadata.labels.from, 'package');
  const b = await fn(rl('source: ./fn/main.k'), { cwd: pkg });
  t.is(b.code, 0, JSON.stringify(b.results));
  const c = await fn(rl('source: ./fn/main.k'), { cwd: elsewhere });
  t.is(c.code, 1);
  t.regex(c.results[0]!.message, /fn\/main\.k: no such file or directory/);
});

test('a source directory is rendered as a KCL package (kcl.mod entries)', async (t) => {
  const pkg = writeTree(tempDir(), {
    'kcl.mod': '[package]\nname = "labeler"\n\n[profile]\nentries = ["labels.k", "main.k"]\n',
    'labels.k': '_labels = {team = option("params").team}\n',
    'main.k': 'items = [i | {metadata.labels: _labels} for i in option("items")]\n',
  });
  const out = await fn(rl(`source: ${pkg}\nparams:\n  team: payments`));
  t.is(out.code, 0, JSON.stringify(out.results));
  t.deepEqual(parse(out.stdout).items[1].metadata.labels, { team: 'payments' });
});

test('spec.config: arguments, overrides, pathSelectors and sortKeys reach the engine', async (t) => {
  const code = `
_name = option("name")
config = {
    z = 1
    items = [{apiVersion = "v1", kind = "ConfigMap", metadata.name = _name, data = {replicas = str(replicas)}}]
}
replicas = 1`;
  const out = await fn(
    rl(
      inline(code) +
        'config:\n  arguments: [name=from-argument]\n  overrides: [replicas=7]\n  pathSelectors: [config]\n  sortKeys: true\n',
    ),
  );
  t.is(out.code, 0, JSON.stringify(out.results));
  t.deepEqual(parse(out.stdout).items, [{ apiVersion: 'v1', data: { replicas: '7' }, kind: 'ConfigMap', metadata: { name: 'from-argument' } }]);
});

test('print() output of the program does not reach stdout; it goes to the log', async (t) => {
  const logs: string[] = [];
  const out = await fn(rl(inline('print("debugging")\nitems = option("items")')), { log: (s) => logs.push(s) });
  t.is(out.code, 0);
  t.deepEqual(logs.map((l) => l.trim()), ['debugging']);
  t.false(/^debugging$/m.test(out.stdout));
  t.is(parse(out.stdout).items.length, 2);
});

test('a YAML stream: KCLRun documents are applied in order and removed from the output', async (t) => {
  const stream = `apiVersion: krm.kcl.dev/v1alpha1
kind: KCLRun
metadata:
  name: first
spec:
  source: |
    items = [i | {metadata.labels.step: "1"} for i in option("items")]
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: cfg # keep me
data:
  k: v
---
apiVersion: krm.kcl.dev/v1alpha1
kind: KCLRun
metadata:
  name: second
spec:
  source: |
    items = [i | {metadata.labels.after: i.metadata.labels.step} for i in option("items")]
`;
  const out = await fn(stream);
  t.is(out.code, 0, JSON.stringify(out.results));
  const docs = parseAllDocuments(out.stdout).map((d) => d.toJS());
  t.deepEqual(docs, [{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cfg', labels: { step: '1', after: '1' } }, data: { k: 'v' } }]);
  t.true(out.stdout.includes('name: cfg # keep me'));
});

test('a YAML stream whose second KCLRun fails: nothing partial, the input items come back unchanged', async (t) => {
  const stream = `apiVersion: krm.kcl.dev/v1alpha1
kind: KCLRun
metadata:
  name: first
spec:
  source: |
    items = [i | {metadata.labels.step: "1"} for i in option("items")]
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: cfg
---
apiVersion: krm.kcl.dev/v1alpha1
kind: KCLRun
metadata:
  name: second
spec:
  source: |
    assert False, "stop here"
`;
  const out = await fn(stream);
  t.is(out.code, 1);
  t.regex(out.results[0]!.message, /stop here/);
  t.deepEqual(
    parseAllDocuments(out.stdout).map((d) => d.toJS()),
    [{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cfg' } }],
  );
});

test('results already on the input ResourceList are kept', async (t) => {
  const input = rl(inline('items = option("items")')).replace(
    'functionConfig:',
    'results:\n- message: from an earlier step\n  severity: info\nfunctionConfig:',
  );
  const out = await fn(input);
  t.is(out.code, 0);
  t.deepEqual(parse(out.stdout).results, [{ message: 'from an earlier step', severity: 'info' }]);
});

test('items without metadata and with duplicate names survive a pass-through', async (t) => {
  const items = `  - kind: Service
    spec: {}
  - apiVersion: v1
    kind: ConfigMap
    metadata: {name: dup}
    data: {n: "1"}
  - apiVersion: v1
    kind: ConfigMap
    metadata: {name: dup}
    data: {n: "2"}
`;
  const out = await fn(rl(inline('items = option("items")'), items));
  t.is(out.code, 0, JSON.stringify(out.results));
  t.deepEqual(parse(out.stdout).items, parse(`items:\n${items}`).items);
});

test('a missing local source names the path', async (t) => {
  const dir = tempDir();
  const out = await fn(rl(`source: ${join(dir, 'nope.k')}`));
  t.is(out.code, 1);
  t.is(out.results[0]!.message, `${join(dir, 'nope.k')}: no such file or directory`);
});

test('a kpt validator config without package-path resolves its source against the package (its copy among the items, else the Kptfile)', async (t) => {
  const pkg = writeTree(tempDir(), { 'fns/check.k': 'items = [i | {metadata.labels.checked: "yes"} for i in option("items")]\n' });
  const annotations = (path: string) =>
    `    annotations:\n      internal.config.kubernetes.io/package-path: '${pkg}'\n      internal.config.kubernetes.io/path: '${path}'\n`;
  const kptfile = `  - apiVersion: kpt.dev/v1\n    kind: Kptfile\n    metadata:\n      name: pkg\n${annotations('Kptfile').replace(/^ {4}/gm, '      ')}`;
  const configCopy = `  - apiVersion: krm.kcl.dev/v1alpha1\n    kind: KCLRun\n    metadata:\n      name: under-test\n${annotations('check.yaml').replace(/^ {4}/gm, '      ')}    spec:\n      source: ./fns/check.k\n`;
  const cwd = tempDir();
  const withKptfile = await fn(rl('source: ./fns/check.k', kptfile), { cwd });
  t.is(withKptfile.code, 0, JSON.stringify(withKptfile.results));
  t.is(parse(withKptfile.stdout).items[0].metadata.labels.checked, 'yes');
  // The KCLRun copy resolves the source too, and (like krm-kcl) is not handed to KCL: it passes through unchanged.
  const withCopy = await fn(rl('source: ./fns/check.k', configCopy), { cwd });
  t.is(withCopy.code, 0, JSON.stringify(withCopy.results));
  t.is(parse(withCopy.stdout).items[0].metadata.labels, undefined);
});
