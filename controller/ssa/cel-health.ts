/**
 * Health from CEL expressions (`spec.healthCheckExprs`, Flux's RFC-0009 as in fluxcd/pkg `runtime/cel`): for a
 * group/kind, the object is InProgress while `status.observedGeneration` differs from `metadata.generation`; then
 * `inProgress`, `failed` and `current` are evaluated in that order over the object's fields (`status`, `metadata`,
 * `spec`...), the first true one decides; none true is InProgress. An expression that cannot be evaluated (e.g. a
 * field that is not there yet) gives Unknown, so the health check waits, as Flux does.
 */
import type { Environment, ParseResult } from '@marcbachmann/cel-js';
import { splitApiVersion } from '../kube/types.js';
import type { HealthCheckExpressions } from '../api/types.js';
import { field } from './status-rules.js';
import type { HealthResult, HealthStatus, JsonObject } from './types.js';

/** Custom health by `group/Kind` (`Kind` for the core group), as the built-in rules are keyed. */
export type CustomHealth = ReadonlyMap<string, (obj: JsonObject) => HealthResult>;

/** Why `healthCheckExprs` cannot be used. */
export class InvalidHealthExpressionError extends Error {
  constructor(
    readonly index: number,
    readonly which: 'current' | 'inProgress' | 'failed' | 'kind',
    message: string,
  ) {
    super(`healthCheckExprs[${index}].${which}: ${message}`);
    this.name = 'InvalidHealthExpressionError';
  }
}

let environment: Promise<Environment> | undefined;

/**
 * The CEL environment, built on first use: the library costs the controller's process ~10 MiB, paid only once a
 * KCLRun has `healthCheckExprs`. Bounds on what an expression may build (hostile specs); CEL has no loops, so size
 * bounds the cost.
 */
function celEnvironment(): Promise<Environment> {
  environment ??= import('@marcbachmann/cel-js').then(
    ({ Environment }) =>
      new Environment({
        unlistedVariablesAreDyn: true,
        enableOptionalTypes: true,
        limits: { maxAstNodes: 2000, maxDepth: 50, maxListElements: 200, maxMapEntries: 200, maxCallArguments: 16 },
      }),
  );
  return environment;
}

/** The key of an apiVersion/kind in {@link CustomHealth}. */
export function groupKindKey(apiVersion: string, kind: string): string {
  const { group } = splitApiVersion(apiVersion);
  return group === '' ? kind : `${group}/${kind}`;
}

function compile(env: Environment, index: number, which: 'current' | 'inProgress' | 'failed', expr: string): ParseResult {
  try {
    return env.parse(expr);
  } catch (err) {
    throw new InvalidHealthExpressionError(index, which, (err as Error).message.split('\n')[0] ?? 'cannot parse');
  }
}

function evaluator(exprs: Array<[HealthStatus, ParseResult, string]>): (obj: JsonObject) => HealthResult {
  return (obj) => {
    const observed = field(obj, 'status.observedGeneration');
    const generation = field(obj, 'metadata.generation');
    if (typeof observed === 'number' && typeof generation === 'number' && observed !== generation) {
      return { status: 'InProgress', message: `generation is ${generation}, but latest observed generation is ${observed}` };
    }
    for (const [status, run, source] of exprs) {
      let result: unknown;
      try {
        result = run(obj);
      } catch (err) {
        return { status: 'Unknown', message: `${status} expression "${source}" failed: ${(err as Error).message.split('\n')[0]}` };
      }
      if (typeof result !== 'boolean') return { status: 'Unknown', message: `${status} expression "${source}" is not a boolean` };
      if (result) return { status, message: `${status} expression "${source}" is true` };
    }
    return { status: 'InProgress', message: 'no health expression is true yet' };
  };
}

/** Compiles `healthCheckExprs`, or names the first entry that cannot be used. */
export async function compileHealthExprs(
  list: readonly HealthCheckExpressions[] | undefined,
): Promise<{ ok: true; health: CustomHealth } | { ok: false; error: InvalidHealthExpressionError }> {
  const out = new Map<string, (obj: JsonObject) => HealthResult>();
  if (!list?.length) return { ok: true, health: out };
  const env = await celEnvironment();
  for (const [i, e] of list.entries()) {
    if (!e.apiVersion || !e.kind) return { ok: false, error: new InvalidHealthExpressionError(i, 'kind', 'apiVersion and kind are required') };
    if (!e.current) return { ok: false, error: new InvalidHealthExpressionError(i, 'current', 'expression is required') };
    const exprs: Array<[HealthStatus, ParseResult, string]> = [];
    try {
      if (e.inProgress) exprs.push(['InProgress', compile(env, i, 'inProgress', e.inProgress), e.inProgress]);
      if (e.failed) exprs.push(['Failed', compile(env, i, 'failed', e.failed), e.failed]);
      exprs.push(['Current', compile(env, i, 'current', e.current), e.current]);
    } catch (err) {
      if (err instanceof InvalidHealthExpressionError) return { ok: false, error: err };
      throw err;
    }
    out.set(groupKindKey(e.apiVersion, e.kind), evaluator(exprs));
  }
  return { ok: true, health: out };
}
