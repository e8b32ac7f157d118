/**
 * The KCLRun function's API: names, and the functionConfig shapes (compatible with kcl-lang/krm-kcl). Declared
 * once here; the controller's `spec.config` reuses {@link KclConfigSpec}.
 */
import type { JsonObject } from '../krm/index.js';

/** apiVersion of the KCLRun functionConfig. */
export const FN_API_VERSION = 'krm.kcl.dev/v1alpha1';
/** kind of the KCLRun functionConfig. */
export const FN_KIND = 'KCLRun';
/** Default `metadata.name` of a KCLRun functionConfig. */
export const FN_DEFAULT_NAME = 'kcl-function-run';

/** `kcl run` options (`spec.config`): the same fields as krm-kcl's ConfigSpec. */
export interface KclConfigSpec {
  /** Top-level arguments, `-D name=value` (a value that parses as JSON is taken as JSON). */
  arguments?: string[];
  /** kcl.yaml settings files (`-Y`), relative to the source. */
  settings?: string[];
  /** Overrides (`-O path=value`). */
  overrides?: string[];
  /** Path selectors (`-S a.b`), selecting part of the output. */
  pathSelectors?: string[];
  /** Use vendored dependencies only (`--vendor`). */
  vendor?: boolean;
  /** Sort keys in the output (`--sort_keys`). */
  sortKeys?: boolean;
  /** Show hidden attributes (`--show_hidden`). */
  showHidden?: boolean;
  /** Drop None values from the output (`--disable_none`). */
  disableNone?: boolean;
  /** Debug mode (`--debug`). */
  debug?: boolean;
  /** Strict range checks (`--strict_range_check`). */
  strictRangeCheck?: boolean;
}

/** One `spec.matchConstraints.resourceRules` entry: an item matches when its apiVersion and kind are listed. */
export interface ResourceRule {
  apiVersions?: string[];
  kinds?: string[];
}

/** `spec.credentials` (krm-kcl's CredSpec). The password is never logged or shown. */
export interface CredentialsSpec {
  url?: string;
  username: string;
  password: string;
}

/** Annotation allowing plain-HTTP sources and registries ("true", "yes", "on", "1", "ok"). */
export const ANNOTATION_ALLOW_INSECURE_SOURCE = 'krm.kcl.dev/allow-insecure-source';

/** `spec` of the KCLRun functionConfig. */
export interface KCLRunFunctionSpec {
  /**
   * Inline KCL code, a local `.k` file, a local KCL package directory, `oci://host[:port]/repo[:tag]`, a git source
   * (`git::https://host/repo.git//subdir?ref=v1`, `https://host/repo.git?ref=…`, `github.com/org/repo`) or an
   * http(s) `.k` file or tarball.
   */
  source: string;
  /** The body of a kcl.mod `[dependencies]` table (`k8s = "1.28"` lines), added to the program's dependencies. */
  dependencies?: string;
  /** Credentials for the registry or git host `url` names (empty url: the source's host). */
  credentials?: CredentialsSpec;
  /** `option("params")`. */
  params?: JsonObject;
  /** Which items KCL sees; the others pass through unchanged. */
  matchConstraints?: { resourceRules?: ResourceRule[] };
  config?: KclConfigSpec;
}
