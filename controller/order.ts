/**
 * The order Flux sorts names in: Go's string comparison (`<`, byte order), not a locale's collation — `B` sorts
 * before `a`, as in `sort.Strings`. (JavaScript compares UTF-16 code units; for the ASCII names Kubernetes allows,
 * and for any text within the Basic Multilingual Plane, that is the same order.) No locale data is loaded.
 */
export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
