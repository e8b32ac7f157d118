/**
 * The naming rules of the Kubernetes API (apimachinery's `IsDNS1123Subdomain`, `IsDNS1123Label`, `IsConfigMapKey`…)
 * for the name fields of a KCLRun spec, defined once: the CRD schema takes its `pattern`/`maxLength` from
 * {@link NAME_RULES}, and the reconciler checks the same fields with {@link specNameProblem} before any of them reaches
 * a request — so a KCLRun stored before the schema had a rule (or a schema mistake) still fails cleanly.
 */
import { ARGUMENTS_KINDS, SOURCE_KINDS } from './group.js';
import type { KCLRunSpec, SourceReference } from './types.js';

const SUBDOMAIN = '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*';
const LABEL = '[a-z0-9]([-a-z0-9]*[a-z0-9])?';
const DNS1035_LABEL = '[a-z]([-a-z0-9]*[a-z0-9])?';

/** One rule: the schema fragment (anchored ECMA/RE2 pattern, length bounds) and what it means, for messages. */
export interface NameRule {
  pattern: string;
  minLength: number;
  maxLength: number;
  /** Completes "must be …". */
  meaning: string;
}

/** The rules, by what they name. */
export const NAME_RULES = {
  /** Object names (most kinds), ServiceAccount names. */
  objectName: {
    pattern: `^${SUBDOMAIN}$`,
    minLength: 1,
    maxLength: 253,
    meaning: "a lowercase RFC 1123 subdomain (lower case alphanumerics, '-' and '.', starting and ending alphanumeric; at most 253 characters)",
  },
  namespace: {
    pattern: `^${LABEL}$`,
    minLength: 1,
    maxLength: 63,
    meaning: "a lowercase RFC 1123 label (lower case alphanumerics and '-', starting and ending alphanumeric; at most 63 characters)",
  },
  /** `group/version` or `version`: group a subdomain, version a DNS-1035 label (as CRD versions are). */
  apiVersion: {
    pattern: `^(${SUBDOMAIN}/)?${DNS1035_LABEL}$`,
    minLength: 1,
    maxLength: 317,
    meaning: "an API version: an optional RFC 1123 subdomain and '/', then a lowercase RFC 1035 label",
  },
  /** Kinds: alphanumerics and '-', starting with a letter (a CRD kind lower-cased must be a DNS-1035 label). */
  kind: {
    pattern: '^[A-Za-z]([-A-Za-z0-9]*[A-Za-z0-9])?$',
    minLength: 1,
    maxLength: 63,
    meaning: "a kind (alphanumerics and '-', starting with a letter; at most 63 characters)",
  },
  /** Keys of Secret and ConfigMap data. */
  dataKey: {
    pattern: '^[-._a-zA-Z0-9]+$',
    minLength: 1,
    maxLength: 253,
    meaning: "a data key (alphanumerics, '-', '_' and '.'; at most 253 characters)",
  },
} as const satisfies Record<string, NameRule>;

/** One of {@link NAME_RULES}. */
export type NameRuleName = keyof typeof NAME_RULES;

const compiled = new Map<NameRuleName, RegExp>(
  (Object.keys(NAME_RULES) as NameRuleName[]).map((k) => [k, new RegExp(NAME_RULES[k].pattern)]),
);

/** Why `value` breaks `rule`, or undefined when it follows it. */
export function nameRuleProblem(rule: NameRuleName, value: unknown): string | undefined {
  const r = NAME_RULES[rule];
  if (typeof value !== 'string') return 'must be a string';
  if (value.length < r.minLength || value.length > r.maxLength || !compiled.get(rule)!.test(value)) return `must be ${r.meaning}`;
  if (rule === 'dataKey' && (value === '.' || value.startsWith('..'))) return "must not be '.' or start with '..'";
  return undefined;
}

/** One name-like field of a spec: where it is, its value, and the rule or the fixed set it follows. */
export interface SpecName {
  /** e.g. `spec.argumentsReferences[0].name`. */
  field: string;
  value: unknown;
  rule: NameRuleName | readonly string[];
}

function list<T>(v: T[] | undefined): T[] {
  return Array.isArray(v) ? v : [];
}

/** Every name-like field of `spec` (the ones that reach API paths, headers or lookups): the required ones always, the optional ones when set. */
export function specNames(spec: KCLRunSpec): SpecName[] {
  const out: SpecName[] = [];
  const req = (field: string, value: unknown, rule: SpecName['rule']): void => void out.push({ field: `spec.${field}`, value, rule });
  const opt = (field: string, value: unknown, rule: SpecName['rule']): void => {
    if (value !== undefined) req(field, value, rule);
  };
  const src: Partial<SourceReference> = spec.sourceRef ?? {};
  opt('sourceRef.apiVersion', src.apiVersion, 'apiVersion');
  req('sourceRef.kind', src.kind, SOURCE_KINDS);
  req('sourceRef.name', src.name, 'objectName');
  opt('sourceRef.namespace', src.namespace, 'namespace');
  for (const [i, d] of list(spec.dependsOn).entries()) {
    req(`dependsOn[${i}].name`, d.name, 'objectName');
    opt(`dependsOn[${i}].namespace`, d.namespace, 'namespace');
  }
  for (const [i, h] of list(spec.healthChecks).entries()) {
    opt(`healthChecks[${i}].apiVersion`, h.apiVersion, 'apiVersion');
    req(`healthChecks[${i}].kind`, h.kind, 'kind');
    req(`healthChecks[${i}].name`, h.name, 'objectName');
    opt(`healthChecks[${i}].namespace`, h.namespace, 'namespace');
  }
  for (const [i, a] of list(spec.argumentsReferences).entries()) {
    req(`argumentsReferences[${i}].kind`, a.kind, ARGUMENTS_KINDS);
    req(`argumentsReferences[${i}].name`, a.name, 'objectName');
  }
  opt('serviceAccountName', spec.serviceAccountName, 'objectName');
  opt('targetNamespace', spec.targetNamespace, 'namespace');
  const { secretRef, configMapRef } = spec.kubeConfig ?? {};
  if (secretRef !== undefined) {
    req('kubeConfig.secretRef.name', secretRef.name, 'objectName');
    opt('kubeConfig.secretRef.key', secretRef.key, 'dataKey');
  }
  if (configMapRef !== undefined) req('kubeConfig.configMapRef.name', configMapRef.name, 'objectName');
  if (spec.registrySecretRef !== undefined) req('registrySecretRef.name', spec.registrySecretRef.name, 'objectName');
  return out;
}

/** A message naming the first invalid name field of `spec` (and its value, shortened), or undefined when all are valid. */
export function specNameProblem(spec: KCLRunSpec): string | undefined {
  for (const { field, value, rule } of specNames(spec)) {
    if (value === undefined) return `${field} is required`;
    const problem = typeof rule === 'string' ? nameRuleProblem(rule, value) : oneOfProblem(rule, value);
    if (problem) return `invalid ${field} ${quote(value)}: ${problem}`;
  }
  return undefined;
}

function oneOfProblem(allowed: readonly string[], value: unknown): string | undefined {
  return typeof value === 'string' && allowed.includes(value) ? undefined : `must be one of ${allowed.join(', ')}`;
}

function quote(value: unknown): string {
  const s = typeof value === 'string' ? value : String(JSON.stringify(value));
  return JSON.stringify(s.length > 80 ? `${s.slice(0, 80)}…` : s);
}
