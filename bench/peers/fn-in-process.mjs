// The "before" of `kclrun fn`: the same function with the engine loaded in this process and no crash guard (how
// kclrun ran before engine workers), for the before/after figure of crash isolation's start-up cost.
import { readFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const dist = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'dist');
const { parseInput, formatResourceList, exitCodeFor } = await import(join(dist, 'krm/index.js'));
const { runFunction } = await import(join(dist, 'fn/function.js'));
const { render } = await import(join(dist, 'fn/render.js'));
const { callEngine } = await import(join(dist, 'fn/engine/native.js'));
const input = parseInput(readFileSync(0, 'utf8'));
const out = await runFunction(input, { render: (req) => render(req, { engine: callEngine }) });
process.stdout.write(formatResourceList(out.items, { functionConfig: input.functionConfig, results: out.results }));
process.exit(exitCodeFor(out.results));
