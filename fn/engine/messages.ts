/**
 * The KCL engine's request and reply messages (kcl-lang/lib `spec.proto`, package com.kcl.api), encoded by hand
 * from their field numbers. Only the fields kclrun uses are listed.
 */
import { ProtoWriter, decodeFields, messages, num, str, strs } from './protobuf.js';

/** A `-E name=path` external package. */
export interface ExternalPkg {
  name: string;
  path: string;
}

/** `ExecProgramArgs`: what one `kcl run` does. */
export interface ExecProgramArgs {
  workDir?: string;
  files?: string[];
  /** Source text per file, parallel to `files` (inline programs). */
  codes?: string[];
  /** `-D name=value`; a value that parses as JSON is taken as JSON. */
  args?: Array<{ name: string; value: string }>;
  overrides?: string[];
  strictRangeCheck?: boolean;
  disableNone?: boolean;
  debug?: boolean;
  sortKeys?: boolean;
  externalPkgs?: ExternalPkg[];
  showHidden?: boolean;
  pathSelectors?: string[];
}

/** Encodes `ExecProgramArgs`. */
export function encodeExecProgramArgs(a: ExecProgramArgs): Buffer {
  const w = new ProtoWriter().string(1, a.workDir).strings(2, a.files).strings(3, a.codes);
  for (const arg of a.args ?? []) w.message(4, new ProtoWriter().string(1, arg.name).string(2, arg.value));
  w.strings(5, a.overrides)
    .bool(8, a.strictRangeCheck)
    .bool(9, a.disableNone)
    .uint(11, a.debug ? 1 : 0)
    .bool(12, a.sortKeys);
  for (const p of a.externalPkgs ?? []) w.message(13, new ProtoWriter().string(1, p.name).string(2, p.path));
  return w.bool(16, a.showHidden).strings(17, a.pathSelectors).finish();
}

/** `ExecProgramResult`. A non-empty `errMessage` is a runtime failure (assert, check, option error). */
export interface ExecProgramResult {
  jsonResult: string;
  yamlResult: string;
  logMessage: string;
  errMessage: string;
}

/** Decodes `ExecProgramResult`. */
export function decodeExecProgramResult(buf: Uint8Array): ExecProgramResult {
  const f = decodeFields(buf);
  return { jsonResult: str(f, 1), yamlResult: str(f, 2), logMessage: str(f, 3), errMessage: str(f, 4) };
}

/** Encodes `OverrideFileArgs`. */
export function encodeOverrideFileArgs(file: string, specs: readonly string[], importPaths: readonly string[] = []): Buffer {
  return new ProtoWriter().string(1, file).strings(2, specs).strings(3, importPaths).finish();
}

/** One engine `Error` with its messages and positions. */
export interface EngineError {
  level: string;
  code: string;
  messages: Array<{ msg: string; filename: string; line: number; column: number }>;
}

function decodeEngineError(f: ReturnType<typeof decodeFields>): EngineError {
  return {
    level: str(f, 1),
    code: str(f, 2),
    messages: messages(f, 3).map((m) => {
      const pos = messages(m, 2)[0];
      return {
        msg: str(m, 1),
        filename: pos ? str(pos, 3) : '',
        line: pos ? num(pos, 1) : 0,
        column: pos ? num(pos, 2) : 0,
      };
    }),
  };
}

/** Decodes `OverrideFileResult`. */
export function decodeOverrideFileResult(buf: Uint8Array): { result: boolean; parseErrors: EngineError[] } {
  const f = decodeFields(buf);
  return { result: num(f, 1) === 1, parseErrors: messages(f, 2).map(decodeEngineError) };
}

/** Encodes `ParseProgramArgs` (the input of ListOptions). */
export function encodeParseProgramArgs(paths: readonly string[], externalPkgs: readonly ExternalPkg[] = []): Buffer {
  const w = new ProtoWriter().strings(1, paths);
  for (const p of externalPkgs) w.message(3, new ProtoWriter().string(1, p.name).string(2, p.path));
  return w.finish();
}

/** One `option()` a program reads. */
export interface OptionHelp {
  name: string;
  type: string;
  required: boolean;
  defaultValue: string;
  help: string;
}

/** Decodes `ListOptionsResult`. */
export function decodeListOptionsResult(buf: Uint8Array): OptionHelp[] {
  return messages(decodeFields(buf), 2).map((o) => ({
    name: str(o, 1),
    type: str(o, 2),
    required: num(o, 3) === 1,
    defaultValue: str(o, 4),
    help: str(o, 5),
  }));
}

/** `GetVersionResult`. */
export interface EngineVersion {
  version: string;
  checksum: string;
  gitSha: string;
}

/** Decodes `GetVersionResult`. */
export function decodeGetVersionResult(buf: Uint8Array): EngineVersion {
  const f = decodeFields(buf);
  return { version: str(f, 1), checksum: str(f, 2), gitSha: str(f, 3) };
}

/** Encodes `LoadSettingsFilesArgs`. */
export function encodeLoadSettingsFilesArgs(workDir: string, files: readonly string[]): Buffer {
  return new ProtoWriter().string(1, workDir).strings(2, files).finish();
}

/** What a `kcl.yaml` settings file contributes (`kcl_cli_configs` and `kcl_options`). */
export interface LoadedSettings {
  files: string[];
  overrides: string[];
  pathSelectors: string[];
  strictRangeCheck: boolean;
  disableNone: boolean;
  debug: boolean;
  sortKeys: boolean;
  showHidden: boolean;
  options: Array<{ key: string; value: string }>;
}

/** Decodes `LoadSettingsFilesResult`. */
export function decodeLoadSettingsFilesResult(buf: Uint8Array): LoadedSettings {
  const f = decodeFields(buf);
  const cli = messages(f, 1)[0] ?? new Map();
  return {
    files: strs(cli, 1),
    overrides: strs(cli, 3),
    pathSelectors: strs(cli, 4),
    strictRangeCheck: num(cli, 5) === 1,
    disableNone: num(cli, 6) === 1,
    debug: num(cli, 8) === 1,
    sortKeys: num(cli, 9) === 1,
    showHidden: num(cli, 10) === 1,
    options: messages(f, 2).map((kv) => ({ key: str(kv, 1), value: str(kv, 2) })),
  };
}
