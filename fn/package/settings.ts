/**
 * kpm's settings, read the way kpm reads them: the package root (`$KCL_PKG_PATH`, else `~/.kcl/kpm`, the root
 * flux-kcl-controller and the KCL engine use), the default registry and repository (`KPM_REG`/`KPM_REPO`, else
 * `<root>/.kpm/config/kpm.json`, else ghcr.io/kcl-lang), plain HTTP (`OCI_REG_PLAIN_HTTP=on`, kpm.json
 * `DefaultOciPlainHttp`, or a loopback registry) and offline mode (`KCLRUN_OFFLINE=1`).
 */
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

/** What package resolution needs from kpm's settings. */
export interface PackageSettings {
  /** Where packages are cached (`<name>_<tag>` directories) and kpm's config lives. */
  root: string;
  defaultRegistry: string;
  defaultRepository: string;
  /** Reach every registry over plain HTTP. */
  plainHttp: boolean;
  /** Use only the cache and vendor directories; a missing package is an error. */
  offline: boolean;
}

/** The package cache root: `$KCL_PKG_PATH`, else `~/.kcl/kpm`. */
export function packageRoot(env: NodeJS.ProcessEnv = process.env): string {
  return resolve(env.KCL_PKG_PATH || join(env.HOME || homedir(), '.kcl', 'kpm'));
}

function kpmJson(root: string): Record<string, unknown> {
  const file = join(root, '.kpm', 'config', 'kpm.json');
  if (!existsSync(file)) return {};
  try {
    const doc = JSON.parse(readFileSync(file, 'utf8')) as unknown;
    return doc && typeof doc === 'object' ? (doc as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

const on = (v: string | undefined) => v !== undefined && ['on', 'true', '1', 'yes'].includes(v.toLowerCase());

/** Reads the settings from `env` and kpm.json. */
export function readPackageSettings(env: NodeJS.ProcessEnv = process.env): PackageSettings {
  const root = packageRoot(env);
  const json = kpmJson(root);
  const str = (k: string) => (typeof json[k] === 'string' && json[k] !== '' ? (json[k] as string) : undefined);
  return {
    root,
    defaultRegistry: env.KPM_REG || str('DefaultOciRegistry') || 'ghcr.io',
    defaultRepository: env.KPM_REPO || str('DefaultOciRepo') || 'kcl-lang',
    plainHttp: env.OCI_REG_PLAIN_HTTP !== undefined ? on(env.OCI_REG_PLAIN_HTTP) : json.DefaultOciPlainHttp === true,
    offline: on(env.KCLRUN_OFFLINE),
  };
}
