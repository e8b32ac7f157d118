/**
 * The Dockerfile and build context as text, checked on every machine (the built image itself is tested by
 * image.test.ts where docker or buildah is available): every COPY source exists and survives .dockerignore, which
 * keeps everything else out of the context; base images are build args with public defaults; the engine is fetched by
 * the same script as `npm run engine:fetch`; the runtime stage is non-root and runs the kclrun CLI with `fn` by default.
 */
import test from 'ava';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { repoRoot } from '../harness/tools.js';

type ImageModule = typeof import('../../scripts/image.mjs');

const root = repoRoot();
const image: ImageModule = await import(pathToFileURL(join(root, 'scripts', 'image.mjs')).href);
const dockerfile = readFileSync(join(root, 'Dockerfile'), 'utf8');
const lines = dockerfile.split('\n').filter((l) => l.trim() && !l.trim().startsWith('#'));
const version = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version;

/** .dockerignore's rules, applied as Docker does: the last matching rule wins; a rule on a directory covers its files. */
const rules = readFileSync(join(root, '.dockerignore'), 'utf8')
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l && !l.startsWith('#'))
  .map((l) => {
    const negated = l.startsWith('!');
    const glob = (negated ? l.slice(1) : l).replace(/\/+$/, '');
    const re = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*\*\//g, '(.*/)?').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]');
    return { negated, glob, re: new RegExp(`^${re}$`) };
  });
function inContext(path: string): boolean {
  const parts = path.split('/');
  const prefixes = parts.map((_, i) => parts.slice(0, i + 1).join('/'));
  let ignored = false;
  for (const rule of rules) if (prefixes.some((p) => rule.re.test(p))) ignored = !rule.negated;
  return !ignored;
}
/** Files under `path`; with `prune`, skipping directories out of the context that no `!` rule reaches into. */
function files(path: string, prune = false): string[] {
  if (!statSync(join(root, path)).isDirectory()) return [path];
  if (prune && !inContext(path) && !rules.some((r) => r.negated && r.glob.startsWith(`${path}/`))) return [];
  return readdirSync(join(root, path)).flatMap((n) => files(`${path}/${n}`, prune));
}

test('every COPY source from the build context exists and every file in it is in the context', (t) => {
  const sources = image.copiedSources(dockerfile);
  t.true(sources.length >= 8);
  for (const src of sources) {
    t.true(existsSync(join(root, src)), `${src} does not exist`);
    for (const f of files(src)) t.true(inContext(f), `${f} (COPY ${src}) is excluded by .dockerignore`);
  }
});

test('.dockerignore keeps everything but the copied sources out of the context', (t) => {
  for (const path of ['node_modules/yaml/package.json', 'dist/cli/main.js', '.git/HEAD', '.cluster/bin/etcd', 'test/fn/engine.test.ts', 'bench/run.mjs', 'examples/flask-demo/main.k', 'README.md', 'scripts/build-tools.sh']) {
    t.false(inContext(path), `${path} is in the build context`);
  }
  const sources = image.copiedSources(dockerfile);
  const inside = readdirSync(root).flatMap((n) => files(n, true).filter(inContext));
  for (const f of inside) t.true(['Dockerfile', '.dockerignore', ...sources].some((s) => f === s || f.startsWith(`${s}/`)), `${f} is in the context but never copied`);
});

test('base images are build args with public defaults; the build stage fetches the engine with the project script', (t) => {
  t.regex(dockerfile, /^ARG BUILD_IMAGE=node:20-bookworm$/m);
  t.regex(dockerfile, /^ARG RUNTIME_IMAGE=gcr\.io\/distroless\/nodejs20-debian12:nonroot$/m);
  t.deepEqual(lines.filter((l) => /^FROM\s/.test(l)), ['FROM ${BUILD_IMAGE} AS build', 'FROM ${RUNTIME_IMAGE}']);
  t.regex(dockerfile, /RUN KCLRUN_CACHE=\/opt\/kclrun node scripts\/fetch-engine\.mjs/);
  t.regex(dockerfile, /npm ci/);
  t.regex(dockerfile, /npx tsc -p tsconfig\.json && node scripts\/bundle\.mjs && npm prune --omit=dev/, "the CLI bundle is built before devDependencies (esbuild) are pruned");
  t.regex(dockerfile, /COPY --from=build \/opt\/kclrun\/engine \/opt\/kclrun\/engine/);
  t.regex(dockerfile, /ENV KCLRUN_CACHE=\/opt\/kclrun/);
  // Every source folder tsconfig.json compiles (but the tests) is copied into the build stage, and all of bin/.
  const include = (JSON.parse(readFileSync(join(root, 'tsconfig.json'), 'utf8')) as { include: string[] }).include;
  const dirs = include.map((g) => g.split('/')[0]!).filter((d) => d !== 'test');
  t.true(dirs.length >= 4);
  for (const dir of dirs) t.regex(dockerfile, new RegExp(`^COPY ${dir} ./${dir}$`, 'm'));
  t.regex(dockerfile, /^COPY bin \.\/bin$/m);
});

test('the runtime stage is non-root and runs the kclrun CLI with `fn` by default, finding node on PATH', (t) => {
  const user = lines.filter((l) => /^USER\s/.test(l)).at(-1);
  t.truthy(user);
  t.regex(user!.split(/\s+/)[1]!, /^[1-9][0-9]*:[1-9][0-9]*$/, 'a numeric non-root uid:gid (runAsNonRoot checks it)');
  // The same V8 flags and malloc setting as bin/kclrun's shebang (the image runs node on the script, so the shebang
  // is not read).
  const shebang = readFileSync(join(root, 'bin', 'kclrun'), 'utf8').split('\n')[0]!;
  t.is(shebang, '#!/usr/bin/env -S MALLOC_MMAP_THRESHOLD_=131072 node --max-semi-space-size=2 --no-opt --optimize-for-size');
  t.regex(dockerfile, /^ENV .* MALLOC_MMAP_THRESHOLD_=131072$/m);
  t.regex(dockerfile, /ENTRYPOINT \["node", "--max-semi-space-size=2", "--no-opt", "--optimize-for-size", "\/app\/bin\/kclrun"\]/);
  t.regex(dockerfile, /CMD \["fn"\]/);
  t.regex(dockerfile, /ENV .*PATH=\/nodejs\/bin:/, "distroless's node is in /nodejs/bin");
  t.regex(readFileSync(join(root, 'bin', 'kclrun'), 'utf8'), /\.\.\/dist\/cli\/main\.js/);
});

test('kclrun --version, the install manifests and the image tag agree', (t) => {
  const out = execFileSync(join(root, 'bin', 'kclrun'), ['--version'], { encoding: 'utf8' });
  t.regex(out, new RegExp(`^kclrun ${version.replace(/\./g, '\\.')}$`, 'm'));
  t.is(image.imageTag(), `ghcr.io/kclrun/kclrun:${version}`);
  const manifests = execFileSync(join(root, 'bin', 'kclrun'), ['install'], { encoding: 'utf8' });
  const deploy = parseAllDocuments(manifests).map((d) => d.toJS()).find((o) => o.kind === 'Deployment');
  t.is(deploy.spec.template.spec.containers[0].image, image.imageTag());
  t.is(deploy.spec.template.spec.containers[0].args[0], 'controller');
});
