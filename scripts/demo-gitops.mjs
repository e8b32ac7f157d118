#!/usr/bin/env node
// `npm run demo:gitops`: the GitOps walk-through on this machine (no cluster needed): a real kube-apiserver and
// Flux source-controller, the flask-demo KCL repo on a local Git server, and `kclrun controller`.
const { runWalkthrough } = await import('../dist/test/e2e/walkthrough.js');
try {
  const r = await runWalkthrough((m) => console.log(m));
  console.log(`\nDone. Commit → artifact ${r.pushToArtifactMs} ms (source-controller polls every 10s); artifact → rollout ${r.artifactToRolloutMs} ms; commit → Service pruned ${r.pushToPruneMs} ms.`);
} catch (err) {
  console.error(`demo:gitops failed: ${err.message}`);
  process.exitCode = 1;
}
