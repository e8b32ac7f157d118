/**
 * The krm layer under the real kpt: a function built on it leaves a package
 * byte-for-byte unchanged, keeps files in place when objects are rebuilt from
 * plain JSON, and fails the run on an error result.
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fixturePath } from './fixtures.js';

const KPT = ['/usr/bin/kpt', '/usr/lib/google-cloud-sdk/bin/kpt'].find((p) => existsSync(p));
const KRM = new URL('../../krm/index.js', import.meta.url).href;

/** Function bodies: `input` (parsed), `objs` (plain objects) and `args` are in scope; return `{ items, results }`. */
const FUNCTIONS: Record<string, string> = {
  noop: 'return { items: input.items };',
  // Everything through plain JSON, as KCL sees it; replicas bumped on the Deployment.
  viaJson: `const objs = input.items.map((i) => i.toObject());
    for (const o of objs) if (o.kind === 'Deployment') o.spec.replicas = 5;
    return { items: krm.itemsFromOutputs(objs, input.items) };`,
  // Rebuilt from scratch without bookkeeping, then carried over by GVKNN.
  rebuilt: `const items = input.items.map((i) => {
      const o = i.toObject();
      const a = o.metadata?.annotations ?? {};
      for (const k of Object.keys(a)) if (krm.isInternalAnnotation(k)) delete a[k];
      return krm.Item.fromObject(o);
    });
    krm.carryInternalAnnotations(items, input.items);
    return { items };`,
  fail: `return { items: input.items, results: [{ message: 'replicas too high', severity: 'error',
      resourceRef: krm.resourceRefOf(input.items.find((i) => i.kind === 'Deployment')), field: { path: 'spec.replicas' } }] };`,
};

function writeFunction(dir: string, name: string): string {
  const file = join(dir, `${name}.mjs`);
  writeFileSync(
    file,
    `#!/usr/bin/env node
import * as krm from ${JSON.stringify(KRM)};
const chunks = [];
for await (const c of process.stdin) chunks.push(c);
const input = krm.parseInput(Buffer.concat(chunks).toString('utf8'));
const out = (() => { ${FUNCTIONS[name]} })();
process.stdout.write(krm.formatResourceList(out.items, { functionConfig: input.functionConfig, results: out.results }));
process.exitCode = krm.exitCodeFor(out.results ?? []);
`,
  );
  chmodSync(file, 0o755);
  return `./${name}.mjs`;
}

/** All files of a package, relative path → content. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out[relative(dir, p)] = readFileSync(p, 'utf8');
    }
  };
  walk(dir);
  return out;
}

function setup(): { cwd: string; pkg: string; before: Record<string, string> } {
  const cwd = mkdtempSync(join(tmpdir(), 'krm-kpt-'));
  const pkg = join(cwd, 'pkg');
  cpSync(fixturePath('pkg'), pkg, { recursive: true });
  return { cwd, pkg, before: snapshot(pkg) };
}

function kpt(cwd: string, args: string[]): { status: number | null; stderr: string } {
  const r = spawnSync(KPT as string, args, { cwd, encoding: 'utf8' });
  return { status: r.status, stderr: r.stderr };
}

const kptTest = KPT ? test : test.skip;

kptTest('a no-op function leaves the package byte-for-byte unchanged, run after run', (t) => {
  const { cwd, pkg, before } = setup();
  const fn = writeFunction(cwd, 'noop');
  for (let run = 0; run < 3; run++) {
    const r = kpt(cwd, ['fn', 'eval', 'pkg', '--exec', fn, '--', 'a=1']);
    t.is(r.status, 0, r.stderr);
  }
  t.deepEqual(snapshot(pkg), before);
});

kptTest('objects round-tripped through plain JSON keep comments, 0644 and their files', (t) => {
  const { cwd, pkg, before } = setup();
  const r = kpt(cwd, ['fn', 'eval', 'pkg', '--exec', writeFunction(cwd, 'viaJson')]);
  t.is(r.status, 0, r.stderr);
  const after = snapshot(pkg);
  t.deepEqual(Object.keys(after).sort(), Object.keys(before).sort());
  t.is(after['deploy.yaml'], (before['deploy.yaml'] as string).replace('replicas: 3', 'replicas: 5'));
  t.deepEqual({ ...after, 'deploy.yaml': '' }, { ...before, 'deploy.yaml': '' });
});

kptTest('objects rebuilt without bookkeeping stay in their files once annotations are carried', (t) => {
  const { cwd, pkg, before } = setup();
  const r = kpt(cwd, ['fn', 'eval', 'pkg', '--exec', writeFunction(cwd, 'rebuilt')]);
  t.is(r.status, 0, r.stderr);
  const after = snapshot(pkg);
  // no deployment_web.yaml / service_web.yaml: both same-named Services stay in their own file
  t.deepEqual(Object.keys(after).sort(), Object.keys(before).sort());
  t.regex(after['other/svc.yaml'] as string, /port: 81/);
  t.regex(after['svc.yaml'] as string, /port: 80/);
});

kptTest('an error result fails the kpt run with its message and writes nothing', (t) => {
  const { cwd, pkg, before } = setup();
  const r = kpt(cwd, ['fn', 'eval', 'pkg', '--exec', writeFunction(cwd, 'fail')]);
  t.not(r.status, 0);
  t.regex(r.stderr, /\[error\] apps\/v1\/Deployment\/web spec\.replicas: replicas too high/);
  t.deepEqual(snapshot(pkg), before);
  // stdout still carries the ResourceList with its results, and the exit code is 1
  const direct = spawnSync(join(cwd, 'fail.mjs'), { input: readFileSync(fixturePath('kpt-eval-input.yaml')), encoding: 'utf8' });
  t.is(direct.status, 1);
  t.regex(direct.stdout, /\nresults:\n- message: replicas too high\n  severity: error\n/);
  t.regex(direct.stdout, /^apiVersion: config.kubernetes.io\/v1\nkind: ResourceList\nitems:\n/);
});
