#!/usr/bin/env node
// kclrun's controller against Flux's own applier, fluxcd/kustomize-controller v1.9.0 (built by
// `scripts/build-tools.sh kustomize-controller`, bench only), on one real control plane (etcd + kube-apiserver), both
// controllers running side by side as processes, each with --concurrent=4:
//   - the peer applies plain YAML + kustomization.yaml from a GitRepository artifact (a Kustomization per source);
//   - kclrun applies the same ConfigMaps rendered by a KCL program from a GitRepository artifact (a KCLRun per source).
// The artifacts are served by the harness's artifact server and the GitRepository status is patched as
// source-controller would (the same for both), so source polling does not blur the timings.
// Measured, alternating ours and the peer:
//   - 1 × 20 ConfigMaps: from scratch to Ready; revision → all 20 applied (median over REVISIONS changes)
//   - N × 20 ConfigMaps (N = 100; 10 with --quick): from scratch to all Ready; revision → all 20 of one source applied (median); steady-state
//     CPU seconds per minute of each whole process tree (kclrun: the controller and its engine workers), both
//     measured over the same window with spec.interval 1m (5s with --quick; 10m before); idle and peak RSS of each tree (sum of VmRSS,
//     /proc). "Applied" is status.lastAppliedRevision (Ready turns Unknown while a later reconcile runs).
// Usage: node bench/flux-peer-bench.mjs [--quick] [--kclrun-flag=<flag>...]   (quick: 10 sources instead of 100, 4
// revisions per case, a 10 s CPU window at spec.interval 5s instead of 60 s at 1m)
// The last stdout line is a JSON summary (bench/run.mjs turns it into rows).
import { appliedAll, closeArtifactServer, kclrunFlags, controlPlane, installFluxKustomizeCRDs, median, newNamespace, nextRevision, startController, startKustomizeController, suite, waitFor } from './controller-lib.mjs';
import { peakRss, treeCpuSeconds, treeRss } from './proc-tree.mjs';

const { gitSource, setArtifact, createKCLRun, configMapsPackage } = suite;
const quick = process.argv.includes('--quick');
// --kclrun-flag=<flag> (repeatable) passes a flag to the kclrun controller, e.g. --kclrun-flag=--kube-api-qps=-1.
const oursFlags = kclrunFlags();
const progress = (msg) => console.error(`[flux-peer-bench ${new Date().toISOString().slice(11, 19)}] ${msg}`);
const revisions1 = quick ? 4 : 10;
const revisions100 = quick ? 4 : 10;
const cpuWindowS = quick ? 10 : 60;
/** spec.interval during the CPU window. */
const steadyInterval = quick ? '5s' : '1m';
/** Sources (each with its applier) in the many-sources case. */
const many = quick ? 10 : 100;
const objects = 20;
const mib = (b) => b / 1024 / 1024;
const maps = (i, v) => Object.fromEntries(Array.from({ length: objects }, (_, j) => [`app-${i}-cm-${j}`, { v: String(v) }]));
const yamlPackage = (i, v) => ({
  'kustomization.yaml': 'apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n- configmaps.yaml\n',
  'configmaps.yaml': Object.entries(maps(i, v)).map(([name, data]) => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\ndata:\n  v: "${data.v}"\n`).join('---\n'),
});

const cp = await controlPlane();
let ours;
let peer;
try {
  await installFluxKustomizeCRDs(cp);
  ours = await startController(cp, ['--log-level', 'error', '--concurrent=4', ...oursFlags]);
  peer = await startKustomizeController(cp, ['--concurrent=4', '--log-level=error']);
  const pids = { ours: ours.pid, peer: peer.pid };
  await new Promise((r) => setTimeout(r, 3000));
  const idle = { ours: treeRss(pids.ours).bytes, peer: treeRss(pids.peer).bytes };
  const peaks = peakRss(pids, 500);

  /** The two sides: how to make a source + its applier, change a source, and list the appliers. */
  const sides = {
    ours: {
      pkg: (i, v) => configMapsPackage(maps(i, v)),
      create: (ns, i, interval) => createKCLRun(cp, ns, `app-${i}`, { sourceRef: { kind: 'GitRepository', name: `repo-${i}` }, interval }),
      list: (ns) => `/apis/krm.kcl.dev.fluxcd/v1alpha1/namespaces/${ns}/kclruns`,
    },
    peer: {
      pkg: yamlPackage,
      create: async (ns, i, interval) => {
        const res = await cp.request('POST', `/apis/kustomize.toolkit.fluxcd.io/v1/namespaces/${ns}/kustomizations`, {
          body: {
            apiVersion: 'kustomize.toolkit.fluxcd.io/v1', kind: 'Kustomization', metadata: { name: `app-${i}`, namespace: ns },
            spec: { interval, sourceRef: { kind: 'GitRepository', name: `repo-${i}` }, path: './', prune: true, targetNamespace: ns },
          },
        });
        if (!res.ok) throw new Error(`create Kustomization: HTTP ${res.status}: ${res.text}`);
      },
      list: (ns) => `/apis/kustomize.toolkit.fluxcd.io/v1/namespaces/${ns}/kustomizations`,
    },
  };
  /** N sources × 20 ConfigMaps from scratch: sources first, then every applier at once; ms to all Ready. */
  const fromScratch = async (side, n, interval) => {
    const ns = await newNamespace(cp, `${side}-${n}`);
    const revs = [];
    for (let i = 0; i < n; i++) {
      revs.push(nextRevision());
      await gitSource(cp, ns, `repo-${i}`, sides[side].pkg(i, 0), revs[i]);
    }
    const t0 = performance.now();
    await Promise.all(Array.from({ length: n }, (_, i) => sides[side].create(ns, i, interval)));
    await waitFor(appliedAll(cp, sides[side].list(ns), revs), { what: `${side}: ${n} Ready`, timeoutMs: 900_000, intervalMs: 100 });
    return { ns, ms: performance.now() - t0 };
  };

  /** Revision → all 20 ConfigMaps of source 0 carry the new value; ms. */
  const revisionToApplied = async (side, ns, v) => {
    const t0 = performance.now();
    await setArtifact(cp, ns, 'repo-0', sides[side].pkg(0, v), nextRevision());
    await waitFor(async () => {
      const res = await cp.request('GET', `/api/v1/namespaces/${ns}/configmaps`);
      return res.ok && res.body.items.filter((c) => c.metadata.name.startsWith('app-0-cm-') && c.data?.v === String(v)).length === objects;
    }, { what: `${side}: revision ${v} applied`, timeoutMs: 120_000, intervalMs: 20 });
    return performance.now() - t0;
  };

  const alternate = async (n, fn) => {
    const got = { ours: [], peer: [] };
    for (let r = 0; r < n; r++) for (const side of r % 2 ? ['peer', 'ours'] : ['ours', 'peer']) got[side].push(await fn(side, r));
    return got;
  };

  progress('1 × 20');
  const one = {};
  const scratch1 = await alternate(1, async (side) => {
    const s = await fromScratch(side, 1, '10m');
    one[side] = s.ns;
    return s.ms;
  });
  const rev1 = await alternate(revisions1, (side, r) => revisionToApplied(side, one[side], 100 + r));

  progress(`${many} × 20`);
  const hundred = {};
  const scratch100 = await alternate(1, async (side) => {
    const s = await fromScratch(side, many, '10m');
    hundred[side] = s.ns;
    return s.ms;
  });
  progress(`${many} × 20: revisions`);
  const rev100 = await alternate(revisions100, (side, r) => revisionToApplied(side, hundred[side], 200 + r));
  // Steady state: both trees over the same window, every applier reconciling on steadyInterval (set now: the
  // interval change reconciles each once; that settles first).
  for (const side of ['ours', 'peer']) {
    const list = await cp.request('GET', sides[side].list(hundred[side]));
    await Promise.all(list.body.items.map((k) => cp.request('PATCH', `${sides[side].list(hundred[side])}/${k.metadata.name}`, {
      body: { spec: { interval: steadyInterval } }, contentType: 'application/merge-patch+json',
    })));
    await waitFor(async () => {
      const now = await cp.request('GET', sides[side].list(hundred[side]));
      return now.body.items.every((k) => k.status?.observedGeneration === k.metadata.generation);
    }, { what: `${side}: interval ${steadyInterval} observed`, timeoutMs: 600_000, intervalMs: 500 });
  }
  progress(`steady state: ${cpuWindowS} s`);
  const cpu0 = { ours: treeCpuSeconds(pids.ours), peer: treeCpuSeconds(pids.peer) };
  await new Promise((r) => setTimeout(r, cpuWindowS * 1000));
  const cpuPerMin = Object.fromEntries(['ours', 'peer'].map((s) => [s, ((treeCpuSeconds(pids[s]) - cpu0[s]) * 60) / cpuWindowS]));
  const loaded = { ours: treeRss(pids.ours).bytes, peer: treeRss(pids.peer).bytes };
  const peak = peaks.stop();

  const result = {
    objects,
    '1x20': { scratchMs: { ours: scratch1.ours[0], peer: scratch1.peer[0] }, revisionMs: { ours: median(rev1.ours), peer: median(rev1.peer) }, revisions: revisions1 },
    sources: many,
    '100x20': {
      scratchMs: { ours: scratch100.ours[0], peer: scratch100.peer[0] },
      revisionMs: { ours: median(rev100.ours), peer: median(rev100.peer) }, revisions: revisions100,
      cpuSecondsPerMin: cpuPerMin, cpuWindowS, steadyInterval,
    },
    rssMiB: { idle: { ours: mib(idle.ours), peer: mib(idle.peer) }, loaded: { ours: mib(loaded.ours), peer: mib(loaded.peer) }, peak: { ours: mib(peak.ours), peer: mib(peak.peer) } },
    samplesMs: { rev1, rev100 },
  };
  const f = (x) => (typeof x === 'number' ? x.toFixed(x < 10 ? 2 : 0) : x);
  const row = (name, o, unit) => console.log(`  ${name.padEnd(44)} kclrun ${f(o.ours)} ${unit}   kustomize-controller ${f(o.peer)} ${unit}   ratio ${(o.ours / o.peer).toFixed(2)}`);
  console.log(`kclrun controller vs kustomize-controller v1.9.0 (real kube-apiserver, both --concurrent=4, whole process trees)`);
  row('1 × 20: from scratch → Ready', result['1x20'].scratchMs, 'ms');
  row(`1 × 20: revision → applied (median of ${revisions1})`, result['1x20'].revisionMs, 'ms');
  row(`${many} × 20: from scratch → all Ready`, result['100x20'].scratchMs, 'ms');
  row(`${many} × 20: revision → applied (median of ${revisions100})`, result['100x20'].revisionMs, 'ms');
  row(`${many} × 20: steady-state CPU (interval ${steadyInterval})`, cpuPerMin, 's/min');
  row('RSS idle (tree)', result.rssMiB.idle, 'MiB');
  row(`RSS with ${many} × 20 (tree)`, result.rssMiB.loaded, 'MiB');
  row('peak RSS (tree)', result.rssMiB.peak, 'MiB');
  console.log(JSON.stringify(result));
} finally {
  await ours?.stop('SIGTERM');
  await peer?.stop();
  await closeArtifactServer();
  await cp.stop();
}
