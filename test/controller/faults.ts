/**
 * Shared checks for the fault suite (faults-*.e2e.test.ts): the cluster exactly as Git says, the inventory exact.
 */
import type { ExecutionContext } from 'ava';
import type { ControlPlane } from '../harness/control-plane.js';
import type { KCLRun } from '../../controller/api/types.js';
import { getKCLRun, getObject } from './suite.js';

/** The inventory id of ConfigMap `name` in `ns`. */
export const configMapId = (ns: string, name: string) => `${ns}_${name}__ConfigMap`;

/** Names of the ConfigMaps in `ns`. */
export async function configMapNames(cp: ControlPlane, ns: string): Promise<string[]> {
  const list = await getObject<{ items: Array<{ metadata: { name: string } }> }>(cp, `/api/v1/namespaces/${ns}/configmaps`);
  return (list?.items ?? []).map((i) => i.metadata.name).sort();
}

/** Names `<prefix>-0` … `<prefix>-<n-1>`. */
export const names = (prefix: string, n: number, from = 0) => Array.from({ length: n }, (_, i) => `${prefix}-${i + from}`);

/** A map of ConfigMap name → data for {@link configMapsPackage}. */
export const maps = (list: readonly string[], v: string) => Object.fromEntries(list.map((n) => [n, { v }]));

/**
 * Asserts that `ns` holds exactly the ConfigMaps `expected`, each with data `v`, and that the KCLRun's inventory
 * lists exactly them, once each.
 */
export async function assertExact(t: ExecutionContext, cp: ControlPlane, ns: string, kclrun: string, expected: readonly string[], v: string): Promise<KCLRun> {
  const want = [...expected].sort();
  t.deepEqual(await configMapNames(cp, ns), want, 'the ConfigMaps in the cluster are exactly the rendered ones');
  const list = await getObject<{ items: Array<{ metadata: { name: string }; data?: Record<string, string> }> }>(cp, `/api/v1/namespaces/${ns}/configmaps`);
  t.deepEqual((list?.items ?? []).filter((i) => i.data?.v !== v).map((i) => i.metadata.name), [], `every ConfigMap carries v=${v}`);
  const k = await getKCLRun(cp, ns, kclrun);
  const ids = (k?.status?.inventory?.entries ?? []).map((e) => e.id);
  t.is(new Set(ids).size, ids.length, 'no duplicate inventory entry');
  t.deepEqual([...ids].sort(), want.map((n) => configMapId(ns, n)).sort(), 'the inventory is exactly the rendered objects');
  return k!;
}

/** Waits until at least `min` ConfigMaps exist in `ns` (an apply is under way); returns how many. */
export async function waitSomeApplied(cp: ControlPlane, ns: string, min: number, timeoutMs = 60_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const n = (await configMapNames(cp, ns)).length;
    if (n >= min) return n;
    if (Date.now() > deadline) throw new Error(`only ${n} ConfigMaps in ${ns} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
