/**
 * Redaction of Secret values from anything a user or a log collector sees (condition messages, Events, logs). The
 * KCL engine and the API server both echo values back in errors (a failed `assert`, "Invalid value: …"), so the
 * reconciler passes every message through {@link redact} with the values it read from Secrets and rendered into
 * Secrets. Pure.
 */
import type { JsonObject } from '../../krm/index.js';

/** What a redacted value is replaced with. */
export const REDACTED = '[redacted]';

/** Values (and lines of values) shorter than this are left alone: they would mangle unrelated text. */
const MIN_LENGTH = 4;

/** The strings to hide for one secret value: the value, its JSON-escaped form, and each of its lines. */
function needles(value: string): string[] {
  const out = [value, JSON.stringify(value).slice(1, -1), ...value.split(/\r?\n/)];
  return out.map((s) => s.trim()).filter((s) => s.length >= MIN_LENGTH);
}

/** Replaces every occurrence of each secret value in `message` with {@link REDACTED}. */
export function redact(message: string, secrets: Iterable<string>): string {
  const all = [...new Set([...secrets].flatMap(needles))].sort((a, b) => b.length - a.length);
  let out = message;
  for (const s of all) out = out.split(s).join(REDACTED);
  return out;
}

/** The values of rendered Secrets: `stringData` as is, `data` both base64 and decoded. */
export function secretValues(objects: readonly JsonObject[]): string[] {
  const values: string[] = [];
  for (const o of objects) {
    if (o['kind'] !== 'Secret' || o['apiVersion'] !== 'v1') continue;
    for (const field of ['data', 'stringData'] as const) {
      const map = o[field];
      if (!map || typeof map !== 'object' || Array.isArray(map)) continue;
      for (const v of Object.values(map)) {
        if (typeof v !== 'string') continue;
        values.push(v);
        if (field === 'data') values.push(Buffer.from(v, 'base64').toString('utf8'));
      }
    }
  }
  return values;
}
