#!/usr/bin/env node
// The KRM function from the container image (`npm run image:build`) against the same function on the host, and the
// cost of starting a container at all (`node -e 0` in the image), with this machine's builder (docker, else
// buildah run --isolation chroot). Medians of RUNS runs after a warm-up. Skips, saying so, when there is no image.
// Usage: node bench/image-bench.mjs [RUNS]   (default 11)
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, detectBuilder, exec, imageTag, inspectImage, openImage } from '../scripts/image.mjs';

const runs = Number(process.argv[2] ?? 11);
const source = readFileSync(join(ROOT, 'examples/mutation/set-annotations/main.k'), 'utf8');
const items = Array.from({ length: 5 }, (_, i) => `- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: cfg-${i}\n  data:\n    k: v\n`).join('');
// The program inline: the container sees no host files.
const input = `apiVersion: config.kubernetes.io/v1
kind: ResourceList
items:
${items}functionConfig:
  apiVersion: krm.kcl.dev/v1alpha1
  kind: KCLRun
  metadata: {name: set-annotations}
  spec:
    params: {annotations: {owner: platform}}
    source: |
${source.replace(/^/gm, '      ')}
`;

async function median(run) {
  const times = [];
  for (let i = 0; i <= runs; i++) {
    const t0 = process.hrtime.bigint();
    const r = await run();
    if (r.code !== 0) throw new Error(`failed (${r.code}): ${r.stderr.slice(-500)}`);
    if (i > 0) times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return times.sort((a, b) => a - b)[Math.floor(times.length / 2)];
}

const tag = imageTag();
const builder = await detectBuilder();
const config = builder && (await inspectImage(builder, tag));
if (!config) {
  console.log(`image: ${tag} is not built here (npm run image:build): the image benchmark did not run`);
} else {
  const image = await openImage(builder, tag);
  try {
    const host = await median(() => exec(join(ROOT, 'bin', 'kclrun'), ['fn'], { input }));
    const inImage = await median(() => image.run([...config.entrypoint, ...config.cmd], input));
    const start = await median(() => image.run(['node', '-e', '0']));
    console.log(`\nimage (${tag}, ${(config.size / 1e6).toFixed(1)} MB, ${builder}) — ${runs} runs each after a warm-up, medians\n`);
    console.log('| case | ms |');
    console.log('|---|---|');
    console.log(`| kclrun fn, 5 items, on the host | ${host.toFixed(0)} |`);
    console.log(`| kclrun fn, 5 items, in the image | ${inImage.toFixed(0)} |`);
    console.log(`| container start (node -e 0 in the image) | ${start.toFixed(0)} |`);
  } finally {
    await image.close();
  }
}
