/**
 * Where the KCL engine library is and which version is pinned. Lean on purpose (no koffi): the CLI and the
 * controller read this to start engine workers without loading the engine themselves.
 */
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { installPath } from '../install-dir.js';

/** The engine pin declared in package.json (`kclEngine`). */
export interface EnginePin {
  package: string;
  version: string;
}

/** Reads the pinned engine version from package.json. */
export function enginePin(): EnginePin {
  const pkg = JSON.parse(readFileSync(installPath('package.json'), 'utf8')) as {
    kclEngine: EnginePin;
  };
  return pkg.kclEngine;
}

/** Where the engine library is: `KCL_LIB_PATH`, else the cache that `npm run engine:fetch` fills. */
export function engineLibraryPath(env: NodeJS.ProcessEnv = process.env): string {
  if (env.KCL_LIB_PATH) return env.KCL_LIB_PATH;
  const pin = enginePin();
  const root = env.KCLRUN_CACHE || join(homedir(), '.cache', 'kclrun');
  return join(root, 'engine', `${pin.package}-${pin.version}-${process.arch}`, 'libkcl.so');
}

/** Why the engine cannot be loaded when its library is missing. */
export function engineNotFoundMessage(path: string): string {
  return `KCL engine not found at ${path}: run \`npm run engine:fetch\` (or set KCL_LIB_PATH to a libkcl.so)`;
}

/** The native engine host (kclrun-engine-host, scripts/engine-host.c, built by `npm run engine:fetch`): beside the engine library. */
export function engineHostPath(libraryPath: string): string {
  return join(dirname(libraryPath), 'kclrun-engine-host');
}

/** Where the CLI's crash guard (libkclguard.so, built by `npm run engine:fetch`) is: beside the engine library. */
export function crashGuardPath(libraryPath: string): string {
  return join(dirname(libraryPath), 'libkclguard.so');
}
