/**
 * The user's walk-through end to end with the real source-controller: Flux notices a commit that bumps the Flask
 * image tag, and the controller rolls the Deployment out; a Service removed from the KCL is pruned.
 */
import test from 'ava';
import { runWalkthrough } from './walkthrough.js';

test('GitOps walk-through: commit → source-controller artifact → KCLRun applies → Deployment image changes; removed Service is pruned', async (t) => {
  t.timeout(300_000);
  const r = await runWalkthrough((m) => t.log(m));
  t.regex(r.deployments, /flask-demo/);
  t.regex(r.firstImage, /^kcllang\/flask_demo:6b5c4a2e/);
  t.not(r.newImage, r.firstImage);
  t.true(r.artifactToRolloutMs < 15_000, `rollout took ${r.artifactToRolloutMs} ms after the artifact`);
});
