/**
 * Public surface of `krm/`: ResourceList in, ResourceList out.
 * Knows nothing about KCL or clusters.
 */
export type { JsonValue, JsonObject, Severity, ResourceRef, Result, ResultField, ResultFile } from './types.js';
export { SEVERITIES, isJsonObject } from './types.js';
export { Item } from './item.js';
export type { InputFormat, ResourceListInput } from './resource-list.js';
export type { FormatResourceListOptions } from './format.js';
export {
  parseInput,
  formatResourceList,
  formatStream,
  KrmInputError,
  YamlAliasError,
  RESOURCE_LIST_API_VERSION,
  RESOURCE_LIST_KIND,
} from './resource-list.js';
export { itemsFromOutputs } from './outputs.js';
export { jsonEqual } from './update.js';
export { exitCodeFor, resourceRefOf, isResult, hasErrors, resultToJson } from './results.js';
export {
  carryInternalAnnotations,
  INTERNAL_ANNOTATION_KEYS,
  INTERNAL_ANNOTATION_PREFIX,
  ANNOTATION_PATH,
  ANNOTATION_INDEX,
  ANNOTATION_INTERNAL_PATH,
  ANNOTATION_INTERNAL_INDEX,
  ANNOTATION_INTERNAL_ID,
  ANNOTATION_LEGACY_ID,
  ANNOTATION_KUSTOMIZE_ID,
  ANNOTATION_PACKAGE_PATH,
  ANNOTATION_LOCAL_CONFIG,
  isInternalAnnotation,
  internalAnnotationsOf,
  gvknnKey,
} from './annotations.js';
export { GO_SCHEMA_OPTIONS, TO_STRING_OPTIONS, isYaml11Bool } from './yaml-schema.js';
export { ALIAS_BUDGET, TO_JS_OPTIONS, aliasBudgetProblem } from './yaml-limits.js';
export type { AliasProblem } from './yaml-limits.js';
