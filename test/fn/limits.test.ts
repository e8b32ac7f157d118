/** The sizes the render-limit flags take (`512Mi`, `64Mi`, `1G`) and how limits are written back in messages. */
import test from 'ava';
import { checkOutputLimits, formatBytes, formatDuration, parseBytes } from '../../fn/limits.js';

for (const [text, bytes] of [
  ['512Mi', 512 * 1024 * 1024],
  ['1Gi', 1024 ** 3],
  ['64Ki', 65536],
  ['200M', 200e6],
  ['1.5Gi', 1.5 * 1024 ** 3],
  ['65536', 65536],
] as const) {
  test(`parseBytes("${text}") = ${bytes}`, (t) => t.is(parseBytes(text), bytes));
}

for (const bad of ['', 'lots', '-1Mi', '0', '0Mi', '12 Mi', '1mi', '1e9', 'Mi']) {
  test(`parseBytes("${bad}") is not a size`, (t) => t.is(parseBytes(bad), undefined));
}

test('formatBytes and formatDuration write limits as the flags take them', (t) => {
  t.is(formatBytes(512 * 1024 * 1024), '512Mi');
  t.is(formatBytes(1.5 * 1024 ** 3), '1.5Gi');
  t.is(formatBytes(2048), '2Ki');
  t.is(formatBytes(1000), '1000B');
  t.is(formatDuration(60_000), '60s');
  t.is(formatDuration(1500), '1.5s');
  t.is(formatDuration(500), '500ms');
});

test('checkOutputLimits: at the limit passes, over it names the limit and its flag', (t) => {
  const limits = { maxObjects: 2, maxBytes: 100 };
  t.is(checkOutputLimits(limits, { objects: 2, bytes: 100 }), undefined);
  t.deepEqual(checkOutputLimits(limits, { objects: 3 }, 'main.k'), {
    severity: 'error',
    file: 'main.k',
    message: 'the program rendered 3 resources, more than the limit of 2 (--render-max-objects)',
  });
  t.is(checkOutputLimits(limits, { bytes: 101 })?.message, "the program's output is 101B, more than the 100B limit (--render-max-bytes)");
});
