#!/usr/bin/env node
// `npm run soak [-- --minutes N]` (not part of `npm test`): the controller (`bin/kclrun controller`, a separate
// process) against a real control plane with 100 KCLRuns × 20 ConfigMaps, source revisions changing every few
// seconds for N minutes (default 10). Reports: failed reconciles (error log lines and Warning events; must be 0),
// revisions published vs applied (each checked before its source moves on, the last ones at the end), controller
// RSS at start / every 5 min / end, open fds and kclrun temp dirs at start and end, event-loop delay p99 and max.
// Writes bench/results/soak.json and prints a summary; exits 1 when a reconcile failed or a revision was not applied.
// Options: --minutes N, --kclruns N (100), --objects N (20), --every S (seconds between rounds of source changes, 3),
// --batch N (sources changed per round, 2: a source changes every kclruns / batch × every seconds).
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { mkdtempSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = (p) => import(join(root, 'dist', p));
const { startControlPlane } = await dist('test/harness/control-plane.js');
const { installFluxSourceCRDs } = await dist('test/harness/flux-crds.js');
const { freePort, waitFor } = await dist('test/harness/processes.js');
const { newNamespace } = await dist('test/harness/ava.js');
const { installKCLRunCRD, gitSource, setArtifact, createKCLRun, configMapsPackage, startControllerProcess, httpGet, jsonLines } =
  await dist('test/controller/suite.js');

const { values } = parseArgs({ options: { minutes: { type: 'string', default: '10' }, kclruns: { type: 'string', default: '100' }, objects: { type: 'string', default: '20' }, every: { type: 'string', default: '3' }, batch: { type: 'string', default: '2' } } });
const minutes = Number(values.minutes);
const count = Number(values.kclruns);
const objects = Number(values.objects);
const everyMs = Number(values.every) * 1000;
const mib = (bytes) => Math.round((bytes / 1024 / 1024) * 10) / 10;
const revision = (n) => `main@sha1:${n.toString(16).padStart(40, '0')}`;
const pkg = (i, v) => configMapsPackage(Object.fromEntries(Array.from({ length: objects }, (_, j) => [`app-${i}-cm-${j}`, { v: String(v) }])));
const log = (msg) => console.log(`[soak ${new Date().toISOString().slice(11, 19)}] ${msg}`);

const cp = await startControlPlane();
const controllerTmp = mkdtempSync(join(tmpdir(), 'kclrun-soak-tmp-')); // the controller's TMPDIR: its temp dirs alone
let controller;
let exitCode = 0;
try {
  await installFluxSourceCRDs(cp);
  await installKCLRunCRD(cp);
  const [health, metrics] = [await freePort(), await freePort()];
  controller = startControllerProcess(
    ['--kubeconfig', cp.kubeconfigPath, '--health-addr', `127.0.0.1:${health}`, '--metrics-addr', `127.0.0.1:${metrics}`, '--log-level', 'error'],
    { KUBECONFIG: '', TMPDIR: controllerTmp },
  );
  await waitFor(async () => (await httpGet(health, '/readyz')).status === 200, { what: 'controller /readyz', timeoutMs: 60_000 });
  const tempDirs = () => readdirSync(controllerTmp).length;
  const sample = async (label) => {
    const text = (await httpGet(metrics, '/metrics')).body;
    const gauge = (name) => Number(new RegExp(`^${name} ([0-9.e+-]+)$`, 'm').exec(text)?.[1] ?? NaN);
    return {
      label, at: new Date().toISOString(),
      rssMiB: mib(Number(execFileSync('ps', ['-o', 'rss=', '-p', String(controller.pid)], { encoding: 'utf8' }).trim()) * 1024),
      fds: readdirSync(`/proc/${controller.pid}/fd`).length,
      tempDirs: tempDirs(),
      eventLoopP99Ms: Math.round(gauge('nodejs_eventloop_lag_p99_seconds') * 1e4) / 10,
      eventLoopMaxMs: Math.round(gauge('nodejs_eventloop_lag_max_seconds') * 1e4) / 10,
    };
  };

  const ns = await newNamespace(cp, 'soak');
  let next = 1;
  const current = new Array(count);
  const t0 = Date.now();
  for (let i = 0; i < count; i++) {
    current[i] = revision(next++);
    await gitSource(cp, ns, `repo-${i}`, pkg(i, 0), current[i]);
    await createKCLRun(cp, ns, `app-${i}`, { sourceRef: { kind: 'GitRepository', name: `repo-${i}` }, interval: '10m' });
  }
  const kclruns = async () => {
    const res = await cp.request('GET', `/apis/krm.kcl.dev.fluxcd/v1alpha1/namespaces/${ns}/kclruns`);
    if (!res.ok) throw new Error(`list KCLRuns: HTTP ${res.status}`);
    return new Map(res.body.items.map((k) => [k.metadata.name, k]));
  };
  const applied = (k, rev) => k?.status?.lastAppliedRevision === rev && k.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
  const allApplied = async () => {
    const ks = await kclruns();
    return current.every((rev, i) => applied(ks.get(`app-${i}`), rev));
  };
  await waitFor(allApplied, { what: `${count} KCLRuns Ready`, timeoutMs: 20 * 60_000, intervalMs: 1000 });
  log(`${count} KCLRuns × ${objects} objects Ready in ${Math.round((Date.now() - t0) / 1000)} s`);

  const samples = [await sample('start')];
  let published = 0;
  let appliedInTime = 0;
  const late = [];
  const end = Date.now() + minutes * 60_000;
  let nextSample = Date.now() + 5 * 60_000;
  let cursor = 0;
  const perTick = Math.max(1, Number(values.batch));
  while (Date.now() < end) {
    const tick = Date.now();
    const ks = await kclruns();
    for (let n = 0; n < perTick; n++, cursor = (cursor + 1) % count) {
      const i = cursor;
      if (published >= count || current[i] !== revision(i + 1)) {
        // The previous revision of this source must have been applied before it moves on.
        if (applied(ks.get(`app-${i}`), current[i])) appliedInTime++;
        else late.push({ kclrun: `app-${i}`, revision: current[i], status: ks.get(`app-${i}`)?.status?.lastAppliedRevision });
      }
      current[i] = revision(next++);
      await setArtifact(cp, ns, `repo-${i}`, pkg(i, next), current[i]);
      published++;
    }
    if (Date.now() >= nextSample) {
      samples.push(await sample(`${samples.length * 5} min`));
      nextSample += 5 * 60_000;
    }
    await new Promise((r) => setTimeout(r, Math.max(0, everyMs - (Date.now() - tick))));
  }
  const settle = Date.now();
  await waitFor(allApplied, { what: 'the last revisions applied', timeoutMs: 10 * 60_000, intervalMs: 1000 }).catch(() => undefined);
  const finalKs = await kclruns();
  // The initial revisions were all applied before the clock started; count the changed sources' last revisions.
  const finalApplied = current.filter((rev, i) => rev !== revision(i + 1) && applied(finalKs.get(`app-${i}`), rev)).length;
  current.forEach((rev, i) => applied(finalKs.get(`app-${i}`), rev) || late.push({ kclrun: `app-${i}`, revision: rev, final: true }));
  log(`last revisions applied ${Math.round((Date.now() - settle) / 1000)} s after the last change`);
  await new Promise((r) => setTimeout(r, 2000)); // temp dirs of the last reconciles are removed
  samples.push(await sample('end'));

  const errors = jsonLines(controller.stderr()).filter((l) => l.level === 'error');
  const events = await cp.request('GET', `/api/v1/namespaces/${ns}/events`);
  const warnings = (events.body.items ?? []).filter((e) => e.type === 'Warning');
  const first = samples[0];
  const last = samples.at(-1);
  const result = {
    minutes, kclruns: count, objectsPerKCLRun: objects, changeEverySeconds: everyMs / 1000,
    revisionsPublished: count + published,
    revisionsApplied: count + appliedInTime + finalApplied,
    revisionsLate: late,
    failedReconciles: errors.length, warningEvents: warnings.length,
    errorSamples: errors.slice(0, 5), warningSamples: warnings.slice(0, 5).map((e) => `${e.reason}: ${e.message}`),
    samples,
    rssChangePercent: Math.round(((last.rssMiB - first.rssMiB) / first.rssMiB) * 1000) / 10,
    fdsChange: last.fds - first.fds,
    tempDirsChange: last.tempDirs - first.tempDirs,
  };
  mkdirSync(join(root, 'bench', 'results'), { recursive: true });
  writeFileSync(join(root, 'bench', 'results', 'soak.json'), JSON.stringify(result, null, 2) + '\n');
  const ok = result.failedReconciles === 0 && result.warningEvents === 0 && late.length === 0;
  exitCode = ok ? 0 : 1;
  console.log(`
soak: ${minutes} min, ${count} KCLRuns × ${objects} objects, ${perTick} source changes every ${everyMs} ms
  revisions: ${result.revisionsPublished} published (${count} initial), ${result.revisionsApplied} applied, ${late.length} late or missing
  failed reconciles: ${result.failedReconciles} (error log lines), Warning events: ${result.warningEvents}
  RSS MiB: ${samples.map((s) => `${s.label} ${s.rssMiB}`).join(', ')} (${result.rssChangePercent >= 0 ? '+' : ''}${result.rssChangePercent} %)
  open fds: ${first.fds} → ${last.fds}; controller temp dirs: ${first.tempDirs} → ${last.tempDirs}
  event-loop delay: p99 ${last.eventLoopP99Ms} ms, max ${last.eventLoopMaxMs} ms
  ${ok ? 'OK' : 'FAILED'}; written to bench/results/soak.json`);
} finally {
  await controller?.stop('SIGTERM');
  await cp.stop();
  rmSync(controllerTmp, { recursive: true, force: true });
}
process.exit(exitCode);
