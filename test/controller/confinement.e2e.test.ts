/**
 * Hostile artifacts and Secrets on the real API server: a KCL package whose kcl.mod or settings reach outside the
 * artifact fails with BuildFailed naming the path, and a kubeconfig Secret holding a YAML alias bomb fails with
 * ReconciliationFailed at once — nothing applied in either case, and a plain KCLRun in the same run becomes Ready.
 */
import test from 'ava';
import { newNamespace } from '../harness/ava.js';
import { condition, configMapsPackage, createKCLRun, createObject, failedWith, getObject, gitRef, gitSource, readyAt, useController, waitKCLRun } from './suite.js';

const suite = useController(test);

/** Nine levels of nine aliases: 9^9 strings once expanded. */
function laughs(): string {
  const lines = ['  a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]'];
  for (const [p, c] of [...'abcdefgh'].map((p, i) => [p, 'bcdefghi'[i]!])) lines.push(`  ${c}: &${c} [${Array(9).fill(`*${p}`).join(', ')}]`);
  return lines.join('\n');
}

test('paths out of the artifact and a kubeconfig alias bomb fail their KCLRuns; a plain KCLRun still applies', async (t) => {
  const { cp } = suite();
  const ns = await newNamespace(cp, 'confine');
  const escape = configMapsPackage({ escaped: { v: '1' } }, { 'kcl.mod': '[package]\nname = "escape"\n\n[dependencies]\nhost = { path = "/etc" }\n' });
  await gitSource(cp, ns, 'escape', escape, 'main@sha1:1111111111111111111111111111111111111111');
  await createKCLRun(cp, ns, 'path-dep', { sourceRef: gitRef('escape') });
  const plain = await gitSource(cp, ns, 'plain', configMapsPackage({ plain: { v: '1' } }), 'main@sha1:2222222222222222222222222222222222222222');
  await createKCLRun(cp, ns, 'settings', { sourceRef: gitRef('plain'), config: { settings: ['/etc/passwd'] } });
  const kubeconfig = `apiVersion: v1\nkind: Config\nbomb:\n${laughs()}\nclusters:\n- name: c\n  cluster: {server: '${cp.server}'}\nusers:\n- name: u\n  user: {token: *i}\ncontexts:\n- name: x\n  context: {cluster: c, user: u}\ncurrent-context: x\n`;
  await createObject(cp, `/api/v1/namespaces/${ns}/secrets`, { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'remote' }, stringData: { value: kubeconfig } });
  await createKCLRun(cp, ns, 'bomb', { sourceRef: gitRef('plain'), kubeConfig: { secretRef: { name: 'remote' } } });
  await createKCLRun(cp, ns, 'control', { sourceRef: gitRef('plain') });

  const pathDep = await waitKCLRun(cp, ns, 'path-dep', failedWith('BuildFailed'));
  t.is(condition(pathDep, 'Ready')!.message, 'KCL build failed: kcl.mod: dependency "host": path /etc leads outside the artifact');
  const settings = await waitKCLRun(cp, ns, 'settings', failedWith('BuildFailed'));
  t.regex(condition(settings, 'Ready')!.message, /^KCL build failed: .*: settings file \/etc\/passwd leads outside the artifact$/);
  const bomb = await waitKCLRun(cp, ns, 'bomb', failedWith('ReconciliationFailed'));
  t.regex(condition(bomb, 'Ready')!.message, new RegExp(`^kubeconfig Secret '${ns}/remote' key 'value': document contains excessive aliasing`));
  await waitKCLRun(cp, ns, 'control', readyAt(plain.revision));
  t.truthy(await getObject(cp, `/api/v1/namespaces/${ns}/configmaps/plain`), 'the positive control applied');
  t.is(await getObject(cp, `/api/v1/namespaces/${ns}/configmaps/escaped`), undefined);
});
