/**
 * The examples are tests (krm-kcl's layout): every `examples/<category>/<name>/suite/good.yaml` must pass and every
 * `suite/bad.yaml` must fail, run the way a user runs them — `cd examples/<category>/<name> && kclrun fn <
 * suite/good.yaml` (a suite's `spec.source: ./main.k` is relative to the example's package directory, which is the
 * working directory here). The resources that come out of each good suite are asserted; an example without
 * expectations below fails the test, so new examples must say what they produce.
 */
import test from 'ava';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { EXAMPLES, kclrun } from '../support/kclrun.js';

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** What each good suite must produce, and what its bad suite's error must say. */
const EXPECT: Record<string, { good: (t: import('ava').ExecutionContext, out: Obj[]) => void; bad?: RegExp }> = {
  'mutation/set-annotations': {
    good: (t, out) => {
      t.deepEqual(
        out.map((o) => `${o.kind}/${o.metadata.name}`),
        ['Deployment/web', 'Service/web'],
      );
      t.deepEqual(out[0]!.metadata.annotations, { existing: 'kept', 'example.com/managed-by': 'kclrun', owner: 'platform-team' });
      t.deepEqual(out[1]!.metadata.annotations, { 'example.com/managed-by': 'kclrun', owner: 'platform-team' });
      t.is(out[0]!.spec.replicas, 2, 'the rest of the item is unchanged');
    },
  },
  'validation/replica-limits': {
    good: (t, out) => {
      t.deepEqual(
        out.map((o) => `${o.kind}/${o.metadata.name}`),
        ['Deployment/web', 'ConfigMap/settings'],
      );
      t.is(out[0]!.spec.replicas, 3);
      t.is(out[0]!.metadata.annotations, undefined, 'a validator does not change items');
    },
    bad: /^\[error\] main\.k:17(:\d+)?: EvaluationError: Deployment\/web: replicas 6 is outside the allowed range 2\.\.5$/m,
  },
  'abstraction/web-service': {
    good: (t, out) => {
      const [deploy, svc, ...rest] = out;
      t.is(rest.length, 0);
      t.like(deploy, {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'web', labels: { app: 'web', team: 'platform' } },
        spec: { replicas: 2, selector: { matchLabels: { app: 'web' } } },
      });
      t.deepEqual(deploy!.spec.template.spec.containers, [
        { name: 'web', image: 'nginx:1.27', env: [{ name: 'LOG_LEVEL', value: 'info' }], ports: [{ containerPort: 8080, protocol: 'TCP' }] },
      ]);
      t.deepEqual(svc, {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: 'web', labels: { team: 'platform', app: 'web' } },
        spec: { selector: { app: 'web' }, ports: [{ port: 80, targetPort: 8080, protocol: 'TCP' }] },
      });
    },
    bad: /^\[error\] main\.k:\d+(:\d+)?: EvaluationError: Instance check failed\n\s+main\.k:\d+(:\d+)?: Check failed on the condition: port must be between 1 and 65535$/m,
  },
};

/** Example package dirs (those with kcl.mod and a suite/). */
function examples(dir = EXAMPLES): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (!statSync(p).isDirectory()) continue;
    if (existsSync(join(p, 'kcl.mod')) && existsSync(join(p, 'suite'))) out.push(p);
    else out.push(...examples(p));
  }
  return out;
}

const found = examples();

test('the examples tree has the expected suites', (t) => {
  const names = found.map((p) => relative(EXAMPLES, p)).sort();
  t.deepEqual(names, Object.keys(EXPECT).sort(), 'every example with a suite/ has expectations here, and vice versa');
  for (const p of found) t.true(existsSync(join(p, 'main.k')), `${p}/main.k`);
});

for (const dir of found) {
  const name = relative(EXAMPLES, dir);
  const good = join(dir, 'suite', 'good.yaml');
  const bad = join(dir, 'suite', 'bad.yaml');

  test(`${name}: suite/good.yaml passes and produces the expected resources`, (t) => {
    t.true(existsSync(good), 'every example has suite/good.yaml');
    const r = kclrun(['fn'], { cwd: dir, input: readFileSync(good, 'utf8') });
    t.is(r.code, 0, r.stderr);
    t.is(r.stderr, '');
    const out = parseAllDocuments(r.stdout).map((d) => d.toJS() as Obj);
    t.false(out.some((o) => o.kind === 'KCLRun'), 'KCLRun documents are removed from the output');
    EXPECT[name]?.good(t, out);
  });

  if (existsSync(bad)) {
    test(`${name}: suite/bad.yaml fails, naming the KCL file and line`, (t) => {
      const r = kclrun(['fn'], { cwd: dir, input: readFileSync(bad, 'utf8') });
      t.is(r.code, 1, r.stdout);
      const expected = EXPECT[name]?.bad;
      t.truthy(expected, `${name} has a bad suite: say what its error must be`);
      if (expected) t.regex(r.stderr, expected);
    });
  }
}
