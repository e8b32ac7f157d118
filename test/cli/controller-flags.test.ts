/**
 * `kclrun controller` flag checks that fail before anything starts, run in-process (no cluster, no child process):
 * Go-style booleans, --events-addr, --interval-jitter-percentage, --kube-api-qps/--kube-api-burst,
 * --override-manager, --log-encoding. (runtime.e2e.test.ts checks the exit code and message of the real command.)
 */
import test from 'ava';
import { controllerCommand } from '../../cli/commands/controller.js';
import { UsageError } from '../../cli/io.js';
import { goBoolArgs } from '../../cli/commands/controller-flags.js';

delete process.env.KUBECONFIG; // nothing is loaded before the flags are checked

for (const [args, message] of [
  [['--events-addr', 'ftp://receiver'], /^--events-addr: expected an http or https URL, got "ftp:\/\/receiver"$/],
  [['--events-addr', 'not a url'], /^--events-addr: invalid URL "not a url"/],
  [['--interval-jitter-percentage', '100'], /^--interval-jitter-percentage: expected a non-negative integer from 0 to 99, got "100"$/],
  [['--kube-api-qps', 'fast'], /^--kube-api-qps: expected a number, got "fast"$/],
  [['--kube-api-burst', '0'], /^--kube-api-burst: expected a positive integer, got "0"$/],
  [['--concurrent-ssa', '0'], /^--concurrent-ssa: expected a positive integer, got "0"$/],
  [['--override-manager', ''], /^--override-manager: a field manager name must not be empty$/],
  [['--log-encoding', 'xml'], /^--log-encoding must be one of json, console, got "xml"$/],
  [['--no-cross-namespace-refs=yes'], /^--no-cross-namespace-refs: invalid boolean "yes" \(true or false\)$/],
] as const) {
  test(`usage error: ${args.join(' ')}`, async (t) => {
    await t.throwsAsync(controllerCommand([...args]), { instanceOf: UsageError, message });
  });
}

test('Go-style booleans: --flag=true is the flag, --flag=false sets it false, other flags pass through', (t) => {
  const r = goBoolArgs(['--watch-all-namespaces=false', '--enable-leader-election=true', '--concurrent=2', '--override-manager=a=b']);
  t.deepEqual(r.args, ['--enable-leader-election', '--concurrent=2', '--override-manager=a=b']);
  t.deepEqual([...r.falseFlags], ['watch-all-namespaces']);
  t.is(r.error, undefined);
});
