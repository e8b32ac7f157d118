/**
 * `healthCheckExprs`: CEL expressions decide the health of a custom resource that kstatus takes as Current as soon as
 * it exists. Expressions from Flux's documentation work as written (`filter(...).all(...)`); `failed` fails fast;
 * a missing field waits (then times out); a KCLRun with an expression that does not parse is Stalled
 * (InvalidCELExpression) and applies nothing.
 */
import test from 'ava';
import { newNamespace } from '../harness/ava.js';
import type { ControlPlane } from '../harness/control-plane.js';
import { waitFor } from '../harness/processes.js';
import type { HealthCheckExpressions } from '../../controller/api/types.js';
import { condition, createKCLRun, createObject, failedWith, getObject, gitRef, gitSource, kclPackage, readyAt, requestReconcile, useController, waitKCLRun } from './suite.js';

const suite = useController(test);

const WIDGETS = '/apis/example.com/v1/namespaces';

// ava runs `before` hooks concurrently with the suite's: the CRD is installed on first use instead.
let widgetCRD: Promise<void> | undefined;
const ensureWidgetCRD = (cp: ControlPlane) => (widgetCRD ??= installWidgetCRD(cp));

async function installWidgetCRD(cp: ControlPlane): Promise<void> {
  await createObject(cp, '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: 'widgets.example.com' },
    spec: {
      group: 'example.com',
      names: { kind: 'Widget', plural: 'widgets', singular: 'widget', listKind: 'WidgetList' },
      scope: 'Namespaced',
      versions: [{
        name: 'v1', served: true, storage: true, subresources: { status: {} },
        schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } },
      }],
    },
  });
  await waitFor(async () => (await cp.request('GET', `${WIDGETS}/default/widgets`)).ok, { timeoutMs: 30_000, what: 'Widget served' });
}

const widgetPackage = kclPackage(`items = [{apiVersion = "example.com/v1", kind = "Widget", metadata.name = "w", spec.size = 1}]\n`);

const EXPRS: HealthCheckExpressions[] = [{
  apiVersion: 'example.com/v1',
  kind: 'Widget',
  current: "status.conditions.filter(e, e.type == 'Ready').all(e, e.status == 'True')",
  failed: "status.conditions.filter(e, e.type == 'Ready').all(e, e.status == 'False')",
}];

async function setWidgetStatus(cp: ControlPlane, ns: string, ready: 'True' | 'False'): Promise<void> {
  const res = await cp.request('PATCH', `${WIDGETS}/${ns}/widgets/w/status`, {
    contentType: 'application/merge-patch+json',
    body: { status: { conditions: [{ type: 'Ready', status: ready, reason: 'Test', message: 'set by the test' }] } },
  });
  if (!res.ok) throw new Error(`patch Widget status: HTTP ${res.status}: ${res.text}`);
}

test('without expressions kstatus takes the Widget as Current at once; with them it waits for the expression', async (t) => {
  const { cp } = suite();
  await ensureWidgetCRD(cp);
  const ns = await newNamespace(cp, 'cel');
  const art = await gitSource(cp, ns, 'repo', widgetPackage, 'main@sha1:1111111111111111111111111111111111111111');
  // Control: plain kstatus.
  await createKCLRun(cp, ns, 'plain', { sourceRef: gitRef('repo'), wait: true, timeout: '3s' });
  await waitKCLRun(cp, ns, 'plain', readyAt(art.revision));
  await cp.request('DELETE', `/apis/krm.kcl.dev.fluxcd/v1alpha1/namespaces/${ns}/kclruns/plain`);
  await waitFor(async () => !(await getObject(cp, `/apis/krm.kcl.dev.fluxcd/v1alpha1/namespaces/${ns}/kclruns/plain`)), { timeoutMs: 20_000, what: 'plain KCLRun gone' });

  // status.conditions does not exist yet: the expression cannot be evaluated, the check times out.
  await createKCLRun(cp, ns, 'app', { sourceRef: gitRef('repo'), wait: true, timeout: '3s', healthCheckExprs: EXPRS });
  let k = await waitKCLRun(cp, ns, 'app', failedWith('HealthCheckFailed'), 20_000);
  t.true(condition(k, 'Ready')!.message.includes(`Widget/${ns}/w status: 'Unknown'`), condition(k, 'Ready')!.message);

  await setWidgetStatus(cp, ns, 'True');
  const at = await requestReconcile(cp, ns, 'app');
  k = await waitKCLRun(cp, ns, 'app', (k) => readyAt(art.revision)(k) && k.status?.lastHandledReconcileAt === at, 20_000);
  t.is(condition(k, 'Healthy')?.status, 'True');

  // failed: true fails at once (well within a long timeout), as Failed.
  await setWidgetStatus(cp, ns, 'False');
  const at2 = await requestReconcile(cp, ns, 'app');
  const started = Date.now();
  k = await waitKCLRun(cp, ns, 'app', (k) => failedWith('HealthCheckFailed')(k) && k.status?.lastHandledReconcileAt === at2, 20_000);
  t.true(condition(k, 'Ready')!.message.includes(`Widget/${ns}/w status: 'Failed'`), condition(k, 'Ready')!.message);
  t.log(`Failed after ${Date.now() - started} ms`);
});

test('an expression that does not parse stalls the KCLRun (InvalidCELExpression) and applies nothing', async (t) => {
  const { cp } = suite();
  await ensureWidgetCRD(cp);
  const ns = await newNamespace(cp, 'celbad');
  await gitSource(cp, ns, 'repo', widgetPackage, 'main@sha1:2222222222222222222222222222222222222222');
  await createKCLRun(cp, ns, 'app', {
    sourceRef: gitRef('repo'),
    wait: true,
    healthCheckExprs: [{ apiVersion: 'example.com/v1', kind: 'Widget', current: "status.conditions.filter(e, e.type == 'Ready'" }],
  });
  const k = await waitKCLRun(cp, ns, 'app', (k) => condition(k, 'Stalled')?.status === 'True');
  t.is(condition(k, 'Ready')?.reason, 'InvalidCELExpression');
  t.regex(condition(k, 'Ready')!.message, /^invalid health check expression: healthCheckExprs\[0\]\.current: /);
  t.is(await getObject(cp, `${WIDGETS}/${ns}/widgets/w`), undefined);
});
