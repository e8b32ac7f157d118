/**
 * Kubernetes label selector strings (`labels.Parse`): `key`, `!key`, `key=v`, `key==v`, `key!=v`,
 * `key in (a,b)`, `key notin (a,b)`, comma-separated. `--watch-label-selector` is checked with this before the
 * controller starts, so a typo is a usage error rather than a controller that lists nothing.
 */

const NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

/** A selector that does not parse, with the part at fault. */
export class LabelSelectorError extends Error {
  constructor(
    readonly selector: string,
    readonly part: string,
    reason: string,
  ) {
    super(`invalid label selector "${selector}": "${part}": ${reason}`);
    this.name = 'LabelSelectorError';
  }
}

function keyProblem(key: string): string | undefined {
  const slash = key.indexOf('/');
  const [prefix, name] = slash < 0 ? [undefined, key] : [key.slice(0, slash), key.slice(slash + 1)];
  if (prefix !== undefined && (prefix.length > 253 || !DNS_SUBDOMAIN.test(prefix))) return 'the key prefix must be a DNS subdomain';
  if (name.length > 63 || !NAME.test(name)) return 'the key name must be 1-63 alphanumerics, -, _ or .';
  return undefined;
}

function valueProblem(value: string): string | undefined {
  return value.length > 63 || !VALUE.test(value) ? `value "${value}" must be at most 63 alphanumerics, -, _ or .` : undefined;
}

/** Splits on commas outside parentheses. */
function requirements(selector: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of selector) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      out.push(cur.trim());
      cur = '';
    } else cur += ch;
  }
  out.push(cur.trim());
  return out;
}

function check(req: string): string | undefined {
  let m: RegExpMatchArray | null;
  if ((m = req.match(/^!\s*(\S+)$/))) return keyProblem(m[1]!);
  if ((m = req.match(/^(\S+?)\s+(in|notin)\s*\((.*)\)$/))) {
    const values = m[3]!.split(',').map((v) => v.trim());
    return keyProblem(m[1]!) ?? values.map(valueProblem).find(Boolean);
  }
  if ((m = req.match(/^([^=!\s]+)\s*(==|=|!=)\s*(\S*)$/))) return keyProblem(m[1]!) ?? valueProblem(m[3]!);
  if (/^\S+$/.test(req)) return keyProblem(req);
  return 'expected key, !key, key=value, key!=value, key in (...) or key notin (...)';
}

/** Why `selector` is not a valid label selector, or undefined when it is. */
export function labelSelectorError(selector: string): LabelSelectorError | undefined {
  if (selector.trim() === '') return new LabelSelectorError(selector, selector, 'empty selector');
  for (const req of requirements(selector)) {
    const problem = req === '' ? 'empty requirement' : check(req);
    if (problem) return new LabelSelectorError(selector, req, problem);
  }
  return undefined;
}

/** The label key Flux shards by (`sharding.fluxcd.io/key`). */
export const SHARD_KEY = 'sharding.fluxcd.io/key';

/** The selector of a shard (`sharding.fluxcd.io/key in (NAME)`). */
export function shardSelector(shard: string): string {
  return `${SHARD_KEY} in (${shard})`;
}

/** The selector of the main instance when shards exist: KCLRuns without a shard label. */
export const UNSHARDED_SELECTOR = `!${SHARD_KEY}`;
