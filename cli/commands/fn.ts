/** `kclrun fn`: the KRM function. ResourceList (or YAML stream) on stdin → ResourceList on stdout. */
import { exitCodeFor, formatResourceList, formatStream, KrmInputError, parseInput } from '../../krm/index.js';
import { runFunction } from '../../fn/function.js';
import type { CliEngine } from '../engine.js';
import { readStdin, write } from '../io.js';

/** Help text for `kclrun fn`. */
export const FN_HELP = `Usage: kclrun fn < resource-list.yaml > resource-list.yaml

Runs the KCLRun KRM function: reads a ResourceList (config.kubernetes.io/v1) or a YAML
stream on stdin, runs the KCL program its functionConfig names, writes a ResourceList
(or, for a YAML stream, a YAML stream) on stdout. Errors become results with severity
error and exit code 1; the items are then written back unchanged.

functionConfig: KCLRun (krm.kcl.dev/v1alpha1) with spec.source, spec.params,
spec.matchConstraints and spec.config; or a ConfigMap with data.source (other keys
become params), e.g.
  kpt fn eval pkg --exec kclrun-fn -- source="$(cat main.k)" replicas=3
`;

/** Runs the function over stdin/stdout; returns the exit code. */
export async function fnCommand(args: string[], engine: CliEngine): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    await write(process.stdout, FN_HELP);
    return 0;
  }
  const bytes = await readStdin();
  engine.keepInput(bytes);
  const text = bytes.toString('utf8');
  let input;
  try {
    input = parseInput(text);
  } catch (err) {
    if (err instanceof KrmInputError) {
      await write(process.stderr, `kclrun fn: cannot read input: ${err.message}\n`);
      // kpt shows a failing function's results: the reason goes there too (no items: none could be read).
      await write(process.stdout, formatResourceList([], { results: [{ severity: 'error', message: `cannot read input: ${err.message}` }] }));
      return 1;
    }
    throw err;
  }
  const cwd = process.cwd();
  const out = await runFunction(input, {
    cwd,
    log: (t) => process.stderr.write(t.endsWith('\n') ? t : `${t}\n`),
    render: (req) => engine.render(req, cwd),
  });
  const code = exitCodeFor(out.results);
  if (input.format === 'stream') {
    for (const r of out.results) await write(process.stderr, `[${r.severity}] ${r.message}\n`);
    await write(process.stdout, formatStream(out.items));
  } else {
    // Errors also go to stderr: kustomize discards a failing function's stdout (its results with it) and only
    // shows "exit status 1" plus the function's stderr.
    for (const r of out.results) if (r.severity === 'error') await write(process.stderr, `[error] ${r.message}\n`);
    await write(process.stdout, formatResourceList(out.items, { functionConfig: input.functionConfig, results: out.results }));
  }
  return code;
}
