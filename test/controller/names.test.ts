/**
 * Name rules of a KCLRun (pure): every name field of the spec refuses each traversal variant both in the CRD schema
 * (its pattern/maxLength, checked here with the schema's own regex) and in the reconciler's check, which names the
 * field; every name-like field of the schema has a rule; rendered objects whose apiVersion, name or namespace
 * cannot address them fail preparation (so the build fails before anything is applied).
 */
import test from 'ava';
import { kclRunCRD, type Schema } from '../../controller/api/crd.js';
import { NAME_RULES, nameRuleProblem, specNameProblem, specNames } from '../../controller/api/names.js';
import type { KCLRunSpec } from '../../controller/api/types.js';
import { prepareObjects } from '../../controller/stages/prepare.js';
import type { KCLRun } from '../../controller/api/types.js';
import type { JsonObject } from '../../krm/index.js';

/** The traversal and malformed variants every name field must refuse. */
const BAD_NAMES = ['../../other/secrets/top', '..', '.', 'a/b', '%2e%2e', 'Upper', 'x'.repeat(254), ''];

/** A spec with every name field set to a valid value. */
const VALID: KCLRunSpec = {
  sourceRef: { apiVersion: 'source.toolkit.fluxcd.io/v1', kind: 'GitRepository', name: 'repo', namespace: 'team' },
  dependsOn: [{ name: 'infra', namespace: 'team' }],
  healthChecks: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', namespace: 'team' }],
  argumentsReferences: [{ kind: 'Secret', name: 'creds' }],
  serviceAccountName: 'deployer',
  targetNamespace: 'apps',
  kubeConfig: { secretRef: { name: 'remote', key: 'value.yaml' } },
  registrySecretRef: { name: 'registry' },
};

/** Each name field: its path in the spec and a setter producing a spec with `v` there. */
const NAME_FIELDS: Array<[string, (v: string) => KCLRunSpec]> = [
  ['spec.sourceRef.name', (v) => ({ ...VALID, sourceRef: { ...VALID.sourceRef, name: v } })],
  ['spec.sourceRef.namespace', (v) => ({ ...VALID, sourceRef: { ...VALID.sourceRef, namespace: v } })],
  ['spec.dependsOn[0].name', (v) => ({ ...VALID, dependsOn: [{ name: v }] })],
  ['spec.dependsOn[0].namespace', (v) => ({ ...VALID, dependsOn: [{ name: 'infra', namespace: v }] })],
  ['spec.healthChecks[0].name', (v) => ({ ...VALID, healthChecks: [{ kind: 'Deployment', name: v }] })],
  ['spec.healthChecks[0].namespace', (v) => ({ ...VALID, healthChecks: [{ kind: 'Deployment', name: 'web', namespace: v }] })],
  ['spec.argumentsReferences[0].name', (v) => ({ ...VALID, argumentsReferences: [{ kind: 'Secret', name: v }] })],
  ['spec.serviceAccountName', (v) => ({ ...VALID, serviceAccountName: v })],
  ['spec.targetNamespace', (v) => ({ ...VALID, targetNamespace: v })],
  ['spec.kubeConfig.secretRef.name', (v) => ({ ...VALID, kubeConfig: { secretRef: { name: v } } })],
  ['spec.kubeConfig.configMapRef.name', (v) => ({ ...VALID, kubeConfig: { configMapRef: { name: v } } })],
  ['spec.registrySecretRef.name', (v) => ({ ...VALID, registrySecretRef: { name: v } })],
];

test('a spec with valid names passes; every name field is covered by the check', (t) => {
  t.is(specNameProblem(VALID), undefined);
  const checked = new Set([...specNames(VALID), ...specNames({ ...VALID, kubeConfig: { configMapRef: { name: 'remote' } } })].map((n) => n.field));
  for (const [field] of NAME_FIELDS) t.true(checked.has(field), field);
});

for (const [field, withName] of NAME_FIELDS) {
  test(`${field}: every traversal variant is refused by the reconciler's check, naming the field`, (t) => {
    for (const bad of BAD_NAMES) {
      if (bad.length === 254 && !field.endsWith('.name') && !field.endsWith('Name')) continue; // namespaces: see below
      const problem = specNameProblem(withName(bad));
      t.truthy(problem, `${field} = ${JSON.stringify(bad)} was accepted`);
      t.true(problem?.startsWith(`invalid ${field} `), problem);
    }
    if (!field.endsWith('.name') && !field.endsWith('Name')) t.truthy(specNameProblem(withName('x'.repeat(64))), 'a 64-character namespace');
  });
}

test('kinds are fixed sets or follow the kind rule; apiVersions the apiVersion rule; the secret key the data-key rule', (t) => {
  t.regex(specNameProblem({ ...VALID, sourceRef: { ...VALID.sourceRef, kind: 'Secret' as never } }) ?? '', /spec\.sourceRef\.kind .*one of GitRepository, OCIRepository, Bucket/);
  t.regex(specNameProblem({ ...VALID, argumentsReferences: [{ kind: 'Pod' as never, name: 'x' }] }) ?? '', /spec\.argumentsReferences\[0\]\.kind/);
  t.regex(specNameProblem({ ...VALID, argumentsReferences: [{ name: 'x' } as never] }) ?? '', /spec\.argumentsReferences\[0\]\.kind is required/);
  t.regex(specNameProblem({ ...VALID, healthChecks: [{ kind: '../x', name: 'web' }] }) ?? '', /spec\.healthChecks\[0\]\.kind/);
  t.regex(specNameProblem({ ...VALID, healthChecks: [{ apiVersion: 'a/../../api/v1', kind: 'Pod', name: 'web' }] }) ?? '', /spec\.healthChecks\[0\]\.apiVersion/);
  t.regex(specNameProblem({ ...VALID, sourceRef: { ...VALID.sourceRef, apiVersion: '../v1' } }) ?? '', /spec\.sourceRef\.apiVersion/);
  for (const key of ['__proto__/x', '..', '.', '..x', 'a/b', '']) {
    t.regex(specNameProblem({ ...VALID, kubeConfig: { secretRef: { name: 'remote', key } } }) ?? '', /spec\.kubeConfig\.secretRef\.key/, key);
  }
  t.regex(specNameProblem({ ...VALID, sourceRef: { kind: 'GitRepository' } as never }) ?? '', /spec\.sourceRef\.name is required/);
  t.regex(specNameProblem({ ...VALID, serviceAccountName: 7 as never }) ?? '', /spec\.serviceAccountName "7": must be a string/);
});

test('the message shortens a long value', (t) => {
  const problem = specNameProblem({ ...VALID, serviceAccountName: 'x'.repeat(10_000) })!;
  t.true(problem.length < 400, problem);
});

/** The string schemas of `schema`'s subtree, keyed by their dotted path. */
function stringSchemas(schema: Schema, path: string, out: Map<string, Schema>): Map<string, Schema> {
  if (schema.type === 'string') out.set(path, schema);
  for (const [k, s] of Object.entries(schema.properties ?? {})) stringSchemas(s, `${path}.${k}`, out);
  if (schema.items) stringSchemas(schema.items, `${path}[0]`, out);
  return out;
}

const specSchema = () => {
  const crd = kclRunCRD() as { spec: { versions: Array<{ schema: { openAPIV3Schema: Schema } }> } };
  return crd.spec.versions[0]!.schema.openAPIV3Schema.properties!['spec']!;
};

test('every name-like field of the CRD spec has a pattern and maxLength, or an enum', (t) => {
  const strings = stringSchemas(specSchema(), 'spec', new Map());
  const nameLike = [...strings].filter(([p]) => /(name|namespace|Name|Namespace|apiVersion|kind|key)$/.test(p));
  t.is(nameLike.length, 20, nameLike.map(([p]) => p).join(', '));
  for (const [p, s] of nameLike) {
    t.true(!!s.enum || (!!s.pattern && !!s.maxLength && s.minLength === 1), `${p} has no rule`);
  }
});

test("the CRD's own patterns refuse every variant for every name field (what the API server enforces)", (t) => {
  const strings = stringSchemas(specSchema(), 'spec', new Map());
  for (const [field] of NAME_FIELDS) {
    const s = strings.get(field.replace(/\[\d+\]/g, '[0]'));
    t.truthy(s?.pattern, field);
    const accepts = (v: string) => new RegExp(s!.pattern!).test(v) && v.length >= (s!.minLength ?? 0) && v.length <= (s!.maxLength ?? Infinity);
    t.true(accepts(field.includes('amespace') ? 'a-b' : 'a-b.c'), `${field} refuses a valid name`);
    for (const bad of [...BAD_NAMES, 'x'.repeat(64)]) {
      if (bad.length === 64 && !field.includes('amespace')) continue;
      t.false(accepts(bad), `${field} accepts ${JSON.stringify(bad.slice(0, 20))}`);
    }
  }
});

test('the rules accept what Kubernetes accepts', (t) => {
  for (const v of ['a', 'web-1', 'a.b.c', 'x'.repeat(253), '0abc']) t.is(nameRuleProblem('objectName', v), undefined, v);
  for (const v of ['a', 'kube-system', 'x'.repeat(63)]) t.is(nameRuleProblem('namespace', v), undefined, v);
  for (const v of ['v1', 'apps/v1', 'source.toolkit.fluxcd.io/v1beta2', 'kustomize.config.k8s.io/v1alpha1']) t.is(nameRuleProblem('apiVersion', v), undefined, v);
  for (const v of ['Deployment', 'ConfigMap', 'HelmRelease']) t.is(nameRuleProblem('kind', v), undefined, v);
  for (const v of ['value', 'value.yaml', '.dotfile', 'a_b-c']) t.is(nameRuleProblem('dataKey', v), undefined, v);
  t.is(NAME_RULES.namespace.maxLength, 63);
  t.is(NAME_RULES.objectName.maxLength, 253);
});

const owner: KCLRun = { apiVersion: 'krm.kcl.dev.fluxcd/v1alpha1', kind: 'KCLRun', metadata: { name: 'app', namespace: 'team' }, spec: { sourceRef: { kind: 'GitRepository', name: 'repo' } } };
const cm = (metadata: JsonObject, apiVersion = 'v1'): JsonObject => ({ apiVersion, kind: 'ConfigMap', metadata: { ...metadata }, data: { v: '1' } });

test('rendered objects with a name, namespace or apiVersion that cannot address them fail preparation; a valid one in the same set passes alone', async (t) => {
  const namespaced = async () => true;
  const valid = cm({ name: 'ok' });
  t.true((await prepareObjects(owner, [valid], namespaced)).ok, 'positive control');
  const hostile = [
    cm({ name: '../../other/configmaps/x' }),
    cm({ name: '..' }),
    cm({ name: '.' }),
    cm({ name: 'a%2fb' }),
    cm({ name: 'ok', namespace: '..' }),
    cm({ name: 'ok', namespace: 'Other' }),
    cm({ name: 'ok', namespace: '../../api/v1/namespaces/other' }),
    cm({ name: 'ok' }, 'a/../../api/v1'),
    cm({ name: 'ok' }, '%2e%2e/v1'),
  ];
  for (const obj of hostile) {
    const res = await prepareObjects(owner, [valid, obj], namespaced);
    t.false(res.ok, JSON.stringify(obj.metadata));
    if (!res.ok) t.regex(res.message, /^rendered object 1 \(ConfigMap .*\): invalid (metadata\.name|metadata\.namespace|apiVersion): /);
  }
});
