#!/usr/bin/env node
// `npm run bench`: speed and memory of kclrun against its peers, measured in the same run on the same machine.
// Reports medians (wall time) and max RSS, and ratios kclrun / peer. Machines are noisy: compare ratios.
//   - kclrun fn (5 and 1,000 items, set-annotations in KCL)  vs  the legacy kpt TS SDK doing the same annotation
//   - kclrun render examples/flask-demo                      vs  the official Python binding of the same engine
//   - kclrun fn from the container image vs on the host (bench/image-bench.mjs), when the image is built
//   - kclrun fn (5 items) with its supervised engine worker  vs  the same function with the engine in-process (the
//     design before engine workers): the start-up cost of isolation
//   - the controller (bench/controller-bench.mjs), when present: revision → applied, RSS with 100 KCLRuns
//   - parallel rendering (bench/render-workers-bench.mjs): 100 KCLRuns of ~0.5 s engine time each, created → all
//     Ready, at --render-workers=1 and =2 (KCLRUN_BENCH_KCLRUNS sets the count)
// Usage: node bench/run.mjs [RUNS]   (default 11)
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const runs = Number(process.argv[2] ?? 11);
const cache = process.env.KCLRUN_CACHE || join(homedir(), '.cache', 'kclrun');
const work = mkdtempSync(join(tmpdir(), 'kclrun-bench-'));

function resourceList(n) {
  const items = [];
  for (let i = 0; i < n; i++) {
    items.push(`- apiVersion: apps/v1
  kind: Deployment
  metadata:
    name: web-${i} # deployment ${i}
    labels: {app: web-${i}}
  spec:
    replicas: 2
    selector: {matchLabels: {app: web-${i}}}
    template:
      metadata: {labels: {app: web-${i}}}
      spec:
        containers:
        - name: web
          image: nginx:1.27
          ports: [{containerPort: 80}]`);
  }
  return `apiVersion: config.kubernetes.io/v1
kind: ResourceList
items:
${items.join('\n')}
functionConfig:
  apiVersion: krm.kcl.dev/v1alpha1
  kind: KCLRun
  metadata: {name: set-annotations}
  spec:
    source: ${join(root, 'examples/mutation/set-annotations/main.k')}
    params: {annotations: {owner: platform}}
`;
}

/** Runs `cmd` `runs` times (after one warm-up) under /usr/bin/time; returns median ms and max RSS (MiB). */
function measure(cmd, args, input) {
  const times = [];
  let rss = 0;
  for (let i = 0; i <= runs; i++) {
    const t0 = process.hrtime.bigint();
    const r = spawnSync('/usr/bin/time', ['-f', '%M', cmd, ...args], { input, maxBuffer: 256 << 20 });
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr.toString().slice(-500)}`);
    const kb = Number(r.stderr.toString().trim().split('\n').pop());
    if (i > 0) times.push(ms);
    rss = Math.max(rss, kb / 1024);
  }
  times.sort((a, b) => a - b);
  return { median: times[Math.floor(times.length / 2)], rss };
}

function pythonPeer() {
  const venv = join(cache, 'bench-venv');
  const py = join(venv, 'bin', 'python');
  if (!existsSync(py)) {
    execFileSync('python3', ['-m', 'venv', venv], { stdio: 'inherit' });
    execFileSync(join(venv, 'bin', 'pip'), ['install', '-q', 'kcl-lib==0.13.2'], { stdio: 'inherit' });
  }
  return py;
}

const rows = [];
function compare(name, ours, peer, peerName) {
  rows.push({ name, ours, peer, peerName });
}

try {
  const kclrun = join(root, 'bin', 'kclrun');
  const node = process.execPath;
  for (const n of [5, 1000]) {
    const input = resourceList(n);
    writeFileSync(join(work, `rl-${n}.yaml`), input);
    const ours = measure(kclrun, ['fn'], input);
    const peer = measure(node, [join(root, 'bench/peers/kpt-functions-annotate.mjs')], input);
    compare(`fn, ${n} items`, ours, peer, 'kpt-functions (no KCL)');
    if (n === 5) compare('fn, 5 items (engine worker vs in-process)', ours, measure(node, [join(root, 'bench/peers/fn-in-process.mjs')], input), 'engine in-process (before)');
  }
  const flask = join(root, 'examples/flask-demo');
  const ours = measure(kclrun, ['render', flask]);
  const peer = measure(pythonPeer(), [join(root, 'bench/peers/kcl_python_render.py'), flask, join(flask, 'main.k'), join(flask, 'render/k8s/kubernetes_render.k')]);
  compare('render flask-demo', ours, peer, 'kcl-lib Python (same engine)');

  console.log(`\nkclrun benchmarks — ${runs} runs each after a warm-up, medians; ${new Date().toISOString()}\n`);
  console.log('| case | kclrun | peer | ratio (kclrun/peer) | kclrun max RSS | peer max RSS |');
  console.log('|---|---|---|---|---|---|');
  for (const r of rows) {
    console.log(`| ${r.name} | ${r.ours.median.toFixed(0)} ms | ${r.peerName}: ${r.peer.median.toFixed(0)} ms | ${(r.ours.median / r.peer.median).toFixed(2)} | ${r.ours.rss.toFixed(0)} MiB | ${r.peer.rss.toFixed(0)} MiB |`);
  }
  // The function from the container image, when one is built (npm run image:build).
  execFileSync(node, [join(root, 'bench', 'image-bench.mjs'), String(runs)], { stdio: 'inherit' });
  const controllerBench = join(root, 'bench', 'controller-bench.mjs');
  if (existsSync(controllerBench)) {
    console.log('\ncontroller:');
    execFileSync(node, [controllerBench], { stdio: 'inherit' });
  }
  const workersBench = join(root, 'bench', 'render-workers-bench.mjs');
  console.log('\nparallel rendering:');
  execFileSync(node, [workersBench, process.env.KCLRUN_BENCH_KCLRUNS ?? '100'], { stdio: 'inherit' });
} finally {
  rmSync(work, { recursive: true, force: true });
}
