/**
 * Version ordering as kpm does it with hashicorp/go-version: `v`-prefix optional, any number of numeric segments
 * (missing ones are 0), a pre-release sorts before its release, build metadata is ignored. Used to pick the highest
 * tag when a dependency names none.
 */

/** A tag that is not a version (kpm fails the same way). */
export class VersionError extends Error {
  override name = 'VersionError';
  constructor(readonly version: string) {
    super(`"${version}" is not a version`);
  }
}

interface Parsed {
  segments: number[];
  pre: string;
}

const VERSION = /^v?([0-9]+(?:\.[0-9]+)*)(?:-?([0-9A-Za-z~-]+(?:\.[0-9A-Za-z~-]+)*))?(?:\+[0-9A-Za-z~-]+(?:\.[0-9A-Za-z~-]+)*)?$/;

function parse(v: string): Parsed {
  const m = VERSION.exec(v);
  if (!m) throw new VersionError(v);
  return { segments: m[1]!.split('.').map(Number), pre: m[2] ?? '' };
}

function comparePre(a: string, b: string): number {
  if (a === b) return 0;
  if (a === '') return 1;
  if (b === '') return -1;
  const pa = a.split('.');
  const pb = b.split('.');
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const x = pa[i];
    const y = pb[i];
    if (x === undefined) return -1;
    if (y === undefined) return 1;
    const nx = /^\d+$/.test(x);
    const ny = /^\d+$/.test(y);
    if (nx && ny && Number(x) !== Number(y)) return Number(x) - Number(y);
    if (nx !== ny) return nx ? -1 : 1;
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}

/** Negative, zero or positive as `a` sorts before, with, or after `b`. @throws VersionError */
export function compareVersions(a: string, b: string): number {
  const pa = parse(a);
  const pb = parse(b);
  for (let i = 0; i < Math.max(pa.segments.length, pb.segments.length); i++) {
    const d = (pa.segments[i] ?? 0) - (pb.segments[i] ?? 0);
    if (d !== 0) return d;
  }
  return comparePre(pa.pre, pb.pre);
}

/** The highest version among `tags`, `latest` left out; undefined when none is left. @throws VersionError */
export function highestVersion(tags: readonly string[]): string | undefined {
  let best: string | undefined;
  for (const t of tags) if (t !== 'latest' && (best === undefined || compareVersions(t, best) > 0)) best = t;
  return best;
}
