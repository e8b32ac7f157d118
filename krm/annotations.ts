/**
 * kpt / kustomize bookkeeping annotations, and carrying them over from input
 * items to output items that were rebuilt from plain objects (e.g. by KCL),
 * so kpt writes each resource back to the file it came from.
 */
import type { Item } from './item.js';

/** Prefix of kpt's internal annotations (`internal.config.kubernetes.io/*`). */
export const INTERNAL_ANNOTATION_PREFIX = 'internal.config.kubernetes.io/';
/** Legacy file path annotation. */
export const ANNOTATION_PATH = 'config.kubernetes.io/path';
/** Legacy document-index annotation. */
export const ANNOTATION_INDEX = 'config.kubernetes.io/index';
/** kpt's internal file path annotation. */
export const ANNOTATION_INTERNAL_PATH = 'internal.config.kubernetes.io/path';
/** kpt's internal document-index annotation. */
export const ANNOTATION_INTERNAL_INDEX = 'internal.config.kubernetes.io/index';
/** kpt's internal id, used to copy comments back to files. */
export const ANNOTATION_INTERNAL_ID = 'internal.config.kubernetes.io/id';
/** Legacy id annotation kpt still sends. */
export const ANNOTATION_LEGACY_ID = 'config.k8s.io/id';
/** kustomize's resource id (exec plugins must keep it, kustomize#1791). */
export const ANNOTATION_KUSTOMIZE_ID = 'kustomize.config.k8s.io/id';
/** Set by kpt render for `configPath:` functionConfigs: absolute package path. */
export const ANNOTATION_PACKAGE_PATH = 'internal.config.kubernetes.io/package-path';
/** Marks local-config resources (Kptfile, function configs). */
export const ANNOTATION_LOCAL_CONFIG = 'config.kubernetes.io/local-config';

/**
 * The exact (non-prefix) annotation keys that are carried over. Everything
 * under {@link INTERNAL_ANNOTATION_PREFIX} is carried over as well.
 */
export const INTERNAL_ANNOTATION_KEYS = [
  ANNOTATION_PATH,
  ANNOTATION_INDEX,
  ANNOTATION_LEGACY_ID,
  ANNOTATION_KUSTOMIZE_ID,
] as const;

const EXACT_KEYS: ReadonlySet<string> = new Set(INTERNAL_ANNOTATION_KEYS);

/** True for an annotation key that kpt or kustomize uses for bookkeeping. */
export function isInternalAnnotation(key: string): boolean {
  return key.startsWith(INTERNAL_ANNOTATION_PREFIX) || EXACT_KEYS.has(key);
}

/** The internal annotations of one item, in their original order. */
export function internalAnnotationsOf(item: Item): Array<[string, string]> {
  return Object.entries(item.getAnnotations()).filter(([k]) => isInternalAnnotation(k));
}

/** apiVersion/kind/namespace/name, the identity kpt and kustomize match on. */
export function gvknnKey(item: Item): string {
  return JSON.stringify([item.apiVersion ?? '', item.kind ?? '', item.namespace ?? '', item.name ?? '']);
}

/**
 * Restores kpt/kustomize bookkeeping annotations on output items that lack them.
 *
 * Each output item without any internal annotation is matched to the first
 * *unused* input item with the same apiVersion/kind/namespace/name, so that
 * duplicates (same name in two files) map in order. The matched input's
 * internal annotations are copied onto the output; output items that already
 * carry internal annotations (passed through, or KCL kept them) are left alone
 * but still consume their match. Output items with no match stay without
 * annotations: kpt will then write them to `<namespace>/<kind>_<name>.yaml`.
 */
export function carryInternalAnnotations(outputs: Item[], inputs: readonly Item[]): void {
  const pool = new Map<string, Item[]>();
  for (const input of inputs) {
    const key = gvknnKey(input);
    const list = pool.get(key);
    if (list) list.push(input);
    else pool.set(key, [input]);
  }
  const needing: Item[] = [];
  for (const out of outputs) {
    const own = internalAnnotationsOf(out);
    if (own.length === 0) {
      needing.push(out);
      continue;
    }
    // An output that kept its annotations claims the input it came from.
    const list = pool.get(gvknnKey(out));
    const id = out.getAnnotation(ANNOTATION_INTERNAL_ID) ?? out.getAnnotation(ANNOTATION_LEGACY_ID);
    const idx = list?.findIndex((i) => id !== undefined && (i.getAnnotation(ANNOTATION_INTERNAL_ID) ?? i.getAnnotation(ANNOTATION_LEGACY_ID)) === id) ?? -1;
    if (list && idx >= 0) list.splice(idx, 1);
  }
  for (const out of needing) {
    const match = pool.get(gvknnKey(out))?.shift();
    if (!match) continue;
    for (const [k, v] of internalAnnotationsOf(match)) out.setAnnotation(k, v);
  }
}
