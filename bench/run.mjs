#!/usr/bin/env node
// `npm run bench`: speed and memory of kclrun against its peers, measured in the same run on the same machine,
// alternating ours and the peer run by run. Reports medians of wall and CPU time (user + sys) and the max peak RSS,
// and ratios kclrun / peer. Machines are noisy: compare ratios. Writes bench/results/latest.json.
//   - kclrun fn (5 / 1,000 / 10,000 Deployments, set-annotations in KCL)  vs  the Python + libyaml peer on the same
//     engine (bench/peers/kcl_python_fn.py: PyYAML CSafeLoader, kcl-lib; the stand-in for krm-kcl)
//   - kclrun render examples/flask-demo                      vs  the official Python binding of the same engine
//   - kclrun fn from the container image vs on the host (bench/image-bench.mjs), when the image is built
//   - kclrun fn (5 items), engine in-process under the crash guard  vs  the same function with the engine in-process
//     unguarded (the design before engine workers): the start-up cost of crash isolation; and the same for the
//     fallback without the guard (a supervised engine worker process)
//   - the controller (bench/controller-bench.mjs), when present: revision → applied, RSS with 100 KCLRuns
//   - parallel rendering (bench/render-workers-bench.mjs): 100 KCLRuns of ~0.5 s engine time each, created → all
//     Ready, at --render-workers=1 and =2 (KCLRUN_BENCH_KCLRUNS sets the count)
//   - the apply floor (bench/apply-floor-bench.mjs): the controller's apply stage for 1,000 ConfigMaps vs a minimal
//     server-side-apply client, 8 in flight; render time reported apart
//   - Flux's applier (bench/flux-peer-bench.mjs): kustomize-controller v1.9.0 (built here, bench only, by
//     `scripts/build-tools.sh kustomize-controller`) vs the controller, 1 × 20 and 100 × 20 ConfigMaps
//   - scale (bench/scale-bench.mjs): 10 → 100 → 1,000 KCLRuns
// Usage: node bench/run.mjs [RUNS] [--quick] [--only=fn|controller]   (default 11 runs; --quick, under a minute: 3 runs,
// fn with 5 and 1,000 items, the Flux peer with 1 × 20 and 10 × 20 ConfigMaps and a 10 s CPU window, nothing else; --only: one
// group of rows; with either, the rows not measured are kept from bench/results/latest.json; --fn is --only=fn). KCLRUN_BENCH_BASE=<another checkout's
// bin/kclrun> adds rows `fn, N items (this tree vs base)`, alternating the two: a before/after of a change. The
// peers' venv is made on first use under ~/.cache/kclrun/bench-venv. Peak RSS is the whole process tree's
// (bench/proc-tree.mjs watchTree).
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { engineDir } from '../scripts/fetch-engine.mjs';
import { watchTree } from './proc-tree.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const quick = process.argv.includes('--quick');
const base = process.env.KCLRUN_BENCH_BASE;
const runArg = process.argv.slice(2).find((a) => /^\d+$/.test(a));
const runs = Number(runArg ?? (quick ? 3 : 11));
const only = process.argv.includes('--fn') ? 'fn' : process.argv.find((a) => a.startsWith('--only='))?.slice('--only='.length);
const engineVersion = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).kclEngine.version;
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

/**
 * One run of `cmd` under /usr/bin/time: wall ms, CPU ms (user + sys, children included) and peak RSS MiB of the
 * whole process tree (bench/proc-tree.mjs watchTree: the sum of each process's peak; /usr/bin/time's %M is the largest one).
 */
async function once(cmd, args, input) {
  const t0 = process.hrtime.bigint();
  const child = spawn('/usr/bin/time', ['-f', '%U %S %M', cmd, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  const tree = watchTree(child.pid);
  const stderr = [];
  child.stdout.resume();
  child.stderr.on('data', (d) => stderr.push(d));
  child.stdin.on('error', () => {}); // a command that fails early closes its stdin: its exit status says so
  child.stdin.end(input);
  // 'exit' comes before the streams close; the tree is gone by then (its last sample is taken on the way).
  const status = await new Promise((resolve) => child.on('close', (code) => resolve(code)));
  const { mib } = tree.stop();
  const wall = Number(process.hrtime.bigint() - t0) / 1e6;
  const err = Buffer.concat(stderr).toString();
  if (status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${err.slice(-500)}`);
  const [user, sys, kb] = err.trim().split('\n').pop().split(' ').map(Number);
  // The sampled sum misses nothing of the largest process: never report less than /usr/bin/time's exact peak.
  return { wall, cpu: (user + sys) * 1000, rss: Math.max(mib, kb / 1024) };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Runs ours and the peer alternately, `n` times each after one warm-up each; medians (max for RSS). */
async function alternate(ours, peer, n) {
  const got = { ours: [], peer: [] };
  for (let i = 0; i <= n; i++) {
    for (const [key, [cmd, args, input]] of i % 2 ? [['peer', peer], ['ours', ours]] : [['ours', ours], ['peer', peer]]) {
      const m = await once(cmd, args, input);
      if (i > 0) got[key].push(m);
    }
  }
  const sum = (ms) => ({ wall: median(ms.map((m) => m.wall)), cpu: median(ms.map((m) => m.cpu)), rss: Math.max(...ms.map((m) => m.rss)) });
  return { ours: sum(got.ours), peer: sum(got.peer) };
}

function pythonPeer() {
  const venv = join(cache, 'bench-venv');
  const py = join(venv, 'bin', 'python');
  const ok = () => spawnSync(py, ['-c', `import yaml, kcl_lib, importlib.metadata as m; assert yaml.__with_libyaml__; assert m.version('kcl-lib') == '${engineVersion}'`]).status === 0;
  if (!existsSync(py) || !ok()) {
    execFileSync('python3', ['-m', 'venv', venv], { stdio: 'inherit' });
    execFileSync(join(venv, 'bin', 'pip'), ['install', '-q', `kcl-lib==${engineVersion}`, 'pyyaml'], { stdio: 'inherit' });
    if (!ok()) throw new Error(`${venv}: kcl-lib ${engineVersion} with PyYAML's libyaml is not importable`);
  }
  return py;
}

const rows = [];
/** A row without a peer (a figure reported alongside, e.g. render time). */
function figure(name, ours, unit, n) {
  rows.push({ name, ours: Math.round(ours), peer: null, peerName: null, ratio: null, unit, runs: n });
}
/** A row of two figures measured in the same run. */
function pair(name, ours, peer, peerName, unit, n) {
  const round = (x) => (unit === 'ms' ? Math.round(x) : Math.round(x * 10) / 10);
  rows.push({ name, ours: round(ours), peer: round(peer), peerName, ratio: Number((ours / peer).toFixed(2)), unit, runs: n });
}

/** Runs a controller bench script under nice; echoes its output and returns its last line as JSON. */
function jsonBench(script, args) {
  const out = execFileSync('nice', ['-n', '10', process.execPath, join(root, 'bench', script), ...args], { stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8', maxBuffer: 1 << 28 });
  process.stdout.write(out);
  return JSON.parse(out.trim().split('\n').pop());
}

function controllerRows() {
  if (!quick) {
    const floorRounds = 5;
    const f = jsonBench('apply-floor-bench.mjs', [String(floorRounds), '1000']);
    pair('controller apply stage, 1,000 ConfigMaps (render excluded)', f.applyMs, f.floorMs, 'API server floor: minimal SSA client, 8 in flight', 'ms', floorRounds);
    figure('controller render, 1,000 ConfigMaps (reported apart)', f.renderMs, 'ms', floorRounds);
    figure('controller KCLRun of 1,000 ConfigMaps: created → Ready', f.readyMs, 'ms', floorRounds);
    pair('controller CPU for 1,000 ConfigMaps (created → Ready, render included)', f.cpuMs, f.floorCpuMs, 'the floor client\'s CPU for its 1,000 PATCHes', 'ms', floorRounds);
  }

  // kustomize-controller is built here only (never by npm test): nice'd, cached after the first build.
  execFileSync('nice', ['-n', '10', join(root, 'scripts', 'build-tools.sh'), 'kustomize-controller'], { stdio: 'inherit' });
  const p = jsonBench('flux-peer-bench.mjs', quick ? ['--quick'] : []);
  const kc = 'kustomize-controller v1.9.0';
  const one = p['1x20'];
  const many = p['100x20'];
  const n = `${p.sources} × 20`;
  pair('controller 1 × 20: from scratch → Ready', one.scratchMs.ours, one.scratchMs.peer, kc, 'ms', 1);
  pair('controller 1 × 20: revision → applied', one.revisionMs.ours, one.revisionMs.peer, kc, 'ms', one.revisions);
  pair(`controller ${n}: from scratch → all Ready`, many.scratchMs.ours, many.scratchMs.peer, kc, 'ms', 1);
  pair(`controller ${n}: revision → applied`, many.revisionMs.ours, many.revisionMs.peer, kc, 'ms', many.revisions);
  pair(`controller ${n}: steady-state CPU (tree, interval ${many.steadyInterval})`, many.cpuSecondsPerMin.ours, many.cpuSecondsPerMin.peer, kc, 's/min', 1);
  pair('controller RSS idle (tree)', p.rssMiB.idle.ours, p.rssMiB.idle.peer, kc, 'MiB', 1);
  pair(`controller RSS with ${n} (tree)`, p.rssMiB.loaded.ours, p.rssMiB.loaded.peer, kc, 'MiB', 1);
  pair('controller peak RSS (tree)', p.rssMiB.peak.ours, p.rssMiB.peak.peer, kc, 'MiB', 1);

  if (quick) return;
  const sc = jsonBench('scale-bench.mjs', ['10', '100', '1000']);
  for (const st of sc.steps) {
    figure(`controller scale ${st.kclruns} KCLRuns: created → all Ready`, st.readyMs, 'ms', 1);
    figure(`controller scale ${st.kclruns} KCLRuns: RSS all Ready (tree)`, st.rssReadyMiB, 'MiB', 1);
  }
}
/** Rows `{name, ours, peer, peerName, ratio, unit, runs}`: wall and CPU ms, peak RSS MiB. */
function compare(name, m, peerName, n) {
  for (const [what, key, unit] of [['wall', 'wall', 'ms'], ['CPU', 'cpu', 'ms'], ['peak RSS', 'rss', 'MiB']]) {
    const ours = Math.round(m.ours[key]);
    const peer = Math.round(m.peer[key]);
    rows.push({ name: `${name}: ${what}`, ours, peer, peerName, ratio: Number((m.ours[key] / m.peer[key]).toFixed(2)), unit, runs: n });
  }
}

async function fnRows() {
  const kclrun = join(root, 'bin', 'kclrun');
  const node = process.execPath;
  const py = pythonPeer();
  for (const n of quick ? [5, 1000] : [5, 1000, 10000]) {
    const input = resourceList(n);
    writeFileSync(join(work, `rl-${n}.yaml`), input);
    const k = n >= 10000 ? Math.max(3, Math.ceil(runs / 2)) : runs;
    const m = await alternate([kclrun, ['fn'], input], [py, [join(root, 'bench/peers/kcl_python_fn.py')], input], k);
    compare(`fn, ${n.toLocaleString('en')} items`, m, 'Python + libyaml, kcl-lib (same engine)', k);
    if (base) compare(`fn, ${n.toLocaleString('en')} items (this tree vs base)`, await alternate([kclrun, ['fn'], input], [base, ['fn'], input], k), 'base build (KCLRUN_BENCH_BASE)', k);
    if (n === 5 && only !== 'fn' && !quick) {
      const before = [node, [join(root, 'bench/peers/fn-in-process.mjs')], input];
      compare('fn, 5 items (crash guard vs unguarded)', await alternate([kclrun, ['fn'], input], before, k), 'engine in-process, unguarded (before)', k);
      // The fallback: an engine directory without libkclguard.so makes the CLI use an engine worker process.
      const noGuard = join(work, 'engine-without-guard');
      mkdirSync(noGuard);
      const engine = process.env.KCL_LIB_PATH ? dirname(process.env.KCL_LIB_PATH) : engineDir();
      for (const f of ['libkcl.so', 'libpystub.so']) symlinkSync(join(engine, f), join(noGuard, f));
      const worker = ['/usr/bin/env', [`KCL_LIB_PATH=${join(noGuard, 'libkcl.so')}`, kclrun, 'fn'], input];
      compare('fn, 5 items (engine worker fallback vs unguarded)', await alternate(worker, before, k), 'engine in-process, unguarded (before)', k);
    }
  }
  if (quick) return;
  const flask = join(root, 'examples/flask-demo');
  const renderPeer = [py, [join(root, 'bench/peers/kcl_python_render.py'), flask, join(flask, 'main.k'), join(flask, 'render/k8s/kubernetes_render.k')]];
  compare('render flask-demo', await alternate([kclrun, ['render', flask]], renderPeer, runs), 'kcl-lib Python (same engine)', runs);
}

try {
  const node = process.execPath;
  if (only !== 'controller') await fnRows();
  if (only !== 'fn') controllerRows();
  const loadAvg = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  console.log(`\nkclrun benchmarks — medians (max for RSS) of alternating runs after a warm-up; ${new Date().toISOString()}; load average ${loadAvg}\n`);
  console.log('| case | kclrun | peer | ratio (kclrun/peer) | runs |');
  console.log('|---|---|---|---|---|');
  for (const r of rows) console.log(`| ${r.name} | ${r.ours} ${r.unit} | ${r.peer === null ? '—' : `${r.peer} ${r.unit}`} | ${r.ratio === null ? '—' : r.ratio.toFixed(2)} | ${r.runs} |`);
  mkdirSync(join(root, 'bench', 'results'), { recursive: true });
  const latest = join(root, 'bench', 'results', 'latest.json');
  // With --only or --quick, the rows this run did not measure are kept from the previous run.
  const kept = (only || quick) && existsSync(latest) ? JSON.parse(readFileSync(latest, 'utf8')).filter((r) => !rows.some((n) => n.name === r.name)) : [];
  writeFileSync(latest, `${JSON.stringify([...kept, ...rows], null, 2)}\n`);
  if (!quick && !only) {
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
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
