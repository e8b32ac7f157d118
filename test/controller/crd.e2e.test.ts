/**
 * CRD ↔ types against the real API server: the generated CRD is a valid structural schema and becomes Established;
 * the walk-through KCLRun (spec holding only sourceRef) is accepted and defaulted (interval 10m, prune true); a
 * KCLRun with every field of the TypeScript types round-trips unchanged (no field is pruned, so the schema covers the
 * types); invalid objects are rejected with the API's message; printer columns and the short name work in kubectl.
 */
import test from 'ava';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { newNamespace, useControlPlane } from '../harness/ava.js';
import type { KCLRun, KCLRunSpec } from '../../controller/api/types.js';
import { installKCLRunCRD } from './suite.js';

const run = promisify(execFile);
const cp = useControlPlane(test);
test.before('install the KCLRun CRD', async () => installKCLRunCRD(await cp.ready()));

const base = (ns: string) => `/apis/krm.kcl.dev.fluxcd/v1alpha1/namespaces/${ns}/kclruns`;
const create = (ns: string, name: string, spec: unknown) =>
  cp().request<KCLRun & { message?: string }>('POST', base(ns), { body: { apiVersion: 'krm.kcl.dev.fluxcd/v1alpha1', kind: 'KCLRun', metadata: { name }, spec } });

test('the CRD is structural, Established, and serves kclruns with short name kcl', async (t) => {
  const crd = await cp().request<{ status: { conditions: Array<{ type: string; status: string; message: string }>; acceptedNames: { shortNames: string[]; categories: string[] } } }>(
    'GET', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions/kclruns.krm.kcl.dev.fluxcd');
  t.true(crd.ok);
  const conds = crd.body.status.conditions;
  t.is(conds.find((c) => c.type === 'Established')?.status, 'True');
  t.is(conds.find((c) => c.type === 'NamesAccepted')?.status, 'True');
  t.is(conds.find((c) => c.type === 'NonStructuralSchema'), undefined, JSON.stringify(conds));
  t.deepEqual(crd.body.status.acceptedNames.shortNames, ['kcl']);
  const disco = await cp().request<{ resources: Array<{ name: string; shortNames?: string[]; namespaced: boolean }> }>('GET', '/apis/krm.kcl.dev.fluxcd/v1alpha1');
  const r = disco.body.resources.find((x) => x.name === 'kclruns');
  t.deepEqual(r?.shortNames, ['kcl']);
  t.true(r?.namespaced);
  t.truthy(disco.body.resources.find((x) => x.name === 'kclruns/status'));
});

test('the walk-through KCLRun (only sourceRef) is valid as written and defaulted', async (t) => {
  const ns = await newNamespace(cp(), 'walk');
  const res = await create(ns, 'flask-demo', { sourceRef: { kind: 'GitRepository', name: 'flask-demo' } });
  t.true(res.ok, res.text);
  t.deepEqual(res.body.spec, { sourceRef: { kind: 'GitRepository', name: 'flask-demo' }, interval: '10m', prune: true });
  const explicit = await create(ns, 'explicit', { sourceRef: { kind: 'OCIRepository', name: 'x' }, interval: '1m', prune: false });
  t.true(explicit.ok, explicit.text);
  t.is(explicit.body.spec.interval, '1m');
  t.is(explicit.body.spec.prune, false);
});

test('a KCLRun using every field of the types round-trips unchanged (the schema covers the types)', async (t) => {
  const ns = await newNamespace(cp(), 'full');
  const spec: Required<KCLRunSpec> = {
    sourceRef: { apiVersion: 'source.toolkit.fluxcd.io/v1', kind: 'Bucket', name: 'b', namespace: 'flux-system' },
    interval: '1h2m3.5s',
    retryInterval: '30s',
    timeout: '500ms',
    path: './deploy',
    prune: false,
    healthChecks: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', namespace: 'app' }],
    wait: true,
    dependsOn: [{ name: 'infra', namespace: 'flux-system' }],
    suspend: true,
    force: true,
    targetNamespace: 'app',
    serviceAccountName: 'deployer',
    kubeConfig: { secretRef: { name: 'remote', key: 'value.yaml' } },
    commonMetadata: { labels: { team: 'a' }, annotations: { note: 'x' } },
    config: {
      arguments: ['env=prod'], settings: ['kcl.yaml'], overrides: ['app.replicas=2'], pathSelectors: ['app'],
      vendor: true, sortKeys: true, showHidden: true, disableNone: true, debug: true, strictRangeCheck: true,
    },
    params: { replicas: 2, labels: { tier: 'web' }, ports: [80, 443], enabled: true },
    deletionPolicy: 'WaitForTermination',
    healthCheckExprs: [{ apiVersion: 'example.com/v1', kind: 'Widget', current: "status.phase == 'Ready'", inProgress: "status.phase == 'Pending'", failed: "status.phase == 'Failed'" }],
    argumentsReferences: [{ kind: 'ConfigMap', name: 'args', optional: true }, { kind: 'Secret', name: 'creds' }],
    registrySecretRef: { name: 'registry' },
  };
  const res = await create(ns, 'full', spec);
  t.true(res.ok, res.text);
  t.deepEqual(res.body.spec, spec);
  // status fields too, through the status subresource
  const status = {
    observedGeneration: 1,
    conditions: [{ type: 'Ready', status: 'True', observedGeneration: 1, lastTransitionTime: '2030-01-01T00:00:00Z', reason: 'ReconciliationSucceeded', message: 'Applied revision: main@sha1:1' }],
    lastAppliedRevision: 'main@sha1:1',
    lastAttemptedRevision: 'main@sha1:1',
    lastHandledReconcileAt: '2030-01-01T00:00:00Z',
    inventory: { entries: [{ id: `${ns}_a__ConfigMap`, v: 'v1' }] },
    history: [{
      digest: 'sha256:43ad78c94b2655429d84f21488f29d7cca9cd45b7f54d2b27e16bbec8eff9228',
      firstReconciled: '2030-01-01T00:00:00Z', lastReconciled: '2030-01-01T01:00:00Z', lastReconciledDuration: '2.818583s',
      lastReconciledStatus: 'ReconciliationSucceeded', totalReconciliations: 2, metadata: { revision: 'main@sha1:1' },
    }],
  };
  const patched = await cp().request<KCLRun>('PATCH', `${base(ns)}/full/status`, { body: { status }, contentType: 'application/merge-patch+json' });
  t.true(patched.ok, patched.text);
  t.deepEqual(patched.body.status, status);
});

const invalid: Array<[string, unknown, RegExp]> = [
  ['a bad interval', { sourceRef: { kind: 'GitRepository', name: 'x' }, interval: '10 minutes' }, /spec\.interval: Invalid value: "10 minutes": spec\.interval in body should match/],
  ['a day interval', { sourceRef: { kind: 'GitRepository', name: 'x' }, interval: '1d' }, /spec\.interval: Invalid value: "1d"/],
  ['a bad timeout', { sourceRef: { kind: 'GitRepository', name: 'x' }, timeout: '-5s' }, /spec\.timeout: Invalid value: "-5s"/],
  ['a bad sourceRef.kind', { sourceRef: { kind: 'HelmRepository', name: 'x' } }, /spec\.sourceRef\.kind: Unsupported value: "HelmRepository": supported values: "GitRepository", "OCIRepository", "Bucket"/],
  ['a missing sourceRef', { interval: '5m' }, /spec\.sourceRef: Required value/],
  ['a sourceRef without name', { sourceRef: { kind: 'GitRepository' } }, /spec\.sourceRef\.name: Required value/],
  ['an empty sourceRef.name', { sourceRef: { kind: 'GitRepository', name: '' } }, /spec\.sourceRef\.name: Invalid value: "": spec\.sourceRef\.name in body should be at least 1 chars long/],
  ['a bad argumentsReferences kind', { sourceRef: { kind: 'GitRepository', name: 'x' }, argumentsReferences: [{ kind: 'Pod', name: 'p' }] }, /spec\.argumentsReferences\[0\]\.kind: Unsupported value: "Pod"/],
  ['an unknown deletionPolicy', { sourceRef: { kind: 'GitRepository', name: 'x' }, deletionPolicy: 'Keep' }, /spec\.deletionPolicy: Unsupported value: "Keep"/],
  ['a healthCheckExprs entry without current', { sourceRef: { kind: 'GitRepository', name: 'x' }, healthCheckExprs: [{ apiVersion: 'a/v1', kind: 'K' }] }, /spec\.healthCheckExprs\[0\]\.current: Required value/],
  ['params that are not an object', { sourceRef: { kind: 'GitRepository', name: 'x' }, params: 'x' }, /spec\.params: Invalid value: "string"/],
  ['prune as a string', { sourceRef: { kind: 'GitRepository', name: 'x' }, prune: 'yes' }, /spec\.prune: Invalid value: "string": spec\.prune in body must be of type boolean/],
];
for (const [what, spec, message] of invalid) {
  test(`a KCLRun with ${what} is rejected with the API's message`, async (t) => {
    const ns = await newNamespace(cp(), 'invalid');
    const res = await create(ns, 'bad', spec);
    t.is(res.status, 422, res.text);
    t.regex(res.body.message ?? '', message);
  });
}

test('a status condition with an invalid reason is rejected by the schema', async (t) => {
  const ns = await newNamespace(cp(), 'status');
  t.true((await create(ns, 'app', { sourceRef: { kind: 'GitRepository', name: 'x' } })).ok);
  const res = await cp().request<{ message: string }>('PATCH', `${base(ns)}/app/status`, {
    body: { status: { conditions: [{ type: 'Ready', status: 'False', lastTransitionTime: '2030-01-01T00:00:00Z', reason: 'not a reason', message: 'x' }] } },
    contentType: 'application/merge-patch+json',
  });
  t.is(res.status, 422);
  t.regex(res.body.message, /status\.conditions\[0\]\.reason: Invalid value: "not a reason"/);
});

test('kubectl get kcl shows READY, STATUS and AGE columns', async (t) => {
  const ns = await newNamespace(cp(), 'columns');
  t.true((await create(ns, 'app', { sourceRef: { kind: 'GitRepository', name: 'x' } })).ok);
  t.true((await create(ns, 'pending', { sourceRef: { kind: 'GitRepository', name: 'y' } })).ok);
  const patched = await cp().request('PATCH', `${base(ns)}/app/status`, {
    body: { status: { conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: new Date().toISOString().replace(/\.\d+Z$/, 'Z'), reason: 'ReconciliationSucceeded', message: 'Applied revision: main@sha1:abc' }] } },
    contentType: 'application/merge-patch+json',
  });
  t.true(patched.ok);
  const { stdout } = await run('/usr/bin/kubectl', ['--kubeconfig', cp().kubeconfigPath, 'get', 'kcl', '-n', ns]);
  const lines = stdout.trimEnd().split('\n');
  t.regex(lines[0]!, /^NAME\s+AGE\s+READY\s+STATUS\s*$/);
  const app = lines.find((l) => l.startsWith('app '))!;
  t.regex(app, /^app\s+\d+s\s+True\s+Applied revision: main@sha1:abc$/);
  t.regex(lines.find((l) => l.startsWith('pending '))!, /^pending\s+\d+s\s*$/);
  // the full resource name and the category work too
  const full = await run('/usr/bin/kubectl', ['--kubeconfig', cp().kubeconfigPath, 'get', 'kclruns.krm.kcl.dev.fluxcd', '-n', ns, '-o', 'name']);
  t.deepEqual(full.stdout.trim().split('\n').sort(), ['kclrun.krm.kcl.dev.fluxcd/app', 'kclrun.krm.kcl.dev.fluxcd/pending']);
  const cat = await run('/usr/bin/kubectl', ['--kubeconfig', cp().kubeconfigPath, 'get', 'kcl', '-n', ns, '-o', 'name']);
  t.is(cat.stdout.trim().split('\n').length, 2);
});
