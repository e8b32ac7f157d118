/** `kclrun`: dispatches to the commands. Plain-text output; exit code 1 on errors. */
import { readFileSync } from 'node:fs';
import { enginePin } from '../fn/engine/library.js';
import { cliEngine, type CliEngine } from './engine.js';
import { UsageError, write } from './io.js';
import { installPath } from '../fn/install-dir.js';

/** The kclrun version, from package.json. */
export function kclrunVersion(): string {
  return (JSON.parse(readFileSync(installPath('package.json'), 'utf8')) as { version: string }).version;
}

const HELP = `kclrun — KCL for GitOps

Usage: kclrun COMMAND [options]

Commands:
  fn          run the KCLRun KRM function (stdin → stdout), for kpt and kustomize
  render      render a KCL package or files to a YAML stream (CI)
  set         edit a .k file in place (e.g. bump an image tag)
  mod         mod update: fetch dependencies and write kcl.mod.lock
  controller  run the Flux controller for KCLRun (krm.kcl.dev.fluxcd/v1alpha1)
  install     print the controller's install manifests (| kubectl apply -f -)
  version     print kclrun and KCL engine versions

Run 'kclrun COMMAND --help' for a command's options. '--version' prints the versions.
`;

type Command = (args: string[], engine: CliEngine) => Promise<number>;

/** Help text for `kclrun version`. */
export const VERSION_HELP = `Usage: kclrun version   (or kclrun --version)

Prints the kclrun version and the KCL engine's version (loading the engine).
`;

async function version(args: string[], cli: CliEngine): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    await write(process.stdout, VERSION_HELP);
    return 0;
  }
  const engine = await cli.version();
  await write(process.stdout, `kclrun ${kclrunVersion()}\nKCL engine ${engine.version} (${enginePin().package} ${enginePin().version}, git ${engine.gitSha.slice(0, 12)})\n`);
  return 0;
}

// Each command is imported on first use, so `kclrun fn` and `kclrun render` never load the controller's modules.
const COMMANDS: Record<string, Command> = {
  fn: async (args, engine) => (await import('./commands/fn.js')).fnCommand(args, engine),
  render: async (args, engine) => (await import('./commands/render.js')).renderCommand(args, engine),
  set: async (args, engine) => (await import('./commands/set.js')).setCommand(args, engine),
  mod: async (args) => (await import('./commands/mod.js')).modCommand(args),
  controller: async (args) => (await import('./commands/controller.js')).controllerCommand(args),
  install: async (args) => (await import('./commands/install.js')).installCommand(args, kclrunVersion()),
  version,
};

/** Commands that run KCL: their engine starts loading before anything else. */
const ENGINE_COMMANDS = new Set(['fn', 'render', 'set', 'version', '--version', '-v']);

/**
 * Runs kclrun with `argv` (without node and script); resolves with the exit code. `engine` is the crash reporter's
 * (cli/crash-report.ts); otherwise the CLI's own (cli/engine.ts).
 */
export async function main(argv: string[], engine: CliEngine = cliEngine(argv)): Promise<number> {
  const [cmd, ...rest] = argv;
  if (cmd && ENGINE_COMMANDS.has(cmd) && !rest.includes('--help') && !rest.includes('-h')) engine.start();
  try {
    if (cmd === '--version' || cmd === '-v') return await version([], engine);
    if (!cmd || cmd === '--help' || cmd === '-h' || cmd === 'help') {
      await write(process.stdout, HELP);
      return cmd ? 0 : 1;
    }
    const run = COMMANDS[cmd];
    if (!run) throw new UsageError(`unknown command "${cmd}" (see kclrun --help)`);
    return await run(rest, engine);
  } catch (err) {
    if (err instanceof UsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      await write(process.stderr, `kclrun: ${(err as Error).message}\n`);
      return 1;
    }
    await write(process.stderr, `kclrun: ${(err as Error).message}\n`);
    return 1;
  } finally {
    await engine.close();
  }
}
