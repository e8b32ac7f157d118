/** `--help` on every command, `--version`, and what a wrong command line looks like. */
import test from 'ava';
import { enginePin } from '../../fn/engine/native.js';
import { kclrun, REPO } from '../support/kclrun.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const VERSION = (JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string }).version;

for (const [cmd, usage] of [
  ['fn', 'Usage: kclrun fn < resource-list.yaml > resource-list.yaml'],
  ['render', 'Usage: kclrun render [PATH...] [options]'],
  ['set', 'Usage: kclrun set FILE PATH=VALUE...'],
  ['version', 'Usage: kclrun version'],
] as const) {
  for (const flag of ['--help', '-h']) {
    test(`kclrun ${cmd} ${flag} prints its usage and exits 0`, (t) => {
      const r = kclrun([cmd, flag]);
      t.is(r.code, 0, r.stderr);
      t.is(r.stderr, '');
      t.true(r.stdout.startsWith(usage), r.stdout);
    });
  }
}

test('kclrun --help lists the commands; no command prints it too but exits 1', (t) => {
  const help = kclrun(['--help']);
  t.is(help.code, 0);
  for (const cmd of ['fn', 'render', 'set', 'version']) t.regex(help.stdout, new RegExp(`^  ${cmd} `, 'm'));
  const none = kclrun([]);
  t.is(none.code, 1);
  t.is(none.stdout, help.stdout);
});

test('kclrun --version and kclrun version print kclrun and engine versions', (t) => {
  const pin = enginePin();
  for (const args of [['--version'], ['version']]) {
    const r = kclrun(args);
    t.is(r.code, 0, r.stderr);
    t.regex(r.stdout, new RegExp(`^kclrun ${VERSION.replace(/\./g, '\\.')}\nKCL engine ${pin.version} \\(${pin.package} ${pin.version}, git [0-9a-f]{12}\\)\n$`));
  }
});

test('an unknown command is an error with exit 1', (t) => {
  const r = kclrun(['frobnicate']);
  t.is(r.code, 1);
  t.is(r.stdout, '');
  t.is(r.stderr, 'kclrun: unknown command "frobnicate" (see kclrun --help)\n');
});

test('kclrun controller --help lists every flag Flux-style: name, type, description, default', (t) => {
  const r = kclrun(['controller', '--help']);
  t.is(r.code, 0, r.stderr);
  t.true(r.stdout.startsWith('Usage: kclrun controller [flags]'), r.stdout);
  const line = (flag: string) => r.stdout.split('\n').find((l) => l.startsWith(`      --${flag} `) || l === `      --${flag}`);
  for (const [flag, re] of [
    ['events-addr', /^ {6}--events-addr string +The address of the events receiver/],
    ['kube-api-qps', /^ {6}--kube-api-qps float32 +The maximum queries-per-second .* \(default 50\)$/],
    ['kube-api-burst', /^ {6}--kube-api-burst int +.* \(default 300\)$/],
    ['override-manager', /^ {6}--override-manager stringArray +Field manager disallowed/],
    ['concurrent', /^ {6}--concurrent int +.* \(default 4\)$/],
    ['concurrent-ssa', /^ {6}--concurrent-ssa int +.* \(default 4\)$/],
    ['requeue-dependency', /^ {6}--requeue-dependency duration +.* \(default 30s\)$/],
    ['interval-jitter-percentage', /^ {6}--interval-jitter-percentage uint8 +.* \(default 5\)$/],
    ['metrics-addr', /^ {6}--metrics-addr string +.* \(default ":8080"\)$/],
    ['log-encoding', /^ {6}--log-encoding string +Log encoding format\. Can be 'json' or 'console'\. \(default "json"\)$/],
    ['watch-all-namespaces', /^ {6}--watch-all-namespaces +Watch .* \(default true\)$/],
    ['enable-leader-election', /^ {6}--enable-leader-election +Enable leader election[^(]*$/],
  ] as const) {
    t.regex(line(flag) ?? `(no line for --${flag})`, re);
  }
  // Descriptions start in one column, as pflag aligns them.
  const flagLines = r.stdout.split('\n').filter((l) => /^ {2}(-h, | {4})--/.test(l));
  const columns = new Set(flagLines.map((l) => /^\s+-\S*(?:, --\S+)?(?: \S+)?\s+/.exec(l)![0].length));
  t.is(columns.size, 1, [...columns].join(','));
  t.true(flagLines.length >= 24);
});
