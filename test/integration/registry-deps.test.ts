/**
 * examples/registry-deps end to end: its schema package (examples/registry-deps/packages/k8s-lite) is pushed with
 * oras to a loopback registry as `kcl-lang/k8s-lite:0.1.0`, then the example renders with `kclrun render`
 * (`KPM_REG`/`KPM_REPO` pointing at the registry), its shipped kcl.mod.lock is what `kclrun mod update` writes (and
 * so what kpm writes), and the example itself, pushed as a package, runs under the real `kpt fn eval` as a KRM
 * function from an `oci://127.0.0.1:<port>/…` source.
 */
import test from 'ava';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { hashDir } from '../../fn/package/dir-hash.js';
import { orasPushPackage } from '../harness/oras.js';
import { startRegistry, type Registry } from '../harness/registry.js';
import { copyExample, EXAMPLES, KCLRUN_FN, kclrun, kpt, tempDir, writeTree } from '../support/kclrun.js';

const EXAMPLE = join(EXAMPLES, 'registry-deps');
const SCHEMAS = join(EXAMPLE, 'packages', 'k8s-lite');
/** The registry the shipped kcl.mod.lock names (examples/README.md starts one there). */
const SHIPPED_REG = 'localhost:5001';

let registry: Registry;
test.before(async () => {
  registry = await startRegistry();
  await orasPushPackage(registry.host, 'kcl-lang/k8s-lite', '0.1.0', SCHEMAS, { name: 'k8s-lite', version: '0.1.0', sum: hashDir(SCHEMAS) });
  await orasPushPackage(registry.host, 'kcl-lang/registry-deps', '0.1.0', EXAMPLE, { name: 'registry-deps', version: '0.1.0', sum: hashDir(EXAMPLE) });
});
test.after.always(async () => {
  await registry?.close();
});

const envFor = (cache: string) => ({ ...process.env, KCL_PKG_PATH: cache, KPM_REG: registry.host, KPM_REPO: 'kcl-lang' });

const DEPLOYMENT = {
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'web', labels: { app: 'web' } },
  spec: {
    replicas: 2,
    selector: { matchLabels: { app: 'web' } },
    template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'nginx:1.27' }] } },
  },
};

test('kclrun render examples/registry-deps fetches k8s-lite from the registry, checked against the shipped lock', (t) => {
  const cache = tempDir();
  const dir = copyExample('registry-deps');
  const r = kclrun(['render', dir], { env: envFor(cache) });
  t.is(r.stderr, '');
  t.is(r.code, 0);
  t.deepEqual(parseAllDocuments(r.stdout).map((d) => d.toJS()), [DEPLOYMENT], 'kclrun render prints items as a YAML stream');
  t.is(readFileSync(join(cache, 'k8s-lite_0.1.0', 'kcl.mod'), 'utf8'), readFileSync(join(SCHEMAS, 'kcl.mod'), 'utf8'), "kpm's cache layout");
  // The shipped lock's sum binds the package: a changed schema file is refused, naming it.
  writeFileSync(join(cache, 'k8s-lite_0.1.0', 'apps', 'v1', 'deployment.k'), 'schema Deployment:\n    x: int = 1\n');
  const tampered = kclrun(['render', dir], { env: envFor(cache) });
  t.is(tampered.code, 1);
  t.regex(tampered.stderr, new RegExp(`dependency "k8s-lite": checksum mismatch .*expected ${hashDir(SCHEMAS).replace(/[+/]/g, '\\$&')}, found `));
});

test('the shipped kcl.mod.lock is what kclrun mod update (kpm\'s format) writes', (t) => {
  const dir = copyExample('registry-deps');
  rmSync(join(dir, 'kcl.mod.lock'));
  const r = kclrun(['mod', 'update', dir], { env: envFor(tempDir()) });
  t.is(r.code, 0, r.stderr);
  const shipped = readFileSync(join(EXAMPLE, 'kcl.mod.lock'), 'utf8');
  t.true(shipped.includes(`reg = "${SHIPPED_REG}"`));
  t.is(readFileSync(join(dir, 'kcl.mod.lock'), 'utf8'), shipped.replace(SHIPPED_REG, registry.host));
});

test('kpt fn eval runs the example from oci://127.0.0.1:<port>/kcl-lang/registry-deps:0.1.0, its own dependency fetched too', (t) => {
  const root = tempDir('kclrun-kpt-');
  const svc = 'apiVersion: v1\nkind: Service\nmetadata:\n  name: web # kept\nspec:\n  ports:\n  - port: 80\n';
  const pkg = writeTree(join(root, 'pkg'), { 'svc.yaml': svc });
  writeTree(root, {
    'kclrun.yaml': `apiVersion: krm.kcl.dev/v1alpha1
kind: KCLRun
metadata:
  name: registry-deps
spec:
  source: oci://${registry.host}/kcl-lang/registry-deps:0.1.0
  params:
    name: api
    replicas: 3
`,
  });
  const r = kpt(['fn', 'eval', 'pkg', '--exec', KCLRUN_FN, '--fn-config', 'kclrun.yaml'], root, envFor(tempDir()));
  t.is(r.code, 0, r.stderr);
  t.is(readFileSync(join(pkg, 'svc.yaml'), 'utf8'), svc, 'the input resource is unchanged');
  const added = readdirSync(pkg).filter((f) => f !== 'svc.yaml');
  t.is(added.length, 1, `one new file for the Deployment: ${added.join(', ')}`);
  const deployment = parse(readFileSync(join(pkg, added[0]!), 'utf8')) as typeof DEPLOYMENT;
  t.is(deployment.kind, 'Deployment');
  t.is(deployment.metadata.name, 'api');
  t.is(deployment.spec.replicas, 3);
  t.deepEqual(deployment.spec.template.spec.containers, [{ name: 'api', image: 'nginx:1.27' }]);
});
