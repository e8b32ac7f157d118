/**
 * kclrun under a real standalone kustomize v5 (built from sigs.k8s.io/kustomize/kustomize/v5 by the test tools
 * set-up, found with `toolPath('kustomize')`; if it is missing the tests fail, never skip):
 * `kustomize build --enable-alpha-plugins --enable-exec DIR` with a KCL generator and a KCL transformer declared by
 * `config.kubernetes.io/function: {exec: {path: ./kclrun-fn.sh}}` — a wrapper script beside the kustomization that
 * execs bin/kclrun-fn. kustomize runs exec functions in the kustomization's directory, so the KCLRun sources
 * (`./fns/...`) are relative to it.
 */
import test from 'ava';
import { chmodSync, cpSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { toolPath } from '../harness/tools.js';
import { EXAMPLES, KCLRUN_FN, run, tempDir, writeTree, type Ran } from '../support/kclrun.js';

function kustomize(args: string[], cwd: string): Ran {
  return run(toolPath('kustomize'), args, { cwd });
}

const function_annotation = '    config.kubernetes.io/function: |\n      exec:\n        path: ./kclrun-fn.sh\n';

/** A kustomization with a plain resource, the web-service generator and a transformer (set-annotations or replica-limits). */
function kustomization(transformer: 'set-annotations' | 'replica-limits', params: string): string {
  const dir = tempDir('kclrun-kustomize-');
  writeTree(dir, {
    'kustomization.yaml': `apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
namespace: shop
resources:
- configmap.yaml
generators:
- generator.yaml
transformers:
- transformer.yaml
`,
    'configmap.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings # shop settings\ndata:\n  mode: production\n',
    'generator.yaml': `apiVersion: krm.kcl.dev/v1alpha1
kind: KCLRun
metadata:
  name: web-service
  annotations:
${function_annotation}spec:
  source: ./fns/web-service/main.k
  params:
    name: web
    image: nginx:1.27
    replicas: 3
    ports:
    - port: 80
      targetPort: 8080
`,
    'transformer.yaml': `apiVersion: krm.kcl.dev/v1alpha1
kind: KCLRun
metadata:
  name: ${transformer}
  annotations:
${function_annotation}spec:
  source: ./fns/${transformer}/main.k
  params:
${params}`,
    'kclrun-fn.sh': `#!/bin/sh\n# kustomize calls exec functions by path, without arguments\nexec "${KCLRUN_FN}" "$@"\n`,
  });
  chmodSync(join(dir, 'kclrun-fn.sh'), 0o755);
  for (const ex of ['abstraction/web-service', 'mutation/set-annotations', 'validation/replica-limits']) {
    cpSync(join(EXAMPLES, ex), join(dir, 'fns', ex.split('/')[1]!), { recursive: true, filter: (src) => !src.includes('/suite') });
  }
  return dir;
}

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

test('kustomize build --enable-exec: a KCL generator and a KCL transformer', (t) => {
  const dir = kustomization('set-annotations', '    annotations:\n      owner: platform\n');
  const r = kustomize(['build', '--enable-alpha-plugins', '--enable-exec', '.'], dir);
  t.is(r.code, 0, r.stderr);
  const out = parseAllDocuments(r.stdout).map((d) => d.toJS() as Obj);
  const byId = Object.fromEntries(out.map((o) => [`${o.kind}/${o.metadata.name}`, o]));
  t.deepEqual(Object.keys(byId).sort(), ['ConfigMap/settings', 'Deployment/web', 'Service/web']);
  for (const o of out) {
    t.is(o.metadata.namespace, 'shop', `${o.kind}: kustomize's namespace applies to generated resources too`);
    t.deepEqual(o.metadata.annotations, { owner: 'platform' }, `${o.kind}: transformed, with no bookkeeping annotations left`);
  }
  t.like(byId['Deployment/web'], { spec: { replicas: 3, template: { spec: { containers: [{ name: 'web', image: 'nginx:1.27' }] } } } });
  t.deepEqual(byId['Service/web']!.spec.ports, [{ port: 80, targetPort: 8080, protocol: 'TCP' }]);
  t.deepEqual(byId['ConfigMap/settings']!.data, { mode: 'production' });
});

test('kustomize build --enable-exec: a failing KCL transformer fails the build with its file:line', (t) => {
  const dir = kustomization('replica-limits', '    min: 1\n    max: 2\n');
  const r = kustomize(['build', '--enable-alpha-plugins', '--enable-exec', '.'], dir);
  t.not(r.code, 0);
  t.is(r.stdout, '');
  t.regex(r.stderr, /fns\/replica-limits\/main\.k:17(:\d+)?: EvaluationError: Deployment\/web: replicas 3 is outside the allowed range 1\.\.2/);
});

test('kustomize build --enable-exec: a passing KCL validator as a transformer leaves the resources alone', (t) => {
  const dir = kustomization('replica-limits', '    min: 1\n    max: 5\n');
  const r = kustomize(['build', '--enable-alpha-plugins', '--enable-exec', '.'], dir);
  t.is(r.code, 0, r.stderr);
  const kinds = parseAllDocuments(r.stdout).map((d) => (d.toJS() as Obj).kind);
  t.deepEqual(kinds.sort(), ['ConfigMap', 'Deployment', 'Service']);
});
