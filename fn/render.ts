/**
 * The one way kclrun renders KCL: a source (inline code, a file or a package directory) plus `kcl run` options
 * → resources, or diagnostics naming file and line. `kclrun fn`, `kclrun render` and the controller all call this.
 */
import { resolve } from 'node:path';
import { loadSettingsFiles, runProgram } from './engine/engine.js';
import type { EngineCall } from './engine/call.js';
import type { Diagnostic } from './engine/diagnostics.js';
import type { ExecProgramArgs } from './engine/messages.js';
import { KclModError, readKclMod } from './package/kcl-mod.js';
import type { FetchForPathsOptions } from './package/fetch.js';
import { SourceFetchError } from './package/source-url.js';
import { inMemoryCredentials } from './package/oci/credentials.js';
import { kclModOf, resolveProgram } from './package/resolve.js';
import { defaultPackageRoot, PackageRoot } from './package/root.js';
import { unwrapOutput } from './output.js';
import type { KclConfigSpec } from './api.js';
import type { Source } from './source.js';
import type { FetchedSource } from './package/remote-source.js';
import type { SourceCredentials } from './package/source-credentials.js';
import { checkOutputLimits, type OutputLimits } from './limits.js';
import type { JsonObject } from '../krm/index.js';

/** What to render. */
export interface RenderRequest {
  source: Source;
  /** `kcl run` options. */
  config?: KclConfigSpec;
  /** Extra `-D` options, after `config.arguments` (e.g. params, items, argumentsReferences). */
  options?: Array<{ name: string; value: string }>;
  /** Anchors inline code and relative settings files. */
  baseDir: string;
  /** File name shown in diagnostics for inline code (default `main.k`). */
  inlineName?: string;
  /**
   * The directory package resolution and settings files must stay inside (the controller: the artifact). Default:
   * the git work tree of the source, else its kcl.mod directory, else its own (see package/root.ts).
   */
  root?: PackageRoot;
  /** Cancels dependency downloads. */
  signal?: AbortSignal;
  /** Where this render's registry packages are cached and with which credentials (default: kpm's settings from the environment). */
  packages?: PackageAccess;
  /**
   * `spec.dependencies`: the body of a kcl.mod `[dependencies]` table, fetched and added to the program's
   * dependencies (they win on a clash of names).
   */
  dependencies?: string;
  /** `spec.credentials`: each for the registry or git host its `url` names. */
  credentials?: readonly SourceCredentials[];
  /** The `krm.kcl.dev/allow-insecure-source` annotation: plain-HTTP sources and registries. */
  allowInsecure?: boolean;
}

/**
 * Package access set by the caller (the controller, per KCLRun). When set, registry credentials come from
 * `dockerConfig` only (none: anonymous); no config.json file is read.
 */
export interface PackageAccess {
  /** The package cache for this render (its `KCL_PKG_PATH`; default: the environment's). */
  cache?: string;
  /** A Docker config JSON held in memory (a `kubernetes.io/dockerconfigjson` Secret's); `label` names it in errors. */
  dockerConfig?: { text: string; label: string };
}

/** How to render: with which engine, output caps, and who to tell which files are about to run. */
export interface RenderOptions {
  /** The engine: in this process (native.ts's `callEngine`) or an engine worker's (the engine pool's renders). */
  engine: EngineCall;
  /**
   * The environment package resolution reads (`KCL_PKG_PATH`, `KCLRUN_OFFLINE`, kpm's settings; default
   * process.env). The engine pool gives its workers' environment (the controller's: only those two).
   */
  env?: NodeJS.ProcessEnv;
  /** Caps on the output; a render over them fails with a diagnostic naming the limit and its flag. */
  limits?: OutputLimits;
  /** Called with the program's files just before the engine runs them (the engine pool names them if the engine dies). */
  onRun?: (files: readonly string[]) => void;
  /** What the `git` of git dependencies runs under (the engine pool's: its workers' sandbox); default: nothing. */
  gitRunUnder?: readonly string[];
}

/** Rendered resources (and the raw YAML), or why not. `log` is what the program `print()`ed. */
export type RenderOutcome =
  | { ok: true; objects: JsonObject[]; yaml: string; log: string }
  | { ok: false; diagnostics: Diagnostic[]; log?: string };

function fail(message: string, file?: string, line?: number): { ok: false; diagnostics: Diagnostic[] } {
  return { ok: false, diagnostics: [{ severity: 'error', message, file, line }] };
}

/** A KclModError (a bad manifest, a path outside the root, a dependency not fetched) as a diagnostic naming its file. */
function manifestFailure(err: unknown): { error: ReturnType<typeof fail> } {
  if (err instanceof KclModError) return { error: fail(err.reason, err.file, err.line) };
  throw err;
}

/** Runs `step`; a KclModError becomes a diagnostic naming its file. */
function manifestStep<T>(step: () => T): T | { error: ReturnType<typeof fail> } {
  try {
    return step();
  } catch (err) {
    return manifestFailure(err);
  }
}

/** Parses `name=value` strings (the `-D` form). */
export function parseArguments(args: readonly string[], field = 'arguments'): { name: string; value: string }[] | string {
  const out: { name: string; value: string }[] = [];
  for (const [i, a] of args.entries()) {
    const eq = a.indexOf('=');
    if (eq <= 0) return `${field}[${i}] "${a}": expected name=value`;
    out.push({ name: a.slice(0, eq), value: a.slice(eq + 1) });
  }
  return out;
}

type Base = { exec: ExecProgramArgs; root: PackageRoot; cleanup?: () => void };

// The modules that download packages and sources (OCI, git, http, locks): loaded by a render that has something to
// fetch (a kcl.mod with dependencies, spec.dependencies, a remote source), not on every `kclrun fn` of a plain
// program (they are ~30 ms of its start-up).
const fetchModule = () => import('./package/fetch.js');
const remoteSourceModule = () => import('./package/remote-source.js');
const inlineDependenciesModule = () => import('./package/inline-dependencies.js');

/**
 * How this render fetches packages: the environment (with allowInsecure, registries over plain HTTP, as krm-kcl
 * sets it; `packages.cache` as KCL_PKG_PATH), spec.credentials first, then `packages.dockerConfig` when the caller
 * set package access (none: anonymous; no config.json file is read), else kpm's and Docker's config.json.
 */
function fetchOptions(req: RenderRequest, baseEnv: NodeJS.ProcessEnv, gitRunUnder: readonly string[] | undefined): FetchForPathsOptions {
  const access = req.packages;
  const env = { ...baseEnv };
  if (req.allowInsecure) env.OCI_REG_PLAIN_HTTP = 'on';
  if (access?.cache !== undefined) env.KCL_PKG_PATH = access.cache;
  const dockerConfig = access?.dockerConfig;
  return {
    env,
    signal: req.signal,
    sourceCredentials: req.credentials,
    gitRunUnder,
    ...(access && { credentials: dockerConfig ? inMemoryCredentials(dockerConfig.text, dockerConfig.label) : () => undefined }),
  };
}

/**
 * `spec.dependencies`, fetched: where each is (flat, transitive), by kcl.mod key; empty without any. Their `path`
 * entries stay inside `req.root` when the caller set one (the controller: the artifact), else the package's root.
 */
async function inlineDependencies(req: RenderRequest, opts: FetchForPathsOptions): Promise<Map<string, string>> {
  if (!req.dependencies?.trim()) return new Map();
  const { fetchInlineDependencies } = await inlineDependenciesModule();
  return fetchInlineDependencies(req.dependencies, req.baseDir, { ...opts, root: req.root });
}

/** Dependencies by kcl.mod key → the engine's external packages (import name: the key with `-` as `_`). */
function externalPkgsOf(dirs: ReadonlyMap<string, string>): { name: string; path: string }[] {
  return [...dirs].map(([name, path]) => ({ name: name.replace(/-/g, '_'), path }));
}

async function baseArgs(req: RenderRequest, opts: RenderOptions): Promise<Base | { error: ReturnType<typeof fail> }> {
  const src = req.source;
  const fetching = fetchOptions(req, opts.env ?? process.env, opts.gitRunUnder);
  switch (src.kind) {
    case 'inline': {
      let inline: Map<string, string>;
      try {
        inline = await inlineDependencies(req, fetching);
      } catch (err) {
        return manifestFailure(err);
      }
      const exec = { workDir: req.baseDir, files: [resolve(req.baseDir, req.inlineName ?? 'main.k')], codes: [src.code], externalPkgs: externalPkgsOf(inline) };
      return { exec, root: req.root ?? new PackageRoot(defaultPackageRoot(req.baseDir)) };
    }
    case 'local':
      return localArgs(req, src.paths, req.root, fetching);
    case 'oci': {
      const { fetchOciSource } = await fetchModule();
      let dir: string;
      try {
        dir = await fetchOciSource(src.ref, fetching);
      } catch (err) {
        if (err instanceof SourceFetchError) return { error: fail(err.message) };
        throw err;
      }
      return localArgs(req, [dir], new PackageRoot(dir, `the package ${src.ref}`), fetching);
    }
    case 'git':
    case 'https': {
      const { fetchRemoteSource } = await remoteSourceModule();
      let fetched: FetchedSource;
      try {
        fetched = await fetchRemoteSource(src.url, { credentials: req.credentials, allowInsecure: req.allowInsecure, signal: req.signal });
      } catch (err) {
        if (err instanceof SourceFetchError) return { error: fail(err.message) };
        return manifestFailure(err);
      }
      let based: Awaited<ReturnType<typeof localArgs>>;
      try {
        based = await localArgs(req, [fetched.path], fetched.root, fetching);
      } catch (err) {
        fetched.cleanup();
        throw err;
      }
      if ('error' in based) fetched.cleanup();
      else based.cleanup = fetched.cleanup;
      return based;
    }
  }
}

/**
 * Engine inputs for a local package or files inside `root`: dependencies fetched (when its kcl.mod has any, or
 * `spec.dependencies` is set), then resolved.
 */
async function localArgs(
  req: RenderRequest,
  paths: readonly string[],
  root: PackageRoot | undefined,
  fetching: FetchForPathsOptions,
): Promise<Base | { error: ReturnType<typeof fail> }> {
  const vendor = req.config?.vendor !== false;
  try {
    const inline = await inlineDependencies(req, fetching);
    const mod = kclModOf(paths, root);
    const fetched = mod && readKclMod(mod.modFile).dependencies.length > 0 ? await (await fetchModule()).fetchForPaths(paths, { ...fetching, vendor, root }) : undefined;
    const p = resolveProgram(paths, { vendor, root, fetched: new Map([...(fetched?.dirs ?? []), ...inline]), env: fetching.env });
    const names = new Set(p.externalPkgs.map((e) => e.name));
    const extra = externalPkgsOf(inline).filter((e) => !names.has(e.name));
    return { exec: { workDir: p.workDir, files: p.files, externalPkgs: [...p.externalPkgs, ...extra] }, root: p.root };
  } catch (err) {
    return manifestFailure(err);
  }
}

/** Renders a KCL program to resources with the official engine. Never throws for bad input. */
export async function render(req: RenderRequest, opts: RenderOptions): Promise<RenderOutcome> {
  const based = await baseArgs(req, opts);
  if ('error' in based) return based.error;
  try {
    return await renderBase(req, based, opts);
  } finally {
    based.cleanup?.();
  }
}

async function renderBase(req: RenderRequest, based: Base, opts: RenderOptions): Promise<RenderOutcome> {
  const { exec: base, root } = based;
  const cfg = req.config ?? {};
  const args: ExecProgramArgs = { ...base, args: [], overrides: [], pathSelectors: [] };
  if (cfg.settings?.length) {
    const settings = cfg.settings.map((s) => resolve(req.baseDir, s));
    const inside = manifestStep(() => settings.forEach((f, i) => root.check(f, `settings file ${cfg.settings![i]}`)));
    if (inside) return inside.error;
    const loaded = await loadSettingsFiles(base.workDir ?? req.baseDir, settings, opts.engine);
    if (!loaded.ok) return loaded;
    const s = loaded.value;
    if (s.files.length && req.source.kind !== 'inline') {
      args.files = s.files.map((f) => resolve(base.workDir ?? req.baseDir, f));
      const listed = manifestStep(() => args.files!.forEach((f, i) => root.check(f, `file ${s.files[i]} listed in the settings`)));
      if (listed) return listed.error;
    }
    args.overrides!.push(...s.overrides);
    args.pathSelectors!.push(...s.pathSelectors);
    args.args!.push(...s.options.map((o) => ({ name: o.key, value: o.value })));
    Object.assign(args, {
      strictRangeCheck: s.strictRangeCheck,
      disableNone: s.disableNone,
      debug: s.debug,
      sortKeys: s.sortKeys,
      showHidden: s.showHidden,
    });
  }
  const parsed = parseArguments(cfg.arguments ?? [], 'config.arguments');
  if (typeof parsed === 'string') return fail(parsed);
  args.args!.push(...parsed, ...(req.options ?? []));
  args.overrides!.push(...(cfg.overrides ?? []));
  args.pathSelectors!.push(...(cfg.pathSelectors ?? []));
  for (const f of ['strictRangeCheck', 'disableNone', 'debug', 'sortKeys', 'showHidden'] as const) {
    if (cfg[f] !== undefined) args[f] = cfg[f];
  }
  opts.onRun?.(args.files ?? []);
  const run = await runProgram(args, opts.engine);
  if (!run.ok) return run;
  const { limits } = opts;
  const tooBig = limits && checkOutputLimits(limits, { bytes: Buffer.byteLength(run.value.yaml) }, args.files?.[0]);
  if (tooBig) return { ok: false, diagnostics: [tooBig], log: run.value.log };
  const out = await unwrapOutput(run.value.yaml, run.value.json);
  if (!out.ok) return { ok: false, diagnostics: [{ severity: 'error', message: out.message }], log: run.value.log };
  const tooMany = limits && checkOutputLimits(limits, { objects: out.objects.length }, args.files?.[0]);
  if (tooMany) return { ok: false, diagnostics: [tooMany], log: run.value.log };
  return { ok: true, objects: out.objects, yaml: run.value.yaml, log: run.value.log };
}
