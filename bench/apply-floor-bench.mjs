#!/usr/bin/env node
// The apply floor: the API server's own write throughput against what kclrun's apply stage takes for the same
// objects, on one real control plane (etcd + kube-apiserver), alternating round by round.
//   - floor: a minimal client (node:https, keep-alive, 8 requests in flight) server-side-applies N ConfigMaps
//     (one PATCH `application/apply-patch+yaml` each, force) into a fresh namespace;
//   - kclrun: `bin/kclrun controller` (a process, --concurrent-ssa=8 to match the floor's 8 in flight, the client-side
//     rate limit lifted as the floor has none) reconciles a
//     KCLRun whose program renders the same N ConfigMaps into a fresh namespace. Its apply stage (staged apply, all
//     round trips included; render excluded) is timed by the controller itself (`durationMs` of its
//     "server-side apply completed" log line); the render ("manifests built") and created → Ready are reported too.
// Usage: node bench/apply-floor-bench.mjs [ROUNDS=3] [OBJECTS=1000]   (needs `npm run build` and the tools)
// The last stdout line is a JSON summary (bench/run.mjs turns it into rows).
import { Agent, request } from 'node:https';
import { treeCpuSeconds } from './proc-tree.mjs';
import { closeArtifactServer, controlPlane, median, newNamespace, nextRevision, startController, suite, waitFor } from './controller-lib.mjs';

const { gitSource, createKCLRun, kclPackage, jsonLines } = suite;
const rounds = Number(process.argv[2] ?? 3);
const count = Number(process.argv[3] ?? 1000);
const inFlight = 8;
const program = `items = [{apiVersion = "v1", kind = "ConfigMap", metadata.name = "cm-" + str(i), data.v = str(i)} for i in range(${count})]\n`;

/** The floor: N server-side applies, `inFlight` at a time, over keep-alive connections; wall ms. */
async function floor(ep, ns) {
  const agent = new Agent({ keepAlive: true, maxSockets: inFlight, ca: ep.ca });
  const patch = (i) =>
    new Promise((resolve, reject) => {
      const body = JSON.stringify({
        apiVersion: 'v1', kind: 'ConfigMap',
        metadata: { name: `cm-${i}`, namespace: ns, labels: { 'krm.kcl.dev/name': 'app', 'krm.kcl.dev/namespace': ns } },
        data: { v: String(i) },
      });
      const url = new URL(`/api/v1/namespaces/${ns}/configmaps/cm-${i}?fieldManager=floor&force=true`, ep.server);
      const req = request(url, {
        method: 'PATCH', agent,
        headers: { Authorization: `Bearer ${ep.token}`, 'Content-Type': 'application/apply-patch+yaml', Accept: 'application/json', 'Content-Length': Buffer.byteLength(body) },
      }, (res) => {
        res.resume();
        res.on('end', () => (res.statusCode === 200 || res.statusCode === 201 ? resolve() : reject(new Error(`floor: cm-${i}: HTTP ${res.statusCode}`))));
      });
      req.on('error', reject);
      req.end(body);
    });
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let next = 0;
  await Promise.all(Array.from({ length: inFlight }, async () => {
    while (next < count) await patch(next++);
  }));
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  agent.destroy();
  return { ms, cpuMs: (cpu.user + cpu.system) / 1000 };
}

const cp = await controlPlane();
let controller;
try {
  controller = await startController(cp, ['--log-level', 'debug', `--concurrent-ssa=${inFlight}`,
    // The floor client has no client-side rate limit; the controller's default (50 QPS, burst 300, as Flux) would
    // measure the limiter, not the round trips.
    '--kube-api-qps=10000', '--kube-api-burst=10000']);

  /** kclrun: one KCLRun rendering the N ConfigMaps into a fresh namespace; the controller's own timings. */
  const ours = async (ns) => {
    await gitSource(cp, ns, 'repo', kclPackage(program), nextRevision());
    const cpu0 = treeCpuSeconds(controller.pid);
    const t0 = performance.now();
    await createKCLRun(cp, ns, 'app', { sourceRef: { kind: 'GitRepository', name: 'repo' }, timeout: '5m' });
    const line = (msg) => jsonLines(controller.stderr()).find((l) => l.msg === msg && l.kclrun?.namespace === ns);
    // Until the apply stage has ended, watch the controller's log only: a GET of the KCLRun is a CRD read from etcd
    // (~6–9 ms of the API server's CPU each, its profile shows), and polling it would take from the server what the
    // floor's run keeps for its PATCHes.
    await waitFor(async () => line('server-side apply completed') !== undefined, { what: `KCLRun ${ns}/app applied`, timeoutMs: 600_000, intervalMs: 20 });
    await waitFor(async () => {
      const res = await cp.request('GET', `/apis/krm.kcl.dev.fluxcd/v1alpha1/namespaces/${ns}/kclruns/app`);
      return res.body?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
    }, { what: `KCLRun ${ns}/app Ready`, timeoutMs: 600_000, intervalMs: 50 });
    const readyMs = performance.now() - t0;
    const cpuMs = (treeCpuSeconds(controller.pid) - cpu0) * 1000;
    const applied = line('server-side apply completed');
    if (Object.keys(applied.changes).length !== count) throw new Error(`kclrun applied ${Object.keys(applied.changes).length} objects, not ${count}`);
    return { applyMs: applied.durationMs, renderMs: line('manifests built').durationMs, readyMs, cpuMs };
  };

  const got = { floor: [], floorCpu: [], apply: [], render: [], ready: [], cpu: [] };
  for (let round = 0; round <= rounds; round++) {
    // Round 0 warms both up and is not counted; then the order alternates.
    const steps = [
      async () => {
        const f = await floor(cp.admin, await newNamespace(cp, 'floor'));
        if (round) { got.floor.push(f.ms); got.floorCpu.push(f.cpuMs); }
      },
      async () => {
        const r = await ours(await newNamespace(cp, 'ours'));
        if (round) { got.apply.push(r.applyMs); got.render.push(r.renderMs); got.ready.push(r.readyMs); got.cpu.push(r.cpuMs); }
      },
    ];
    for (const step of round % 2 ? steps.reverse() : steps) await step();
  }
  const m = {
    floorMs: median(got.floor), applyMs: median(got.apply), renderMs: median(got.render), readyMs: median(got.ready),
    floorCpuMs: median(got.floorCpu), cpuMs: median(got.cpu),
  };
  console.log(`apply floor (${count} ConfigMaps, real kube-apiserver, ${rounds} alternating rounds after a warm-up; medians)`);
  console.log(`  floor (minimal SSA client, ${inFlight} in flight): ${m.floorMs.toFixed(0)} ms   samples ${got.floor.map(Math.round).join(', ')}`);
  console.log(`  kclrun apply stage (--concurrent-ssa=${inFlight}):    ${m.applyMs.toFixed(0)} ms   samples ${got.apply.join(', ')}   ratio ${(m.applyMs / m.floorMs).toFixed(2)}`);
  console.log(`  kclrun render (reported apart):              ${m.renderMs.toFixed(0)} ms   samples ${got.render.join(', ')}`);
  console.log(`  kclrun KCLRun created → Ready:               ${m.readyMs.toFixed(0)} ms   samples ${got.ready.map(Math.round).join(', ')}`);
  console.log(`  client CPU: floor ${m.floorCpuMs.toFixed(0)} ms (its ${count} PATCHes), kclrun ${m.cpuMs.toFixed(0)} ms (controller and workers, created → Ready)`);
  console.log(JSON.stringify({ objects: count, rounds, inFlight, ...Object.fromEntries(Object.entries(m).map(([k, v]) => [k, Math.round(v)])) }));
} finally {
  await controller?.stop('SIGTERM');
  await closeArtifactServer();
  await cp.stop();
}
