/**
 * Registry credentials from Docker-style `config.json` files, looked up as kpm does: kpm's own
 * `<package root>/.kpm/config/config.json` (written by `kcl registry login`), then `$DOCKER_CONFIG/config.json`,
 * else `~/.docker/config.json`. Only inline `auths` are read (an `auth` of base64 `user:password`, or `username` and
 * `password`, or an `identitytoken`); credential helpers are not run.
 */
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { isJsonObject } from '../../../krm/index.js';

/** Credentials for one registry. */
export interface RegistryCredentials {
  username: string;
  password: string;
}

/** A config.json that exists but cannot be used: named, never its contents. */
export class CredentialsFileError extends Error {
  override name = 'CredentialsFileError';
  constructor(
    readonly file: string,
    reason: string,
  ) {
    super(`${file}: ${reason}`);
  }
}

/** The config.json files to look in, first match wins. */
export function credentialFiles(pkgRoot: string, env: NodeJS.ProcessEnv = process.env): string[] {
  const docker = env.DOCKER_CONFIG ? join(env.DOCKER_CONFIG, 'config.json') : join(env.HOME || homedir(), '.docker', 'config.json');
  return [join(pkgRoot, '.kpm', 'config', 'config.json'), docker];
}

/** The keys an `auths` entry for `registry` may have (Docker writes `https://host/v1/` for Docker Hub). */
function keysFor(registry: string): string[] {
  return [registry, `https://${registry}`, `http://${registry}`, `https://${registry}/v1/`, `https://${registry}/v2/`];
}

function fromEntry(file: string, registry: string, entry: unknown): RegistryCredentials | undefined {
  if (!entry || typeof entry !== 'object') return undefined;
  const e = entry as Record<string, unknown>;
  if (typeof e.auth === 'string' && e.auth !== '') {
    const decoded = Buffer.from(e.auth, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) throw new CredentialsFileError(file, `the auth for ${registry} is not base64 of user:password`);
    return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
  }
  if (typeof e.identitytoken === 'string' && e.identitytoken !== '') return { username: '<token>', password: e.identitytoken };
  if (typeof e.username === 'string' && typeof e.password === 'string') return { username: e.username, password: e.password };
  return undefined;
}

/** The `auths` map of the Docker config JSON `text` (undefined when it has none). @throws CredentialsFileError */
function parseAuths(text: string, file: string): Record<string, unknown> | undefined {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw new CredentialsFileError(file, 'is not valid JSON');
  }
  const auths = isJsonObject(doc) ? doc['auths'] : undefined;
  return isJsonObject(auths) ? auths : undefined;
}

/** Credentials for `registry` from the Docker config JSON text `text` (as in a `kubernetes.io/dockerconfigjson`). */
export function credentialsFromConfig(text: string, registry: string, file: string): RegistryCredentials | undefined {
  const auths = parseAuths(text, file);
  if (!auths) return undefined;
  for (const k of keysFor(registry)) {
    const c = fromEntry(file, registry, auths[k]);
    if (c) return c;
  }
  return undefined;
}

/**
 * Checks that `text` is a Docker config JSON with an `auths` map whose entries can be read, and returns the secret
 * strings they hold (encoded and decoded), so that messages can be redacted. @throws CredentialsFileError
 */
export function dockerConfigSecrets(text: string, label: string): string[] {
  const auths = parseAuths(text, label);
  if (!auths) throw new CredentialsFileError(label, 'has no "auths" map');
  const out: string[] = [];
  for (const [registry, entry] of Object.entries(auths)) {
    const c = fromEntry(label, registry, entry);
    if (c) out.push(c.password);
    const auth = (entry as Record<string, unknown> | null)?.auth;
    if (typeof auth === 'string' && auth !== '') out.push(auth);
  }
  return out;
}

/** Where a registry's credentials come from: undefined for anonymous access. */
export type CredentialSource = (registry: string) => RegistryCredentials | undefined;

/**
 * Credentials from one Docker config JSON held in memory (e.g. a `kubernetes.io/dockerconfigjson` Secret's), named
 * `label` in errors; nothing else is looked up (no file, no environment).
 */
export function inMemoryCredentials(text: string, label: string): CredentialSource {
  return (registry) => credentialsFromConfig(text, registry, label);
}

/** Credentials for `registry` from the first config.json that has some; undefined for anonymous access. */
export function lookupCredentials(registry: string, pkgRoot: string, env: NodeJS.ProcessEnv = process.env): RegistryCredentials | undefined {
  for (const file of credentialFiles(pkgRoot, env)) {
    if (!existsSync(file)) continue;
    const c = credentialsFromConfig(readFileSync(file, 'utf8'), registry, file);
    if (c) return c;
  }
  return undefined;
}
