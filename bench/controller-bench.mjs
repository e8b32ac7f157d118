#!/usr/bin/env node
// Controller measurements against a real control plane (etcd + kube-apiserver from `npm run tools:build`), with the
// controller as a separate process (`bin/kclrun controller`), exactly as it runs in a cluster:
//   1. RSS of the controller idle, then with N KCLRuns (default 100), each its own GitRepository and a tiny
//      ConfigMap package, all Ready (from /metrics `process_resident_memory_bytes` and `ps -o rss`).
//   2. Revision → applied: the time from a source's status.artifact revision change (the status patch that
//      source-controller would make) until the rendered ConfigMap carries the new value, median over RUNS changes.
// Usage: node bench/controller-bench.mjs [RUNS=10] [KCLRUNS=100]   (needs `npm run build` and the tools)
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = (p) => import(join(root, 'dist', p));
const { startControlPlane } = await dist('test/harness/control-plane.js');
const { installFluxSourceCRDs } = await dist('test/harness/flux-crds.js');
const { serveArtifact, patchSourceArtifact, closeArtifactServer } = await dist('test/harness/artifact-server.js');
const { freePort, waitFor } = await dist('test/harness/processes.js');
const { newNamespace } = await dist('test/harness/ava.js');
const { installKCLRunCRD, gitSource, createKCLRun, configMapsPackage, startControllerProcess, httpGet } = await dist('test/controller/suite.js');

const runs = Number(process.argv[2] ?? 10);
const count = Number(process.argv[3] ?? 100);
const mib = (bytes) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const revision = (i) => `main@sha1:${i.toString(16).padStart(40, '0')}`;

const cp = await startControlPlane();
let controller;
try {
  await installFluxSourceCRDs(cp);
  await installKCLRunCRD(cp);
  const [health, metrics] = [await freePort(), await freePort()];
  controller = startControllerProcess(
    ['--kubeconfig', cp.kubeconfigPath, '--health-addr', `127.0.0.1:${health}`, '--metrics-addr', `127.0.0.1:${metrics}`, '--log-level', 'error'],
    { KUBECONFIG: '' },
  );
  await waitFor(async () => (await httpGet(health, '/readyz')).status === 200, { what: 'controller /readyz', timeoutMs: 60_000 });
  const rss = async () => {
    const text = (await httpGet(metrics, '/metrics')).body;
    const fromMetrics = Number(/^process_resident_memory_bytes (\d+)$/m.exec(text)?.[1] ?? NaN);
    const fromPs = Number(execFileSync('ps', ['-o', 'rss=', '-p', String(controller.pid)], { encoding: 'utf8' }).trim()) * 1024;
    // The engine workers are the controller's child processes.
    const children = execFileSync('ps', ['-o', 'rss=', '--ppid', String(controller.pid)], { encoding: 'utf8' }).split('\n').filter((l) => l.trim());
    const workersPs = children.reduce((sum, l) => sum + Number(l.trim()) * 1024, 0);
    return { fromMetrics, fromPs, workersPs, workers: children.length };
  };
  await new Promise((r) => setTimeout(r, 1000));
  const idle = await rss();

  // 1. N KCLRuns, all Ready.
  const ns = await newNamespace(cp, 'bench');
  const t0 = Date.now();
  for (let i = 0; i < count; i++) {
    await gitSource(cp, ns, `repo-${i}`, configMapsPackage({ [`cm-${i}`]: { v: '0' } }), revision(i + 1));
    await createKCLRun(cp, ns, `app-${i}`, { sourceRef: { kind: 'GitRepository', name: `repo-${i}` } });
  }
  const allReady = async () => {
    const res = await cp.request('GET', `/apis/krm.kcl.dev.fluxcd/v1alpha1/namespaces/${ns}/kclruns`);
    return res.ok && res.body.items.filter((k) => k.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')).length === count;
  };
  await waitFor(allReady, { what: `${count} KCLRuns Ready`, timeoutMs: 300_000, intervalMs: 500 });
  const readyMs = Date.now() - t0;
  await new Promise((r) => setTimeout(r, 2000));
  const loaded = await rss();

  // 2. Revision → applied, on one KCLRun while the other N−1 sit in the controller.
  const samples = [];
  for (let run = 1; run <= runs; run++) {
    const value = String(run);
    const artifact = await serveArtifact(configMapsPackage({ 'cm-0': { v: value } }), { kind: 'GitRepository', namespace: ns, name: 'repo-0', revision: revision(1000 + run) });
    const changed = performance.now();
    await patchSourceArtifact(cp, 'GitRepository', ns, 'repo-0', artifact);
    await waitFor(async () => (await cp.request('GET', `/api/v1/namespaces/${ns}/configmaps/cm-0`)).body?.data?.v === value, {
      what: `cm-0 = ${value}`, timeoutMs: 60_000, intervalMs: 10,
    });
    samples.push(performance.now() - changed);
    await new Promise((r) => setTimeout(r, 300));
  }
  const stillReady = await allReady();

  console.log(`controller (bin/kclrun controller as a process, real kube-apiserver; ${count} KCLRuns, ${runs} revision changes)`);
  console.log(`  RSS idle (no KCLRuns):     ${mib(idle.fromMetrics)} (/metrics), ${mib(idle.fromPs)} (ps)`);
  console.log(`  RSS with ${count} KCLRuns Ready: ${mib(loaded.fromMetrics)} (/metrics), ${mib(loaded.fromPs)} (ps)`);
  console.log(`  engine workers: ${loaded.workers}, RSS ${mib(loaded.workersPs)} together (ps; idle: ${mib(idle.workersPs)})`);
  console.log(`  ${count} KCLRuns created → all Ready: ${(readyMs / 1000).toFixed(1)} s`);
  console.log(`  revision → applied: median ${median(samples).toFixed(0)} ms, min ${Math.min(...samples).toFixed(0)} ms, max ${Math.max(...samples).toFixed(0)} ms`);
  console.log(`    samples (ms): ${samples.map((s) => s.toFixed(0)).join(', ')}`);
  console.log(`  all ${count} still Ready afterwards: ${stillReady}`);
  console.log(JSON.stringify({ kclruns: count, rssIdleBytes: idle.fromPs, rssLoadedBytes: loaded.fromPs, rssLoadedMetricsBytes: loaded.fromMetrics, workersRssLoadedBytes: loaded.workersPs, allReadyMs: readyMs, revisionToAppliedMedianMs: Math.round(median(samples)), samplesMs: samples.map(Math.round) }));
} finally {
  await controller?.stop('SIGTERM');
  await closeArtifactServer();
  await cp.stop();
}
