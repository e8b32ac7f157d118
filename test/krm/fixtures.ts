/** Shared helpers for the krm tests: fixture loading. */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Absolute path of a file under test/krm/fixtures (works from dist/test/krm). */
export function fixturePath(name: string): string {
  return fileURLToPath(new URL(`../../../test/krm/fixtures/${name}`, import.meta.url));
}

/** The text of a fixture file. */
export function readFixture(name: string): string {
  return readFileSync(fixturePath(name), 'utf8');
}
