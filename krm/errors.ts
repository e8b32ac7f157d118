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

  /** An error located at a source offset. */
  static at(detail: string, offset: number | undefined, lines: LineCounter): KrmInputError {
    if (offset === undefined) return new KrmInputError(detail);
    const { line, col } = lines.linePos(offset);
    return new KrmInputError(detail, line, col);
  }
}

/** Input whose YAML aliases would expand past the alias budget (`yaml-limits.ts`): a YAML alias bomb, or a cycle. */
export class YamlAliasError extends KrmInputError {
  constructor(detail: string, line?: number, column?: number) {
    super(detail, line, column);
    this.name = 'YamlAliasError';
  }

  /** An error located at a source offset. */
  static override at(detail: string, offset: number | undefined, lines: LineCounter): YamlAliasError {
    if (offset === undefined) return new YamlAliasError(detail);
    const { line, col } = lines.linePos(offset);
    return new YamlAliasError(detail, line, col);
  }
}
