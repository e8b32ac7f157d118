// Shared by the controller benches: the compiled harness, a control plane with the Flux source and KCLRun CRDs, the
// controller as a process, and small figures helpers.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = (p) => import(join(root, 'dist', p));
export const { startControlPlane } = await dist('test/harness/control-plane.js');
export const { installFluxSourceCRDs, installFluxKustomizeCRDs } = await dist('test/harness/flux-crds.js');
export const { closeArtifactServer } = await dist('test/harness/artifact-server.js');
export const { startKustomizeController } = await dist('test/harness/kustomize-controller.js');
export const { freePort, waitFor } = await dist('test/harness/processes.js');
export const { newNamespace } = await dist('test/harness/ava.js');
export const suite = await dist('test/controller/suite.js');

/** The flags given as `--kclrun-flag=<flag>` (repeatable) on the command line, for the kclrun controller. */
export const kclrunFlags = () => process.argv.filter((a) => a.startsWith('--kclrun-flag=')).map((a) => a.slice('--kclrun-flag='.length));

/** Median (mean of the middle two for an even count). */
export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

let revisionCounter = 0;
/** A new Git revision each call. */
export const nextRevision = () => `main@sha1:${(++revisionCounter).toString(16).padStart(40, '0')}`;

/** A control plane with the Flux source CRDs and the KCLRun CRD installed. */
export async function controlPlane() {
  const cp = await startControlPlane();
  await installFluxSourceCRDs(cp);
  await suite.installKCLRunCRD(cp);
  return cp;
}

/** `bin/kclrun controller` as a process against `cp` with `args`, once /readyz answers. */
export async function startController(cp, args = [], env = {}) {
  const [health, metrics] = [await freePort(), await freePort()];
  const controller = suite.startControllerProcess(
    ['--kubeconfig', cp.kubeconfigPath, '--health-addr', `127.0.0.1:${health}`, '--metrics-addr', `127.0.0.1:${metrics}`, ...args],
    { KUBECONFIG: '', ...env },
  );
  await waitFor(async () => (await suite.httpGet(health, '/readyz')).status === 200, { what: 'kclrun controller /readyz', timeoutMs: 60_000 }).catch(async (err) => {
    await controller.stop('SIGKILL');
    throw err;
  });
  return controller;
}

/**
 * True when every KCLRun / Kustomization at `listPath` named `app-<i>` has applied `revs[i]` (status.lastAppliedRevision,
 * set with Ready=True at the end of a successful reconcile; Ready turns Unknown again while a later reconcile runs).
 */
export const appliedAll = (cp, listPath, revs) => async () => {
  const res = await cp.request('GET', listPath);
  if (!res.ok) return false;
  const byName = new Map(res.body.items.map((k) => [k.metadata.name, k]));
  return revs.every((rev, i) => byName.get(`app-${i}`)?.status?.lastAppliedRevision === rev);
};
