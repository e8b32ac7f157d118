/**
 * Tenant boundary for names (issue 9), on the real API server with the controller running `--no-cross-namespace-refs`.
 * A tenant owns one namespace; another namespace holds a Secret `top` and a GitRepository `src` whose values must
 * never reach the tenant. For every name field of a KCLRun and every traversal variant (`../../other/secrets/top`,
 * `..`, `.`, `a/b`, `%2e%2e`, uppercase, over-long, empty):
 *  - the API server refuses the KCLRun (the CRD's patterns), naming the field;
 *  - a KCLRun stored under a schema without those rules (an older CRD) is refused by the controller: Stalled with
 *    reason InvalidSpec naming the field, nothing applied — while a valid KCLRun in the same run applies;
 *  - a KCL program that renders a traversal name or namespace fails the build and applies nothing.
 * Afterwards no foreign value is anywhere in the tenant's namespace.
 */
import test from 'ava';
import { newNamespace } from '../harness/ava.js';
import type { ControlPlane } from '../harness/control-plane.js';
import { waitFor } from '../harness/processes.js';
import { kclRunCRD, type Schema } from '../../controller/api/crd.js';
import type { KCLRunSpec } from '../../controller/api/types.js';
import { condition, createObject, failedWith, getObject, gitRef, gitSource, kclPackage, readyAt, useController, waitKCLRun } from './suite.js';

const suite = useController(test, { noCrossNamespaceRefs: true });

const FOREIGN = 'foreign-7c1e-top-secret';
const OWN = 'tenant-42aa-own-value';
const KCLRUNS = '/apis/krm.kcl.dev.fluxcd/v1alpha1';
const CRD_PATH = '/apis/apiextensions.k8s.io/v1/customresourcedefinitions/kclruns.krm.kcl.dev.fluxcd';

/** Renders ConfigMap `echo` carrying the `token` argument, so a Secret read by traversal would show up in it. */
const ECHO = kclPackage('items = [{apiVersion = "v1", kind = "ConfigMap", metadata.name = "echo", data.token = option("token") or "none"}]\n');

interface World {
  ns: string;
  other: string;
}

/** The tenant's namespace (Secret `mine`, GitRepository `repo`) and the foreign one (Secret `top`, GitRepository `src`). */
async function world(cp: ControlPlane, prefix: string): Promise<World> {
  const ns = await newNamespace(cp, prefix);
  const other = await newNamespace(cp, `${prefix}-other`);
  await createObject(cp, `/api/v1/namespaces/${other}/secrets`, { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'top' }, stringData: { token: FOREIGN, value: FOREIGN } });
  await createObject(cp, `/api/v1/namespaces/${other}/configmaps`, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'victim' }, data: { v: 'original' } });
  await gitSource(cp, other, 'src', kclPackage(`items = [{apiVersion = "v1", kind = "ConfigMap", metadata.name = "leaked", data.token = "${FOREIGN}"}]\n`), 'main@sha1:1111111111111111111111111111111111111111');
  await createObject(cp, `/api/v1/namespaces/${ns}/secrets`, { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'mine' }, stringData: { token: OWN } });
  return { ns, other };
}

/** One name field of the spec: where it is, whether it holds a namespace, and a spec with `v` in it. */
interface NameField {
  field: string;
  namespace: boolean;
  spec(v: string): KCLRunSpec;
}

const FIELDS: NameField[] = [
  { field: 'spec.sourceRef.name', namespace: false, spec: (v) => ({ sourceRef: { kind: 'GitRepository', name: v } }) },
  { field: 'spec.sourceRef.namespace', namespace: true, spec: (v) => ({ sourceRef: { kind: 'GitRepository', name: 'repo', namespace: v } }) },
  { field: 'spec.dependsOn[0].name', namespace: false, spec: (v) => ({ sourceRef: gitRef('repo'), dependsOn: [{ name: v }] }) },
  { field: 'spec.dependsOn[0].namespace', namespace: true, spec: (v) => ({ sourceRef: gitRef('repo'), dependsOn: [{ name: 'x', namespace: v }] }) },
  { field: 'spec.healthChecks[0].name', namespace: false, spec: (v) => ({ sourceRef: gitRef('repo'), healthChecks: [{ kind: 'Secret', name: v }] }) },
  { field: 'spec.healthChecks[0].namespace', namespace: true, spec: (v) => ({ sourceRef: gitRef('repo'), healthChecks: [{ kind: 'Secret', name: 'top', namespace: v }] }) },
  { field: 'spec.argumentsReferences[0].name', namespace: false, spec: (v) => ({ sourceRef: gitRef('repo'), argumentsReferences: [{ kind: 'Secret', name: v }] }) },
  { field: 'spec.serviceAccountName', namespace: false, spec: (v) => ({ sourceRef: gitRef('repo'), serviceAccountName: v }) },
  { field: 'spec.targetNamespace', namespace: true, spec: (v) => ({ sourceRef: gitRef('repo'), targetNamespace: v }) },
  { field: 'spec.kubeConfig.secretRef.name', namespace: false, spec: (v) => ({ sourceRef: gitRef('repo'), kubeConfig: { secretRef: { name: v } } }) },
  { field: 'spec.kubeConfig.configMapRef.name', namespace: false, spec: (v) => ({ sourceRef: gitRef('repo'), kubeConfig: { configMapRef: { name: v } } }) },
  { field: 'spec.registrySecretRef.name', namespace: false, spec: (v) => ({ sourceRef: gitRef('repo'), registrySecretRef: { name: v } }) },
];

/** A hostile KCLRun: the field it attacks and its spec. */
interface Case {
  field: string;
  value: string;
  spec: KCLRunSpec;
}

/** Every traversal variant for every name field, plus kinds outside their fixed sets. */
function cases(other: string): Case[] {
  const out: Case[] = [];
  for (const f of FIELDS) {
    const variants = [`../../${other}/secrets/top`, `../../${other}/gitrepositories/src`, '..', '.', 'a/b', '%2e%2e', 'Upper', 'x'.repeat(254), ''];
    if (f.namespace) variants.push('x'.repeat(64));
    for (const value of variants) out.push({ field: f.field, value, spec: f.spec(value) });
  }
  out.push({ field: 'spec.sourceRef.kind', value: 'Secret', spec: { sourceRef: { kind: 'Secret' as never, name: 'top', namespace: other } } });
  out.push({ field: 'spec.sourceRef.kind', value: 'constructor', spec: { sourceRef: { kind: 'constructor' as never, name: 'repo' } } });
  out.push({ field: 'spec.argumentsReferences[0].kind', value: 'Pod', spec: { sourceRef: gitRef('repo'), argumentsReferences: [{ kind: 'Pod' as never, name: 'x' }] } });
  return out;
}

const kclRun = (name: string, spec: KCLRunSpec) => ({ apiVersion: 'krm.kcl.dev.fluxcd/v1alpha1', kind: 'KCLRun', metadata: { name }, spec });
const postKCLRun = (cp: ControlPlane, ns: string, name: string, spec: KCLRunSpec, dryRun = false) =>
  cp.request('POST', `${KCLRUNS}/namespaces/${ns}/kclruns`, { body: kclRun(name, spec), ...(dryRun ? { query: { dryRun: 'All' } } : {}) });

/** The KCLRun CRD with every string rule of its spec removed: an "older schema" that stores hostile names. */
function laxCRD(): Record<string, unknown> {
  const crd = kclRunCRD() as { spec: { versions: Array<{ schema: { openAPIV3Schema: Schema } }> } };
  const strip = (s: Schema): void => {
    if (s.type === 'string') for (const k of ['pattern', 'minLength', 'maxLength', 'enum'] as const) delete s[k];
    for (const p of Object.values(s.properties ?? {})) strip(p);
    if (s.items) strip(s.items);
  };
  strip(crd.spec.versions[0]!.schema.openAPIV3Schema.properties!['spec']!);
  return crd as unknown as Record<string, unknown>;
}

/** Replaces the KCLRun CRD and waits until the API server validates with it (a dry-run create of `probe` tells). */
async function replaceCRD(cp: ControlPlane, crd: Record<string, unknown>, ns: string, probeAccepted: boolean): Promise<void> {
  const cur = await cp.request<{ metadata: { resourceVersion: string } }>('GET', CRD_PATH);
  const metadata = { ...(crd['metadata'] as object), resourceVersion: cur.body.metadata.resourceVersion };
  const res = await cp.request('PUT', CRD_PATH, { body: { ...crd, metadata } });
  if (!res.ok) throw new Error(`replace CRD: HTTP ${res.status}: ${res.text}`);
  await waitFor(async () => (await postKCLRun(cp, ns, 'probe', FIELDS[0]!.spec('..'), true)).ok === probeAccepted, {
    timeoutMs: 30_000,
    what: `KCLRun schema ${probeAccepted ? 'without' : 'with'} name rules in effect`,
  });
}

/** Everything in the tenant's ConfigMaps and Secrets (Secret data decoded), for a search for foreign values. */
async function tenantData(cp: ControlPlane, ns: string): Promise<string> {
  const cms = await getObject<{ items: Array<{ metadata: { name: string }; data?: Record<string, string> }> }>(cp, `/api/v1/namespaces/${ns}/configmaps`);
  const secrets = await getObject<{ items: Array<{ metadata: { name: string }; data?: Record<string, string> }> }>(cp, `/api/v1/namespaces/${ns}/secrets`);
  const decoded = (secrets?.items ?? []).map((s) => Object.values(s.data ?? {}).map((v) => Buffer.from(v, 'base64').toString('utf8')));
  return JSON.stringify([cms?.items ?? [], secrets?.items ?? [], decoded]);
}

async function assertNothingForeign(t: { false(v: boolean, m?: string): void; is(a: unknown, b: unknown, m?: string): void }, cp: ControlPlane, ns: string): Promise<void> {
  t.false((await tenantData(cp, ns)).includes(FOREIGN), `a foreign value reached ${ns}`);
  t.is(await getObject(cp, `/api/v1/namespaces/${ns}/configmaps/leaked`), undefined, 'the foreign source was applied');
}

test.serial('the API server refuses every traversal variant of every name field, naming the field', async (t) => {
  const { cp } = suite();
  const { ns, other } = await world(cp, 'names-api');
  const all = cases(other);
  const results = await Promise.all(all.map((c, i) => postKCLRun(cp, ns, `h${i}`, c.spec)));
  for (const [i, res] of results.entries()) {
    const c = all[i]!;
    t.is(res.status, 422, `${c.field}=${JSON.stringify(c.value.slice(0, 40))} was accepted: ${res.text.slice(0, 200)}`);
    t.true(res.text.includes(c.field), `${c.field}: ${res.text.slice(0, 300)}`);
  }
  const stored = await getObject<{ items: unknown[] }>(cp, `${KCLRUNS}/namespaces/${ns}/kclruns`);
  t.deepEqual(stored?.items, []);
});

test.serial('KCLRuns stored without the schema rules stall with InvalidSpec naming the field; a valid KCLRun applies; nothing foreign arrives', async (t) => {
  t.timeout(240_000);
  const { cp } = suite();
  const { ns, other } = await world(cp, 'names-ctl');
  const repo = await gitSource(cp, ns, 'repo', ECHO, 'main@sha1:2222222222222222222222222222222222222222');
  const all = cases(other);
  let phase = Date.now();
  await replaceCRD(cp, laxCRD(), ns, true);
  t.log(`lax schema in effect after ${Date.now() - phase} ms`);
  try {
    const started = Date.now();
    const created = await Promise.all(all.map((c, i) => postKCLRun(cp, ns, `h${i}`, c.spec)));
    for (const [i, res] of created.entries()) t.true(res.ok, `${all[i]!.field}: ${res.text.slice(0, 200)}`);
    // Positive control in the same run: the same source with a same-namespace Secret applies.
    const control = await postKCLRun(cp, ns, 'control', { sourceRef: gitRef('repo'), argumentsReferences: [{ kind: 'Secret', name: 'mine' }] });
    t.true(control.ok, control.text);

    await waitKCLRun(cp, ns, 'control', readyAt(repo.revision), 60_000);
    const echo = await getObject<{ data: Record<string, string> }>(cp, `/api/v1/namespaces/${ns}/configmaps/echo`);
    t.is(echo?.data.token, OWN);
    const stalled = await Promise.all(all.map((_, i) => waitKCLRun(cp, ns, `h${i}`, failedWith('InvalidSpec'), 60_000)));
    t.log(`${all.length} hostile KCLRuns stalled after ${Date.now() - started} ms`);
    for (const [i, c] of all.entries()) {
      const k = stalled[i]!;
      const message = condition(k, 'Ready')!.message;
      t.true(message.startsWith(`invalid ${c.field} `), `${c.field}=${JSON.stringify(c.value.slice(0, 40))}: ${message}`);
      t.like(condition(k, 'Stalled'), { status: 'True', reason: 'InvalidSpec' });
      t.is(k.status?.inventory, undefined, `${c.field}: something was applied`);
    }
    await assertNothingForeign(t, cp, ns);
    t.is((await getObject<{ data: Record<string, string> }>(cp, `/api/v1/namespaces/${ns}/configmaps/echo`))?.data.token, OWN);
  } finally {
    // Delete them while the lax schema still stores them (removing a finalizer rewrites the object).
    phase = Date.now();
    // The hostile ones applied nothing, so nothing needs pruning: release their finalizers rather than depend on
    // the controller. The control is deleted as a user would, and the controller prunes what it applied.
    await cp.request('DELETE', `${KCLRUNS}/namespaces/${ns}/kclruns/control`);
    await Promise.all(all.map(async (_, i) => {
      await cp.request('DELETE', `${KCLRUNS}/namespaces/${ns}/kclruns/h${i}`);
      await cp.request('PATCH', `${KCLRUNS}/namespaces/${ns}/kclruns/h${i}`, { body: { metadata: { finalizers: null } }, contentType: 'application/merge-patch+json' });
    }));
    await waitFor(async () => ((await getObject<{ items: unknown[] }>(cp, `${KCLRUNS}/namespaces/${ns}/kclruns`))?.items.length ?? 0) === 0, {
      timeoutMs: 60_000,
      what: 'hostile KCLRuns deleted',
    });
    t.log(`deleted after ${Date.now() - phase} ms`);
    phase = Date.now();
    await replaceCRD(cp, kclRunCRD(), ns, false);
    t.log(`strict schema back in effect after ${Date.now() - phase} ms`);
  }
});

test.serial('a KCL program rendering a traversal name, namespace or apiVersion fails the build and applies nothing', async (t) => {
  const { cp } = suite();
  const { ns, other } = await world(cp, 'names-render');
  const hostile: Array<[name: string, apiVersion: string, metadata: string, expected: RegExp]> = [
    ['name', 'v1', `{name = "../../${other}/configmaps/victim"}`, /invalid metadata\.name: may not contain '\/'/],
    ['dots', 'v1', '{name = ".."}', /invalid metadata\.name: may not be '\.\.'/],
    ['namespace', 'v1', `{name = "victim", namespace = "../${other}"}`, /invalid metadata\.namespace/],
    ['version', `x/../../api/v1/namespaces/${other}`, '{name = "victim"}', /invalid apiVersion/],
  ];
  const runs = await Promise.all(hostile.map(async ([name, apiVersion, metadata]) => {
    const main = `items = [
    {apiVersion = "v1", kind = "ConfigMap", metadata.name = "innocent-${name}", data.v = "1"}
    {apiVersion = "${apiVersion}", kind = "ConfigMap", metadata = ${metadata}, data.v = "overwritten"}
]
`;
    await gitSource(cp, ns, name, kclPackage(main), 'main@sha1:3333333333333333333333333333333333333333');
    await createObject(cp, `${KCLRUNS}/namespaces/${ns}/kclruns`, kclRun(name, { sourceRef: gitRef(name) }));
    return name;
  }));
  for (const [i, name] of runs.entries()) {
    const k = await waitKCLRun(cp, ns, name, failedWith('BuildFailed'));
    t.regex(condition(k, 'Ready')!.message, hostile[i]![3]);
    t.is(await getObject(cp, `/api/v1/namespaces/${ns}/configmaps/innocent-${name}`), undefined, 'an object of a failed build was applied');
  }
  t.is((await getObject<{ data: Record<string, string> }>(cp, `/api/v1/namespaces/${other}/configmaps/victim`))?.data.v, 'original');
  t.is(await getObject(cp, `/api/v1/namespaces/${ns}/configmaps/victim`), undefined);
  await assertNothingForeign(t, cp, ns);
  await Promise.all(runs.map((n) => cp.request('DELETE', `${KCLRUNS}/namespaces/${ns}/kclruns/${n}`)));
});
