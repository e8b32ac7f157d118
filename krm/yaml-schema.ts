/**
 * A YAML schema for the `yaml` package that reads scalars the way Go's
 * yaml.v3 (kpt, kustomize) does, and writes untouched scalars back byte-for-byte.
 *
 * - `0644` is YAML 1.1 octal: read as 420, written back as `0644` (the core
 *   1.2 schema would read 644 and silently change the file mode).
 * - `0b101` is binary (yaml.v3 accepts it through Go's `strconv.ParseInt`).
 * - `yes`/`on`/`y`/… stay strings, as in yaml.v3; a *new* string with such a
 *   value is written quoted (`"yes"`), as yaml.v3 does, so YAML 1.1 readers
 *   (kubectl's sigs.k8s.io/yaml) never see a boolean.
 * - Numbers that were parsed keep their source spelling (`1e3`, `+12`, `0x1F`)
 *   as long as their value was not changed.
 */
import type { CollectionTag, DocumentOptions, ParseOptions, SchemaOptions, ScalarTag, ToStringOptions } from 'yaml';
import { yaml } from './yaml-lib.js';

/** Strings that YAML 1.1 (and yaml.v3's encoder `isOldBool`) treat as booleans. */
const YAML11_BOOL = /^(?:y|Y|yes|Yes|YES|n|N|no|No|NO|on|On|ON|off|Off|OFF)$/;

/** Tags the number wrappers apply to. */
const NUMBER_TAGS = new Set(['tag:yaml.org,2002:int', 'tag:yaml.org,2002:float']);

/** True when `s` would be a boolean to a YAML 1.1 reader but a string to yaml.v3. */
export function isYaml11Bool(s: string): boolean {
  return YAML11_BOOL.test(s);
}

const intIdentify = (v: unknown): boolean => typeof v === 'bigint' || (typeof v === 'number' && Number.isInteger(v));

/** `0644`: octal as in YAML 1.1 and yaml.v3 (`-0644` too); written back with its leading zero. */
const goOctalInt: ScalarTag = {
  identify: intIdentify,
  default: true,
  tag: 'tag:yaml.org,2002:int',
  format: 'GO_OCT',
  test: /^[-+]?0[0-7]+$/,
  resolve: (str) => parseInt(str, 8),
  stringify: (node) => {
    const n = Number(node.value);
    if (!Number.isInteger(n)) return String(node.value);
    return (n < 0 ? '-0' : '0') + Math.abs(n).toString(8);
  },
};

/** `0b101`: binary, as yaml.v3 decodes it. */
const goBinaryInt: ScalarTag = {
  identify: (v) => intIdentify(v) && (v as number) >= 0,
  default: true,
  tag: 'tag:yaml.org,2002:int',
  format: 'GO_BIN',
  test: /^0b[01]+$/,
  resolve: (str) => parseInt(str.slice(2), 2),
  stringify: (node) => {
    const n = Number(node.value);
    return Number.isInteger(n) && n >= 0 ? '0b' + n.toString(2) : String(node.value);
  },
};

/**
 * Reads YAML 1.1 booleans (`yes`, `on`, …) as strings. It is listed under a
 * private tag name so that the string stringifier's "would this plain text
 * read back as something else?" check sees it and quotes new values.
 */
const yaml11BoolAsString: ScalarTag = {
  default: true,
  tag: 'tag:kclrun.dev,2025:yaml11-bool-string',
  test: YAML11_BOOL,
  resolve: (str) => str,
};

/** The value a tag resolves `source` to, or `undefined` if it does not match. */
function reresolve(tag: ScalarTag, source: string): unknown {
  if (tag.test && !tag.test.test(source)) return undefined;
  try {
    const r = tag.resolve(source, () => undefined, {} as ParseOptions);
    return yaml().isScalar(r) ? r.value : r;
  } catch {
    return undefined;
  }
}

/** Wraps a number tag so a parsed, unchanged scalar is written with its source spelling. */
function keepNumberSource(tag: ScalarTag): ScalarTag {
  const base = tag.stringify;
  return {
    ...tag,
    stringify(node, ctx, onComment, onChompKeep) {
      const src = node.source;
      if (typeof src === 'string' && (node.type === undefined || node.type === yaml().Scalar.PLAIN)) {
        const v = reresolve(tag, src);
        if (v !== undefined && Object.is(v, node.value)) return src;
      }
      return base ? base(node, ctx, onComment, onChompKeep) : String(node.value);
    },
  };
}

/** Wraps the string tag so a parsed plain `yes`/`on` stays unquoted (byte-for-byte round trip). */
function keepPlainYaml11Bool(tag: ScalarTag): ScalarTag {
  const base = tag.stringify;
  return {
    ...tag,
    stringify(node, ctx, onComment, onChompKeep) {
      const v = node.value;
      if (
        node.type === yaml().Scalar.PLAIN &&
        typeof v === 'string' &&
        node.source === v &&
        YAML11_BOOL.test(v)
      ) {
        return v;
      }
      if (!base) throw new Error('yaml: core string tag has no stringify');
      return base(node, ctx, onComment, onChompKeep);
    },
  };
}

function isScalarTag(t: ScalarTag | CollectionTag | string): t is ScalarTag {
  return typeof t === 'object' && !('collection' in t && t.collection);
}

/** Builds the tag list from the core schema's tags (used as `customTags`). */
function goCompatibleTags(core: Array<ScalarTag | CollectionTag | string>): Array<ScalarTag | CollectionTag | string> {
  const adapted = core.map((t) => {
    if (!isScalarTag(t)) return t;
    if (t.tag === 'tag:yaml.org,2002:str') return keepPlainYaml11Bool(t);
    if (NUMBER_TAGS.has(t.tag)) return keepNumberSource(t);
    return t;
  });
  // Custom tags go first so their `test` wins over the core int tag's.
  return [keepNumberSource(goOctalInt), keepNumberSource(goBinaryInt), yaml11BoolAsString, ...adapted];
}

/** Parse/document options for every document `krm/` creates (core schema + Go-compatible tags). */
export const GO_SCHEMA_OPTIONS: ParseOptions & DocumentOptions & SchemaOptions = {
  version: '1.2',
  schema: 'core',
  customTags: goCompatibleTags as SchemaOptions['customTags'],
  keepSourceTokens: false,
  prettyErrors: true,
};

/** kyaml-style output: sequences not indented under their key, no line folding, `{a: b}` flow maps. */
export const TO_STRING_OPTIONS: ToStringOptions = {
  indentSeq: false,
  lineWidth: 0,
  flowCollectionPadding: false,
};
