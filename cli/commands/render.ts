/** `kclrun render`: the CI step. Renders KCL to a YAML stream (or JSON List) of resources on stdout. */
import { parseArgs } from 'node:util';
import { formatStream, Item } from '../../krm/index.js';
import { formatDiagnostic } from '../../fn/engine/diagnostics.js';
import { PackageRoot } from '../../fn/package/root.js';
import type { CliEngine } from '../engine.js';
import { UsageError, write } from '../io.js';
import { resolve } from 'node:path';

/** Help text for `kclrun render`. */
export const RENDER_HELP = `Usage: kclrun render [PATH...] [options]

Renders a KCL package directory (its kcl.mod [profile] entries, else its .k files)
or .k files with the official KCL engine, and prints the resources as a YAML stream.
PATH defaults to the current directory. Diagnostics go to stderr as file:line:col;
the exit code is 1 on any error, and nothing is printed on stdout then.

Options:
  -D, --argument NAME=VALUE   top-level argument, read with option("NAME") (repeatable)
  -Y, --setting FILE          kcl.yaml settings file (repeatable)
  -O, --override PATH=VALUE   override a value before running (repeatable)
  -S, --path-selector PATH    print only this part of the output (repeatable)
  -o, --output yaml|json      output format (default yaml; json prints a v1 List)
      --sort-keys             sort keys in the output
      --show-hidden           include hidden (_) attributes
      --disable-none          drop None values
      --strict-range-check    check integer ranges strictly
      --root DIR              package resolution (kcl.mod, path dependencies, -Y files)
                              stays inside DIR (default: the git work tree of the
                              package, else its kcl.mod directory, else its own)
  -h, --help                  show this help
`;

/** Runs `kclrun render`; returns the exit code. */
export async function renderCommand(argv: string[], engine: CliEngine): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      argument: { type: 'string', short: 'D', multiple: true },
      setting: { type: 'string', short: 'Y', multiple: true },
      override: { type: 'string', short: 'O', multiple: true },
      'path-selector': { type: 'string', short: 'S', multiple: true },
      output: { type: 'string', short: 'o', default: 'yaml' },
      'sort-keys': { type: 'boolean' },
      'show-hidden': { type: 'boolean' },
      'disable-none': { type: 'boolean' },
      'strict-range-check': { type: 'boolean' },
      root: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    await write(process.stdout, RENDER_HELP);
    return 0;
  }
  if (values.output !== 'yaml' && values.output !== 'json') throw new UsageError(`--output must be yaml or json, got ${values.output}`);
  const paths = positionals.length ? positionals : ['.'];
  const cwd = process.cwd();
  const out = await engine.render({
    source: { kind: 'local', paths: paths.map((p) => resolve(cwd, p)) },
    baseDir: cwd,
    root: values.root === undefined ? undefined : new PackageRoot(resolve(cwd, values.root)),
    config: {
      arguments: values.argument,
      settings: values.setting,
      overrides: values.override,
      pathSelectors: values['path-selector'],
      sortKeys: values['sort-keys'],
      showHidden: values['show-hidden'],
      disableNone: values['disable-none'],
      strictRangeCheck: values['strict-range-check'],
    },
  }, cwd);
  if (out.log) await write(process.stderr, out.log.endsWith('\n') ? out.log : `${out.log}\n`);
  if (!out.ok) {
    for (const d of out.diagnostics) await write(process.stderr, `error: ${formatDiagnostic(d)}\n`);
    return 1;
  }
  if (values.output === 'json') {
    await write(process.stdout, JSON.stringify({ apiVersion: 'v1', kind: 'List', items: out.objects }, null, 2) + '\n');
  } else {
    await write(process.stdout, formatStream(out.objects.map((o) => Item.fromObject(o))));
  }
  return 0;
}
