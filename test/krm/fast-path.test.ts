/**
 * The fast way in and out (block-yaml.ts, list-source.ts, text-patch.ts) against the full reader and writer: every
 * value the fast reader gives is the full reader's value, and a function's output written from kept source text is
 * byte for byte what the document path writes. A leading comment line makes the full reader take a list (the fast
 * one refuses top-level comments), so both paths run on the same items.
 */
import test from 'ava';
import { parseDocument } from 'yaml';
import { readBlockYaml } from '../../krm/block-yaml.js';
import { formatResourceList, GO_SCHEMA_OPTIONS, itemsFromOutputs, parseInput, TO_JS_OPTIONS } from '../../krm/index.js';
import type { JsonObject, Result } from '../../krm/index.js';
import { readFixture } from './fixtures.js';

const FULL_READER = '# read by the full reader\n';

function fullValue(text: string): unknown {
  return parseDocument(text, GO_SCHEMA_OPTIONS).toJS(TO_JS_OPTIONS);
}

const ACCEPTED = [
  'a: plain text',
  'a: nginx:1.27',
  'a: b # comment',
  "a: 'it''s'",
  'a: "tab\\there \\u00e9 \\x41"',
  'a: ""',
  'a: -1',
  'a: 0',
  'a: 1.50',
  'a: 12345',
  'a: true',
  'a: False',
  'a: ~',
  'a: null',
  'a:',
  'a: yes',
  'a: on',
  'a: y',
  'a: {}',
  'a: []',
  'a: [1, "two", {c: d, e: [f]}]',
  'a: {b: c, "d e": \'f\'}',
  '"quoted key": 1',
  'a:\n- 1\n- b',
  'a:\n  - 1\n  - b',
  'a:\n- name: x\n  value: y\n-\n- z',
  'a:\n  b:\n    c: d\n  # comment\n  e: f',
  'a: |\n  line one\n\n  line two\n\nb: 1',
  'a: |-\n  kept\n    more\nb: 1',
  'a: |\nb: 1',
  'a: |\n  ---\n  x: y\n',
  'a: b#c',
  'a: 1.2.3',
  'a: -x',
  'a: 0644',
  'a: -0755',
  'a: 00',
  'a: 007',
  'a: 1e3',
  'a: 2.5E-3',
];

const REFUSED = [
  'a: 1_000',
  'a: 0o17',
  'a: 0x1F',
  'a: .inf',
  'a: +1',
  'a: 12345678901234567890',
  'a: &x 1\nb: *x',
  'a: !!str 1',
  'a: >\n  folded\n',
  'a: |+\n  kept\n\n',
  'a: b\n  continued',
  "a: 'multi\n  line'",
  'a: [1,\n  2]',
  'a: b\na: c',
  '- - x',
  'a:\tb',
  'a: b\r\nc: d',
  '---\na: b',
  '? a\n: b',
  '1: a',
  'true: a',
  'a: "\\q"',
  'a: b: c',
];

test('the fast reader reads what the full reader reads, and refuses the rest', (t) => {
  for (const text of ACCEPTED) {
    const fast = readBlockYaml(`${text}\n`);
    t.truthy(fast, `accepted: ${JSON.stringify(text)}`);
    t.deepEqual(fast?.value, fullValue(`${text}\n`) as never, JSON.stringify(text));
  }
  for (const text of REFUSED) {
    t.is(readBlockYaml(`${text}\n`), undefined, `refused: ${JSON.stringify(text)}`);
  }
});

test('a kpt ResourceList is read the fast way, with the values of the full reader', (t) => {
  const text = readFixture('kpt-eval-input.yaml');
  const fast = parseInput(text);
  const full = parseInput(FULL_READER + text);
  t.truthy(fast.items[0]?.sourceText, 'items kept as source text');
  t.is(full.items[0]?.sourceText, undefined, 'the comment sends the list to the full reader');
  t.deepEqual(
    fast.items.map((i) => i.toObject()),
    full.items.map((i) => i.toObject()),
  );
  t.deepEqual(fast.functionConfig?.toObject(), full.functionConfig?.toObject());
});

/** The kpt fixture with `edit` applied to each item's value, written by both paths. */
function bothWays(text: string, edit: (obj: JsonObject, i: number) => JsonObject): { fast: string; full: string; kept: number } {
  const run = (source: string) => {
    const input = parseInput(source);
    const outputs = input.items.map((item, i) => edit(item.toObject(), i));
    const items = itemsFromOutputs(outputs, input.items);
    const kept = items.filter((i) => i.sourceText !== undefined).length;
    // Written with results too (the error path), after the plain list: both ways the same.
    const results: Result[] = [{ severity: 'error', message: 'an error: with a colon', resourceRef: { kind: 'Deployment', name: 'web' } }];
    const text = formatResourceList(items, { functionConfig: input.functionConfig }) + formatResourceList(items, { functionConfig: input.functionConfig, results });
    return { text, kept };
  };
  const fast = run(text);
  return { fast: fast.text, full: run(FULL_READER + text).text, kept: fast.kept };
}

const EDITS: Array<[string, (o: JsonObject, i: number) => JsonObject]> = [
  ['an annotation added', (o) => ({ ...o, metadata: { ...(o.metadata as JsonObject), annotations: { ...((o.metadata as JsonObject).annotations as JsonObject), owner: 'platform' } } })],
  ['a new top-level map', (o) => ({ ...o, extra: { a: 'b', list: [{ name: 'n', value: 1 }, 'plain'], empty: {}, none: [] } })],
  ['a scalar changed (quoted strings keep their quotes)', (o) => JSON.parse(JSON.stringify(o).replaceAll('nginx:1.25', 'nginx:1.27').replaceAll('"web"', '"web2"')) as JsonObject],
  ['a key removed', (o) => Object.fromEntries(Object.entries(o).filter(([k]) => k !== 'spec' && k !== 'info' && k !== 'data'))],
  ['a value that needs quoting (left to the document path)', (o) => ({ ...o, note: 'yes' })],
  ['a list element added (left to the document path)', (o) => JSON.parse(JSON.stringify(o).replace('"name":"ENABLED"', '"name":"ENABLED2"')) as JsonObject],
  ['every other item unchanged', (o, i) => (i % 2 ? { ...o, kind: o.kind } : { ...o, odd: i })],
];

test('a function output written from kept text is byte for byte what the document path writes', (t) => {
  const text = readFixture('kpt-eval-input.yaml');
  let patched = 0;
  for (const [name, edit] of EDITS) {
    const { fast, full, kept } = bothWays(text, edit);
    t.is(fast, full, name);
    patched += kept;
  }
  t.true(patched > 10, `most edits are made in the text (${patched} items)`);
});

test('the bench list (flow maps, a comment on each name) is written the same both ways', (t) => {
  const item = (i: number) =>
    `- apiVersion: apps/v1\n  kind: Deployment\n  metadata:\n    name: web-${i} # deployment ${i}\n    labels: {app: web-${i}}\n  spec:\n    replicas: 2\n    template:\n      spec:\n        containers:\n        - name: web\n          image: nginx:1.27\n          ports: [{containerPort: 80}]\n`;
  const text = `apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n${[0, 1, 2].map(item).join('')}functionConfig:\n  apiVersion: v1\n  kind: ConfigMap\n  data: {a: b}\n`;
  const { fast, full, kept } = bothWays(text, (o) => ({ ...o, metadata: { ...(o.metadata as JsonObject), annotations: { owner: 'platform' } } }));
  t.is(fast, full);
  t.is(kept, 3);
  t.regex(fast, /name: web-0 # deployment 0\n {4}labels: \{app: web-0\}\n {4}annotations:\n {6}owner: platform\n/);
});

test('blank and whitespace-only lines between items, after the last one and at the end of the functionConfig are written as the document path writes them', (t) => {
  const texts = [
    // What a generated input may end with: a literal block scalar whose indentation is also put on the final line.
    `apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: cfg\n  \nfunctionConfig:\n  apiVersion: krm.kcl.dev/v1alpha1\n  kind: KCLRun\n  spec:\n    source: |\n      items = option("items")\n      `,
    `apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n- apiVersion: v1\n  kind: ConfigMap\n\n\n- apiVersion: v1\n  kind: Secret\n   \n- apiVersion: v1\n  kind: Service\n\nfunctionConfig:\n  apiVersion: v1\n  kind: ConfigMap\n\n`,
  ];
  for (const text of texts) {
    for (const [name, edit] of [['unchanged', (o: JsonObject) => o], ['changed', (o: JsonObject) => ({ ...o, data: { a: 'b' } })]] as const) {
      const { fast, full } = bothWays(text, edit);
      t.is(fast, full, name);
      t.notRegex(fast, /\n +\n/, `${name}: no whitespace-only line kept`);
    }
  }
});
