/**
 * Reads the function's configuration: check kind → apply defaults → validate. Accepts a `KCLRun`
 * (`krm.kcl.dev/v1alpha1`) or a `ConfigMap` whose `data.source` is the program and whose other keys are params
 * (so `kpt fn eval --exec kclrun -- source="$(cat main.k)" replicas=3` works).
 */
import { ANNOTATION_INTERNAL_PATH, ANNOTATION_PACKAGE_PATH, ANNOTATION_PATH, isJsonObject, type Item, type JsonObject, type JsonValue } from '../krm/index.js';
import { ANNOTATION_ALLOW_INSECURE_SOURCE, FN_API_VERSION, FN_DEFAULT_NAME, FN_KIND, type CredentialsSpec, type KCLRunFunctionSpec, type KclConfigSpec, type ResourceRule } from './api.js';

/** A validated function configuration. */
export interface FunctionConfig {
  name: string;
  spec: KCLRunFunctionSpec;
  /** Where the config came from, for messages (`kclrun.yaml`, or the kind/name). */
  origin: string;
  /** kpt's package path for a Kptfile pipeline step, used to resolve relative sources. */
  packagePath?: string;
  /** The `krm.kcl.dev/allow-insecure-source` annotation is set to a true value. */
  allowInsecure: boolean;
}

/** A configuration problem, naming the field. */
export interface ConfigProblem {
  field: string;
  message: string;
}

/** The outcome of reading a functionConfig. */
export type ConfigOutcome = { ok: true; config: FunctionConfig } | { ok: false; origin: string; problems: ConfigProblem[] };

const BOOL_FIELDS = ['vendor', 'sortKeys', 'showHidden', 'disableNone', 'debug', 'strictRangeCheck'] as const;
const LIST_FIELDS = ['arguments', 'settings', 'overrides', 'pathSelectors'] as const;

function origin(item: Item): string {
  const path = item.getAnnotation(ANNOTATION_PATH) ?? item.getAnnotation(ANNOTATION_INTERNAL_PATH);
  return path ?? `${item.kind ?? 'functionConfig'}/${item.name ?? FN_DEFAULT_NAME}`;
}

function readConfigSpec(v: JsonValue | undefined, problems: ConfigProblem[]): KclConfigSpec | undefined {
  if (v === undefined || v === null) return undefined;
  if (!isJsonObject(v)) {
    problems.push({ field: 'spec.config', message: 'must be a mapping' });
    return undefined;
  }
  const out: KclConfigSpec = {};
  for (const f of LIST_FIELDS) {
    const list = v[f];
    if (list === undefined || list === null) continue;
    if (!Array.isArray(list) || list.some((x) => typeof x !== 'string')) {
      problems.push({ field: `spec.config.${f}`, message: 'must be a list of strings' });
    } else out[f] = list as string[];
  }
  for (const f of BOOL_FIELDS) {
    const b = v[f];
    if (b === undefined || b === null) continue;
    if (typeof b !== 'boolean') problems.push({ field: `spec.config.${f}`, message: 'must be true or false' });
    else out[f] = b;
  }
  return out;
}

function readRules(v: JsonValue | undefined, problems: ConfigProblem[]): ResourceRule[] | undefined {
  if (v === undefined || v === null) return undefined;
  const rules = isJsonObject(v) ? v.resourceRules : undefined;
  if (rules === undefined || rules === null) return [];
  if (!Array.isArray(rules)) {
    problems.push({ field: 'spec.matchConstraints.resourceRules', message: 'must be a list' });
    return undefined;
  }
  return rules.map((r, i) => {
    const rule: ResourceRule = {};
    for (const f of ['apiVersions', 'kinds'] as const) {
      const list = isJsonObject(r) ? r[f] : undefined;
      if (list === undefined || list === null) continue;
      if (!Array.isArray(list) || list.some((x) => typeof x !== 'string')) {
        problems.push({ field: `spec.matchConstraints.resourceRules[${i}].${f}`, message: 'must be a list of strings' });
      } else rule[f] = list as string[];
    }
    return rule;
  });
}

function fromKCLRun(item: Item, obj: JsonObject): ConfigOutcome {
  const problems: ConfigProblem[] = [];
  const spec = isJsonObject(obj.spec) ? obj.spec : {};
  if (typeof spec.source !== 'string' || spec.source.trim() === '') {
    problems.push({ field: 'spec.source', message: 'is required: inline KCL code, a .k file or a KCL package directory' });
  }
  let params: JsonObject | undefined;
  if (spec.params !== undefined && spec.params !== null) {
    if (isJsonObject(spec.params)) params = spec.params;
    else problems.push({ field: 'spec.params', message: 'must be a mapping' });
  }
  const config = readConfigSpec(spec.config, problems);
  const rules = readRules(spec.matchConstraints, problems);
  let dependencies: string | undefined;
  if (spec.dependencies !== undefined && spec.dependencies !== null) {
    if (typeof spec.dependencies === 'string') dependencies = spec.dependencies;
    else problems.push({ field: 'spec.dependencies', message: 'must be a string: the lines of a kcl.mod [dependencies] table' });
  }
  const credentials = readCredentials(spec.credentials, problems);
  if (problems.length) return { ok: false, origin: origin(item), problems };
  return configured(item, {
    source: spec.source as string,
    params: params ?? {},
    matchConstraints: rules ? { resourceRules: rules } : undefined,
    config,
    ...(dependencies !== undefined && { dependencies }),
    ...(credentials && { credentials }),
  });
}

/** `spec.credentials {url, username, password}`; problems never quote the password. */
function readCredentials(v: JsonValue | undefined, problems: ConfigProblem[]): CredentialsSpec | undefined {
  if (v === undefined || v === null) return undefined;
  if (!isJsonObject(v)) {
    problems.push({ field: 'spec.credentials', message: 'must be a mapping with url, username and password' });
    return undefined;
  }
  const out: Partial<CredentialsSpec> = {};
  for (const f of ['url', 'username', 'password'] as const) {
    const x = v[f];
    if (x === undefined || x === null) continue;
    if (typeof x !== 'string') problems.push({ field: `spec.credentials.${f}`, message: 'must be a string' });
    else out[f] = x;
  }
  return { url: out.url ?? '', username: out.username ?? '', password: out.password ?? '' };
}

const TRUE_VALUES = ['true', 'yes', 'on', '1', 'ok'];

/** A valid config read from `item`. */
function configured(item: Item, spec: KCLRunFunctionSpec): ConfigOutcome {
  return {
    ok: true,
    config: {
      name: item.name ?? FN_DEFAULT_NAME,
      origin: origin(item),
      packagePath: item.getAnnotation(ANNOTATION_PACKAGE_PATH),
      allowInsecure: TRUE_VALUES.includes((item.getAnnotation(ANNOTATION_ALLOW_INSECURE_SOURCE) ?? '').trim().toLowerCase()),
      spec,
    },
  };
}

function fromConfigMap(item: Item, obj: JsonObject): ConfigOutcome {
  const data = isJsonObject(obj.data) ? obj.data : {};
  const { source, ...rest } = data;
  if (typeof source !== 'string' || source.trim() === '') {
    return {
      ok: false,
      origin: origin(item),
      problems: [{ field: 'data.source', message: 'is required (e.g. `-- source="$(cat main.k)"`), or use a KCLRun functionConfig' }],
    };
  }
  return configured(item, { source, params: rest });
}

/** True when `item` is a KCLRun functionConfig document. */
export function isKCLRun(item: Item): boolean {
  return item.kind === FN_KIND && item.apiVersion === FN_API_VERSION;
}

/** Reads and validates a functionConfig item. */
export function readFunctionConfig(item: Item | undefined): ConfigOutcome {
  if (!item) {
    return {
      ok: false,
      origin: 'ResourceList',
      problems: [{ field: 'functionConfig', message: `is missing: give a ${FN_KIND} (${FN_API_VERSION}) or a ConfigMap with data.source` }],
    };
  }
  const obj = item.toObject();
  if (isKCLRun(item)) return fromKCLRun(item, obj);
  if (item.kind === 'ConfigMap' && (item.apiVersion === 'v1' || item.apiVersion === undefined)) return fromConfigMap(item, obj);
  if (item.kind === FN_KIND) {
    return { ok: false, origin: origin(item), problems: [{ field: 'apiVersion', message: `must be ${FN_API_VERSION}, got ${String(item.apiVersion)}` }] };
  }
  return {
    ok: false,
    origin: origin(item),
    problems: [{ field: 'kind', message: `must be ${FN_KIND} (${FN_API_VERSION}) or ConfigMap, got ${String(item.kind)}` }],
  };
}

/** True when an item with this apiVersion/kind is passed to KCL under `rules` (none or empty: every item). */
export function matchesRules(rules: readonly ResourceRule[] | undefined, apiVersion?: string, kind?: string): boolean {
  if (!rules || rules.length === 0) return true;
  const has = (list: readonly string[] | undefined, v?: string) => !list || list.length === 0 || list.includes('*') || (v !== undefined && list.includes(v));
  return rules.some((r) => has(r.apiVersions, apiVersion) && has(r.kinds, kind));
}
