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
