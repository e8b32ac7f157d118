#!/usr/bin/env node
// Parallel rendering: N KCLRuns (default 100) whose programs each take about half a second of engine time (a
// recursive fib), created at once against a real control plane, timed from creation to all Ready — with the
// controller as a process (`bin/kclrun controller`) at --render-workers=1 and at --render-workers=2. Reports the
// speed-up. Each round uses its own namespace and a controller watching only that namespace.
// Usage: node bench/render-workers-bench.mjs [KCLRUNS=100] [FIB=21]   (needs `npm run build` and the tools)
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = (p) => import(join(root, 'dist', p));
const { startControlPlane } = await dist('test/harness/control-plane.js');
const { installFluxSourceCRDs } = await dist('test/harness/flux-crds.js');
const { closeArtifactServer } = await dist('test/harness/artifact-server.js');
const { freePort, waitFor } = await dist('test/harness/processes.js');
const { newNamespace } = await dist('test/harness/ava.js');
const { installKCLRunCRD, gitSource, createKCLRun, kclPackage, startControllerProcess, httpGet } = await dist('test/controller/suite.js');
const { render } = await dist('fn/render.js');
const { callEngine } = await dist('fn/engine/native.js');

const count = Number(process.argv[2] ?? 100);
const fib = Number(process.argv[3] ?? 21);
const program = (i) =>
  `fib = lambda n: int -> int { 1 if n < 2 else fib(n - 1) + fib(n - 2) }\n` +
  `items = [{apiVersion = "v1", kind = "ConfigMap", metadata.name = "cm-${i}", data.fib = str(fib(${fib}))}]\n`;
const revision = (i) => `main@sha1:${i.toString(16).padStart(40, '0')}`;

// What one program costs the engine, measured in this process.
const t = performance.now();
const probe = await render({ source: { kind: 'inline', code: program(0) }, baseDir: root }, { engine: callEngine });
if (!probe.ok) throw new Error(`the bench program does not render: ${JSON.stringify(probe.diagnostics)}`);
const engineMs = performance.now() - t;

const cp = await startControlPlane();
const results = [];
try {
  await installFluxSourceCRDs(cp);
  await installKCLRunCRD(cp);
  for (const workers of [1, 2]) {
    // Each round's controller watches only its own namespace (not the previous round's KCLRuns).
    const ns = await newNamespace(cp, `workers-${workers}`);
    const [health, metrics] = [await freePort(), await freePort()];
    const controller = startControllerProcess(
      ['--kubeconfig', cp.kubeconfigPath, '--health-addr', `127.0.0.1:${health}`, '--metrics-addr', `127.0.0.1:${metrics}`,
        '--log-level', 'error', `--render-workers=${workers}`, '--concurrent=4', '--watch-all-namespaces=false'],
      { KUBECONFIG: '', RUNTIME_NAMESPACE: ns },
    );
    try {
      await waitFor(async () => (await httpGet(health, '/readyz')).status === 200, { what: 'controller /readyz', timeoutMs: 60_000 });
      // Sources first (artifacts served), then every KCLRun at once: the clock runs from the first KCLRun.
      for (let i = 0; i < count; i++) await gitSource(cp, ns, `repo-${i}`, kclPackage(program(i)), revision(i + 1));
      const t0 = Date.now();
      await Promise.all(Array.from({ length: count }, (_, i) => createKCLRun(cp, ns, `app-${i}`, { sourceRef: { kind: 'GitRepository', name: `repo-${i}` } })));
      await waitFor(async () => {
        const res = await cp.request('GET', `/apis/krm.kcl.dev.fluxcd/v1alpha1/namespaces/${ns}/kclruns`);
        return res.ok && res.body.items.filter((k) => k.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')).length === count;
      }, { what: `${count} KCLRuns Ready`, timeoutMs: 30 * 60_000, intervalMs: 250 });
      results.push({ workers, allReadyMs: Date.now() - t0 });
    } finally {
      await controller.stop('SIGTERM');
    }
  }
  const [one, two] = results;
  console.log(`render workers (bin/kclrun controller, real kube-apiserver; ${count} KCLRuns, each program ~${engineMs.toFixed(0)} ms of engine time)`);
  for (const r of results) console.log(`  --render-workers=${r.workers}: created → all Ready in ${(r.allReadyMs / 1000).toFixed(1)} s`);
  console.log(`  speed-up 2 vs 1 worker: ${(one.allReadyMs / two.allReadyMs).toFixed(2)}×`);
  console.log(JSON.stringify({ kclruns: count, engineMsPerProgram: Math.round(engineMs), results }));
} finally {
  await closeArtifactServer();
  await cp.stop();
}
