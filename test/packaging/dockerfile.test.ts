/**
 * What can be checked about the image without a Docker engine (none runs on these machines; the build itself is
 * unverified): every COPY source exists and is not excluded by .dockerignore, the engine is fetched by the same
 * script as `npm run engine:fetch`, the entrypoint is the kclrun CLI with `fn` as default command, the user is
 * non-root, and the install manifests reference an image tagged with kclrun's version.
 */
import test from 'ava';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { parseAllDocuments } from 'yaml';
import { repoRoot } from '../harness/tools.js';

const root = repoRoot();
const dockerfile = readFileSync(join(root, 'Dockerfile'), 'utf8');
const lines = dockerfile.split('\n').filter((l) => l.trim() && !l.trim().startsWith('#'));
const ignored = readFileSync(join(root, '.dockerignore'), 'utf8').split('\n').map((l) => l.trim()).filter(Boolean);
const version = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version;

test('every COPY from the build context names a file or directory that exists and is not ignored', (t) => {
  const copies = lines.filter((l) => /^COPY\s/.test(l) && !/--from=/.test(l));
  t.true(copies.length >= 5);
  for (const l of copies) {
    const parts = l.replace(/^COPY\s+/, '').split(/\s+/);
    for (const src of parts.slice(0, -1)) {
      t.true(existsSync(join(root, src)), `${src} (in "${l}") does not exist`);
      t.false(ignored.some((i) => src === i || src.startsWith(`${i}/`)), `${src} is excluded by .dockerignore`);
    }
  }
});

test('the build stage fetches the engine with the project script and compiles with the project tsconfig', (t) => {
  t.regex(dockerfile, /RUN KCLRUN_CACHE=\/opt\/kclrun node scripts\/fetch-engine\.mjs/);
  t.regex(dockerfile, /npm ci/);
  t.regex(dockerfile, /npx tsc -p tsconfig\.json/);
  t.regex(dockerfile, /COPY --from=build \/opt\/kclrun\/engine \/opt\/kclrun\/engine/);
  t.regex(dockerfile, /ENV KCLRUN_CACHE=\/opt\/kclrun/);
  // Every source folder the compiled CLI imports is copied into the build stage.
  for (const dir of ['krm', 'fn', 'controller', 'cli']) t.regex(dockerfile, new RegExp(`COPY ${dir} ./${dir}`));
});

test('the runtime stage is multi-stage, non-root, and runs the kclrun CLI with `fn` by default', (t) => {
  t.is(lines.filter((l) => /^FROM\s/.test(l)).length, 2);
  const user = lines.filter((l) => /^USER\s/.test(l)).at(-1);
  t.truthy(user);
  t.not(user!.split(/\s+/)[1]!.split(':')[0], '0');
  t.not(user!.split(/\s+/)[1]!.split(':')[0], 'root');
  t.regex(dockerfile, /ENTRYPOINT \["\/nodejs\/bin\/node", "\/app\/bin\/kclrun"\]/);
  t.regex(dockerfile, /CMD \["fn"\]/);
  t.true(readFileSync(join(root, 'bin', 'kclrun'), 'utf8').startsWith('#!/usr/bin/env node'));
  t.regex(readFileSync(join(root, 'bin', 'kclrun'), 'utf8'), /\.\.\/dist\/cli\/main\.js/);
});

test('kclrun --version, the install manifests and the image tag agree', (t) => {
  const out = execFileSync(join(root, 'bin', 'kclrun'), ['--version'], { encoding: 'utf8' });
  t.regex(out, new RegExp(`^kclrun ${version.replace(/\./g, '\\.')}$`, 'm'));
  const manifests = execFileSync(join(root, 'bin', 'kclrun'), ['install'], { encoding: 'utf8' });
  const deploy = parseAllDocuments(manifests).map((d) => d.toJS()).find((o) => o.kind === 'Deployment');
  t.is(deploy.spec.template.spec.containers[0].image, `ghcr.io/kclrun/kclrun:${version}`);
  t.is(deploy.spec.template.spec.containers[0].args[0], 'controller');
});
