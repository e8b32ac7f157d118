/**
 * The typed KCL engine API: run a program, override a file, list options, load settings, report the version.
 * Every function takes the engine to call (call.ts): in this process (native.ts's `callEngine`) or in an engine
 * worker (fn/worker/). Failures come back as diagnostics with file, line and column, never as a raw blob.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { EngineCallError, type EngineCall } from './call.js';
import {
  decodeExecProgramResult,
  decodeGetVersionResult,
  decodeListOptionsResult,
  decodeLoadSettingsFilesResult,
  decodeOverrideFileResult,
  encodeExecProgramArgs,
  encodeLoadSettingsFilesArgs,
  encodeOverrideFileArgs,
  encodeParseProgramArgs,
  type EngineVersion,
  type ExecProgramArgs,
  type ExternalPkg,
  type LoadedSettings,
  type OptionHelp,
} from './messages.js';
import { parseDiagnostics, type Diagnostic } from './diagnostics.js';

/** What a successful run produced: the YAML stream, the JSON value, and what `print()` wrote. */
export interface RunOutput {
  yaml: string;
  json: string;
  log: string;
}

/** The outcome of an engine call: a value, or diagnostics (and what `print()` wrote before the failure). */
export type EngineOutcome<T> = { ok: true; value: T } | { ok: false; diagnostics: Diagnostic[]; log?: string };

function failed(err: unknown): { ok: false; diagnostics: Diagnostic[] } {
  if (err instanceof EngineCallError) return { ok: false, diagnostics: parseDiagnostics(err.detail) };
  throw err;
}

/** Runs a KCL program (`kcl run`). Compile and runtime errors come back as diagnostics. */
export async function runProgram(args: ExecProgramArgs, callEngine: EngineCall): Promise<EngineOutcome<RunOutput>> {
  let reply: Buffer;
  try {
    reply = await callEngine('ExecProgram', encodeExecProgramArgs(args));
  } catch (err) {
    return failed(err);
  }
  const r = decodeExecProgramResult(reply);
  if (r.errMessage) return { ok: false, diagnostics: parseDiagnostics(r.errMessage), log: r.logMessage };
  return { ok: true, value: { yaml: r.yamlResult, json: r.jsonResult, log: r.logMessage } };
}

/**
 * Applies `path=value` override specs to a `.k` file in place (`kcl -O`, the engine's OverrideFile). On errors the
 * file is left as it was (the engine recovers from parse errors and writes the file anyway; we put it back).
 */
export async function overrideFile(
  file: string,
  specs: readonly string[],
  callEngine: EngineCall,
  importPaths: readonly string[] = [],
): Promise<EngineOutcome<boolean>> {
  const original = await readFile(file).catch(() => undefined);
  const outcome = await overrideFileNow(file, specs, importPaths, callEngine);
  if (!outcome.ok && original !== undefined) await writeFile(file, original);
  return outcome;
}

async function overrideFileNow(file: string, specs: readonly string[], importPaths: readonly string[], callEngine: EngineCall): Promise<EngineOutcome<boolean>> {
  let reply: Buffer;
  try {
    reply = await callEngine('OverrideFile', encodeOverrideFileArgs(file, specs, importPaths));
  } catch (err) {
    return failed(err);
  }
  const r = decodeOverrideFileResult(reply);
  const diagnostics: Diagnostic[] = r.parseErrors.flatMap((e) =>
    e.messages.map((m) => ({
      severity: 'error' as const,
      code: e.code || undefined,
      message: m.msg,
      file: m.filename || undefined,
      line: m.line || undefined,
      column: m.column || undefined,
    })),
  );
  if (diagnostics.length > 0) return { ok: false, diagnostics };
  return { ok: true, value: r.result };
}

/** Lists the `option()`s a program reads. */
export async function listOptions(
  files: readonly string[],
  callEngine: EngineCall,
  externalPkgs: readonly ExternalPkg[] = [],
): Promise<EngineOutcome<OptionHelp[]>> {
  try {
    return { ok: true, value: decodeListOptionsResult(await callEngine('ListOptions', encodeParseProgramArgs(files, externalPkgs))) };
  } catch (err) {
    return failed(err);
  }
}

/** Loads `kcl.yaml` settings files (`-Y`) relative to a work dir. */
export async function loadSettingsFiles(workDir: string, files: readonly string[], callEngine: EngineCall): Promise<EngineOutcome<LoadedSettings>> {
  try {
    return {
      ok: true,
      value: decodeLoadSettingsFilesResult(await callEngine('LoadSettingsFiles', encodeLoadSettingsFilesArgs(workDir, files))),
    };
  } catch (err) {
    return failed(err);
  }
}

/** The engine's own version. */
export async function engineVersion(callEngine: EngineCall): Promise<EngineVersion> {
  return decodeGetVersionResult(await callEngine('GetVersion', new Uint8Array()));
}
