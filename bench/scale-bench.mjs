#!/usr/bin/env node
// Scale: 10 → 100 → 1,000 KCLRuns (one GitRepository and one ConfigMap each), created at once against a real control
// plane; a fresh `bin/kclrun controller` process per step, watching only that step's namespace. Per step: created →
// all Ready, the RSS of the controller's whole process tree (engine workers included; /proc) once all are Ready and
// its peak during the step, and the time per KCLRun (flat when the time grows linearly).
// Usage: node bench/scale-bench.mjs [COUNT...] [--kclrun-flag=<flag>...]   (default 10 100 1000; needs `npm run build`
// and the tools)
// The last stdout line is a JSON summary (bench/run.mjs turns it into rows).
import { closeArtifactServer, controlPlane, kclrunFlags, newNamespace, nextRevision, startController, suite, waitFor } from './controller-lib.mjs';
import { peakRss, treeRss } from './proc-tree.mjs';

const { gitSource, createKCLRun, configMapsPackage } = suite;
const counts = process.argv.slice(2).filter((a) => /^\d+$/.test(a)).map(Number);
if (counts.length === 0) counts.push(10, 100, 1000);
const mib = (b) => Math.round((b / 1024 / 1024) * 10) / 10;

const cp = await controlPlane();
const steps = [];
try {
  for (const count of counts) {
    const ns = await newNamespace(cp, `scale-${count}`);
    const controller = await startController(cp, ['--log-level', 'error', '--concurrent=4', '--watch-all-namespaces=false', ...kclrunFlags()], { RUNTIME_NAMESPACE: ns });
    try {
      const idle = treeRss(controller.pid).bytes;
      for (let i = 0; i < count; i++) await gitSource(cp, ns, `repo-${i}`, configMapsPackage({ [`cm-${i}`]: { v: '0' } }), nextRevision());
      const peaks = peakRss({ tree: controller.pid }, 500);
      const t0 = performance.now();
      for (let i = 0; i < count; i += 50) {
        await Promise.all(Array.from({ length: Math.min(50, count - i) }, (_, j) => createKCLRun(cp, ns, `app-${i + j}`, { sourceRef: { kind: 'GitRepository', name: `repo-${i + j}` } })));
      }
      await waitFor(async () => {
        const res = await cp.request('GET', `/apis/krm.kcl.dev.fluxcd/v1alpha1/namespaces/${ns}/kclruns`);
        return res.ok && res.body.items.filter((k) => k.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')).length === count;
      }, { what: `${count} KCLRuns Ready`, timeoutMs: 60 * 60_000, intervalMs: 250 });
      const readyMs = performance.now() - t0;
      await new Promise((r) => setTimeout(r, 2000));
      const ready = treeRss(controller.pid);
      const peak = peaks.stop().tree;
      steps.push({ kclruns: count, readyMs: Math.round(readyMs), msPerKCLRun: Math.round(readyMs / count), rssIdleMiB: mib(idle), rssReadyMiB: mib(ready.bytes), rssPeakMiB: mib(peak), processes: ready.processes });
    } finally {
      await controller.stop('SIGTERM');
    }
  }
  console.log('scale (bin/kclrun controller, real kube-apiserver, --concurrent=4; one ConfigMap per KCLRun; RSS of the whole process tree)');
  console.log('| KCLRuns | created → all Ready | per KCLRun | RSS idle | RSS all Ready | peak RSS | processes |');
  console.log('|---|---|---|---|---|---|---|');
  for (const s of steps) console.log(`| ${s.kclruns} | ${(s.readyMs / 1000).toFixed(1)} s | ${s.msPerKCLRun} ms | ${s.rssIdleMiB} MiB | ${s.rssReadyMiB} MiB | ${s.rssPeakMiB} MiB | ${s.processes} |`);
  console.log(JSON.stringify({ steps }));
} finally {
  await closeArtifactServer();
  await cp.stop();
}
