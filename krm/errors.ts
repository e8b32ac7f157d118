/**
 * The error `parseInput` throws for input that is not valid YAML or not a
 * usable ResourceList / YAML stream. Its message always names the position.
 */
import type { LineCounter } from 'yaml';

/** Input could not be read; `line`/`column` (1-based) locate the problem when known. */
export class KrmInputError extends Error {
  /** 1-based line of the problem, when known. */
  readonly line?: number;
  /** 1-based column of the problem, when known. */
  readonly column?: number;

  /** `detail` is the bare problem; the position is prefixed to the message. */
  constructor(detail: string, line?: number, column?: number) {
    super(line !== undefined ? `invalid KRM input at line ${line}, column ${column ?? 1}: ${detail}` : `invalid KRM input: ${detail}`);
    this.name = 'KrmInputError';
    if (line !== undefined) {
      this.line = line;
      this.column = column ?? 1;
    }
  }

  /** An error (of the class it is called on) located at a source offset. */
  static at<E extends KrmInputError>(
    this: new (detail: string, line?: number, column?: number) => E,
    detail: string,
    offset: number | undefined,
    lines: LineCounter,
  ): E {
    if (offset === undefined) return new this(detail);
    const { line, col } = lines.linePos(offset);
    return new this(detail, line, col);
  }
}

/**
 * Input whose YAML aliases are refused (`yaml-limits.ts`): past the alias budget (an alias bomb), a cycle, an alias
 * with no anchor, or a ResourceList item using another item's anchor.
 */
export class YamlAliasError extends KrmInputError {
  constructor(detail: string, line?: number, column?: number) {
    super(detail, line, column);
    this.name = 'YamlAliasError';
  }
}
