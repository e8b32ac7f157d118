/**
 * The KCLRun KRM function: a ResourceList (or YAML stream with KCLRun documents) in, a ResourceList out.
 * Pipeline per functionConfig: read config → select items → render through the one core (`render.ts`) → merge the
 * output back, keeping comments and kpt's annotations of items KCL rebuilt. Items that `matchConstraints` leaves out
 * pass through unchanged (krm-kcl drops them; we do not lose user data). Any failure leaves every item as it came
 * in and reports `results` with severity error; nothing partial is written.
 */
import { dirname, isAbsolute, relative, resolve } from 'node:path';
import {
  ANNOTATION_INTERNAL_PATH,
  ANNOTATION_PACKAGE_PATH,
  ANNOTATION_PATH,
  itemsFromOutputs,
  Item,
  type ResourceListInput,
  type Result,
} from '../krm/index.js';
import { formatDiagnostic, type Diagnostic } from './engine/diagnostics.js';
import { isKCLRun, matchesRules, readFunctionConfig, type FunctionConfig } from './config.js';
import type { RenderOutcome, RenderRequest } from './render.js';
import { parseSource, type Source } from './source.js';
import { parseGitSource } from './package/source-url.js';
import type { SourceCredentials } from './package/source-credentials.js';
import { FN_API_VERSION, FN_KIND } from './api.js';

/** Where the function runs. */
export interface FunctionContext {
  /** Working directory (relative sources fall back to it). Default process.cwd(). */
  cwd?: string;
  /** Environment passed to KCL as `option("env")` and `option("PATH")`. Default process.env. */
  env?: NodeJS.ProcessEnv;
  /** Receives what KCL `print()`s. */
  log?: (text: string) => void;
  /**
   * Renders a request: `kclrun fn` passes its engine (cli/engine.ts: in-process under the crash guard, or the
   * engine pool of fn/worker/); fn-level tests pass `render` of fn/render.ts with the engine in their own process.
   * This module never loads the engine itself.
   */
  render: (req: RenderRequest) => Promise<RenderOutcome>;
}

/** The function's output: the items to write and the results to report. */
export interface FunctionOutput {
  items: Item[];
  results: Result[];
  /** Function configs taken from a YAML stream (not written back). */
  consumed: Item[];
}

function diagnosticResults(diags: Diagnostic[], cfg: FunctionConfig, baseDir: string, inline: string | undefined): Result[] {
  // Files are shown relative to the working directory when under it, inline code as the functionConfig's source.
  const show = (file: string | undefined): string | undefined => {
    if (inline !== undefined && file === inline) return `${cfg.origin} (spec.source)`;
    if (file && isAbsolute(file)) {
      const rel = relative(baseDir, file);
      if (!rel.startsWith('..')) return rel;
    }
    return file;
  };
  return diags.map((d) => {
    const file = show(d.file);
    const shown: Diagnostic = { ...d, file, related: d.related?.map((r) => ({ ...r, file: show(r.file) })) };
    const r: Result = { severity: 'error', message: formatDiagnostic(shown) };
    if (file) r.file = { path: file };
    return r;
  });
}

/**
 * The package the function runs on, which anchors relative sources: kpt's package-path on the functionConfig; else
 * on the package's own copy of that config among the items (kpt hands a Kptfile validator its `configPath` config
 * without the annotation); else on the package's root Kptfile; else the working directory.
 */
function packageDir(cfg: FunctionConfig, configItem: Item | undefined, items: readonly Item[], cwd: string): string {
  if (cfg.packagePath) return cfg.packagePath;
  const pkg = (i: Item) => i.getAnnotation(ANNOTATION_PACKAGE_PATH);
  const path = (i: Item) => i.getAnnotation(ANNOTATION_INTERNAL_PATH) ?? i.getAnnotation(ANNOTATION_PATH);
  const copy =
    configItem &&
    items.find((i) => i !== configItem && pkg(i) && i.apiVersion === configItem.apiVersion && i.kind === configItem.kind && i.name === configItem.name);
  const kptfile = items.find((i) => i.kind === 'Kptfile' && path(i) === 'Kptfile' && pkg(i));
  return (copy && pkg(copy)) || (kptfile && pkg(kptfile)) || cwd;
}

/**
 * `spec.credentials`, overridden field by field by `KCL_SRC_URL`, `KCL_SRC_USERNAME` and `KCL_SRC_PASSWORD` (as in
 * krm-kcl); with no url, they are for the host the source names. None without a username and password.
 */
function sourceCredentials(cfg: FunctionConfig, source: Source, env: NodeJS.ProcessEnv): SourceCredentials | undefined {
  const spec = cfg.spec.credentials;
  const username = env.KCL_SRC_USERNAME || spec?.username || '';
  const password = env.KCL_SRC_PASSWORD || spec?.password || '';
  if (!username || !password) return undefined;
  const remote = source.kind === 'oci' ? source.ref : source.kind === 'git' ? gitSourceUrl(source.url) : source.kind === 'https' ? source.url : '';
  const url = env.KCL_SRC_URL || spec?.url || remote;
  return url ? { url, username, password } : undefined;
}

function gitSourceUrl(source: string): string {
  try {
    return parseGitSource(source).url;
  } catch {
    return ''; // the render reports the bad source
  }
}

async function runOne(cfg: FunctionConfig, configItem: Item | undefined, items: Item[], input: ResourceListInput, ctx: FunctionContext) {
  const cwd = ctx.cwd ?? process.cwd();
  const baseDir = packageDir(cfg, configItem, input.items, cwd);
  const source = parseSource(cfg.spec.source, baseDir);
  const rules = cfg.spec.matchConstraints?.resourceRules;
  // KCLRun documents (function configs kept in the package) are never handed to KCL: they pass through, as in krm-kcl.
  const selected = items.filter((i) => !isKCLRun(i) && matchesRules(rules, i.apiVersion, i.kind));
  const chosen = new Set(selected);
  const passed = items.filter((i) => !chosen.has(i));
  // Each item's value as it is now, shared with the item (read only: stringified for the engine, compared on merge).
  const json = new Map(items.map((i) => [i, i.view()] as const));
  const itemsJson = selected.map((i) => json.get(i)!);
  const env = ctx.env ?? process.env;
  const resourceList = {
    apiVersion: 'config.kubernetes.io/v1',
    kind: 'ResourceList',
    items: items.map((i) => json.get(i)!),
    functionConfig: input.functionConfig?.toObject() ?? {},
  };
  const inline = resolve(baseDir, `${cfg.name}.k`);
  const credentials = sourceCredentials(cfg, source, env);
  const outcome = await ctx.render({
    source,
    config: cfg.spec.config,
    ...(cfg.spec.dependencies?.trim() && { dependencies: cfg.spec.dependencies }),
    ...(credentials && { credentials: [credentials] }),
    ...(cfg.allowInsecure && { allowInsecure: true }),
    baseDir: source.kind === 'local' ? dirname(source.paths[0]!) : baseDir,
    inlineName: inline,
    options: [
      { name: 'params', value: JSON.stringify(cfg.spec.params ?? {}) },
      { name: 'items', value: JSON.stringify(itemsJson) },
      { name: 'resource_list', value: JSON.stringify(resourceList) },
      { name: 'PATH', value: env.PATH ?? '' },
      { name: 'env', value: JSON.stringify(env) },
    ],
  });
  const log = outcome.log;
  if (log) ctx.log?.(log);
  // Only inline code is shown as the functionConfig's source: a local file may well be called `<name>.k` too.
  const shownInline = source.kind === 'inline' ? inline : undefined;
  if (!outcome.ok) return { ok: false as const, results: diagnosticResults(outcome.diagnostics, cfg, cwd, shownInline) };
  return { ok: true as const, items: [...passed, ...itemsFromOutputs(outcome.objects, selected, json)] };
}

/**
 * Runs the function on parsed input. With a ResourceList, `functionConfig` is the config; with a YAML stream (or a
 * ResourceList without one), KCLRun documents among the items are applied in order and removed from the output.
 */
export async function runFunction(input: ResourceListInput, ctx: FunctionContext): Promise<FunctionOutput> {
  const configs = input.functionConfig ? [input.functionConfig] : input.items.filter(isKCLRun);
  let items = input.items.filter((i) => !configs.includes(i));
  // Each step updates the items it rebuilt in place; with several steps, keep a copy to hand back on failure.
  const original = configs.length > 1 ? items.map((i) => new Item(i.doc.clone())) : items;
  if (configs.length === 0) configs.push(undefined as unknown as Item);
  const results: Result[] = [...(input.results ?? [])];
  for (const item of configs) {
    const read = readFunctionConfig(item);
    if (!read.ok) {
      results.push(
        ...read.problems.map((p) => ({
          severity: 'error' as const,
          message: `${read.origin}: ${p.field} ${p.message}`,
          field: { path: p.field },
          ...(item ? { resourceRef: { apiVersion: item.apiVersion ?? FN_API_VERSION, kind: item.kind ?? FN_KIND, name: item.name } } : {}),
        })),
      );
      return { items: original, results, consumed: configs.filter(Boolean) };
    }
    const step = await runOne(read.config, item, items, input, ctx);
    if (!step.ok) {
      results.push(...step.results);
      return { items: original, results, consumed: configs.filter(Boolean) };
    }
    items = step.items;
  }
  return { items, results, consumed: configs.filter(Boolean) };
}
