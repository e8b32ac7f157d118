import test from 'ava';
import { isClassKind, isClusterDefinition, kindsDefinedBy, stageObjects } from '../../../controller/ssa/index.js';
import type { JsonObject } from '../../../controller/ssa/index.js';

const o = (apiVersion: string, kind: string, name: string, namespace?: string): JsonObject => ({
  apiVersion,
  kind,
  metadata: namespace ? { name, namespace } : { name },
});
const names = (objs: JsonObject[]): string[] => objs.map((x) => `${x['kind']}/${(x['metadata'] as { name: string }).name}`);

test('stages: definitions, then classes, then the rest in Flux kind order', (t) => {
  const s = stageObjects([
    o('apps/v1', 'Deployment', 'web', 'a'),
    o('example.com/v1', 'Widget', 'w', 'a'),
    o('v1', 'ConfigMap', 'b', 'a'),
    o('v1', 'ConfigMap', 'a', 'a'),
    o('admissionregistration.k8s.io/v1', 'ValidatingWebhookConfiguration', 'hook'),
    o('rbac.authorization.k8s.io/v1', 'ClusterRole', 'cr'),
    o('storage.k8s.io/v1', 'StorageClass', 'fast'),
    o('v1', 'Namespace', 'a'),
    o('apiextensions.k8s.io/v1', 'CustomResourceDefinition', 'widgets.example.com'),
    o('v1', 'ServiceAccount', 'sa', 'a'),
    o('networking.k8s.io/v1', 'IngressClass', 'nginx'),
  ]);
  t.deepEqual(names(s.definitions), ['CustomResourceDefinition/widgets.example.com', 'Namespace/a', 'ClusterRole/cr']);
  t.deepEqual(names(s.classes), ['StorageClass/fast', 'IngressClass/nginx']);
  t.deepEqual(names(s.rest), [
    'ServiceAccount/sa',
    'ConfigMap/a',
    'ConfigMap/b',
    'Deployment/web',
    'Widget/w',
    'ValidatingWebhookConfiguration/hook',
  ]);
});

test('cluster definitions are matched by group as well as kind', (t) => {
  t.true(isClusterDefinition(o('v1', 'Namespace', 'x')));
  t.false(isClusterDefinition(o('example.com/v1', 'Namespace', 'x')));
  t.false(isClusterDefinition(o('rbac.authorization.k8s.io/v1', 'Role', 'x')));
  t.true(isClassKind(o('scheduling.k8s.io/v1', 'PriorityClass', 'x')));
  t.false(isClassKind(o('v1', 'ConfigMap', 'x')));
});

test('kindsDefinedBy lists every served version of the CRDs', (t) => {
  const crd: JsonObject = {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: 'widgets.example.com' },
    spec: { group: 'example.com', names: { kind: 'Widget' }, versions: [{ name: 'v1' }, { name: 'v2' }] },
  };
  t.deepEqual([...kindsDefinedBy([crd, o('v1', 'ConfigMap', 'c')])], ['example.com/v1|Widget', 'example.com/v2|Widget']);
});
