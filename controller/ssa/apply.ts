/**
 * Server-side apply of one object (fluxcd/pkg/ssa `Apply`): GET (or the stage's LIST), skip rules, dry-run apply, drift
 * check, apply; on immutable-field errors with force, delete, wait for termination and re-create. The dry-run round is
 * paid only where it can tell something: an object that does not exist yet, or one where a desired value differs from
 * the live one, is applied at once (the apply validates the same; its resourceVersion tells whether it changed).
 *
 * Before the dry-run, fields set by kubectl or `before-first-apply` are taken over (`managers.ts`) unless the object
 * is annotated `…/ssa: Merge`, so what the KCL does not render is removed.
 */
import {
  DISABLED,
  ENABLED,
  FORCE_ANNOTATION,
  RECONCILE_ANNOTATION,
  SSA_ANNOTATION,
  SSA_IF_NOT_PRESENT,
  SSA_IGNORE,
  SSA_MERGE,
} from '../api/group.js';
import { takeOverManagedFields } from './managers.js';
import type { KubeClient, KubeResult } from '../kube/client.js';
import { refOf } from '../kube/client.js';
import { hasDrifted, setsOnlyLiveValues } from './diff.js';
import { changeSetEntry, subjectOf } from './inventory.js';
import { asObject, metadataValue, sleep, withLabels } from './meta.js';
import type { ApplyOptions, ChangeSetEntry, FailedObject, JsonObject, ObjectRef } from './types.js';
import { waitForTermination } from './wait.js';
import type { LiveLookup } from './live.js';

/** Outcome of applying one object. */
export type ObjectOutcome = { ok: true; entry: ChangeSetEntry } | ({ ok: false } & FailedObject);

/** Extra knobs of {@link applyObject}. */
export interface ApplyObjectOptions extends ApplyOptions {
  /**
   * Kinds (`apiVersion|kind`) whose CRD is part of this apply: a mapping miss for them is retried for a while,
   * since discovery can lag a freshly established CRD.
   */
  pendingKinds?: ReadonlySet<string>;
  /** The live objects a stage's LISTs already read (`live.ts`); objects it does not cover are read with a GET. */
  known?: LiveLookup;
}

const IMMUTABLE = /is\simmutable|immutable\sfield/i;

/** True for errors kubectl and Flux treat as immutable-field errors (409, 422, or the message says so). */
export function isImmutableError(res: { status: number; message: string }): boolean {
  return res.status === 409 || res.status === 422 || IMMUTABLE.test(res.message);
}

function fail(ref: ObjectRef, message: string, status?: number): ObjectOutcome {
  return status ? { ok: false, ref, status, message } : { ok: false, ref, message };
}

/** Skip rules: `reconcile: disabled` / `ssa: Ignore` on the desired or the live object; `ssa: IfNotPresent` when it exists. */
export function shouldSkip(desired: JsonObject, live: JsonObject | undefined): boolean {
  const excluded = (o: JsonObject | undefined): boolean =>
    metadataValue(o, RECONCILE_ANNOTATION) === DISABLED || metadataValue(o, SSA_ANNOTATION) === SSA_IGNORE;
  if (excluded(desired)) return true;
  if (live && excluded(live)) return true;
  return live !== undefined && metadataValue(desired, SSA_ANNOTATION) === SSA_IF_NOT_PRESENT;
}

async function resolveMapping(client: KubeClient, ref: ObjectRef, opts: ApplyObjectOptions) {
  const pending = opts.pendingKinds?.has(`${ref.apiVersion}|${ref.kind}`) ?? false;
  const deadline = Date.now() + (pending ? Math.min(opts.waitTimeoutMs ?? 60_000, 30_000) : 0);
  for (;;) {
    const mr = await client.resolveMapping(ref.apiVersion, ref.kind);
    if (!mr.ok || mr.mapping || Date.now() >= deadline) return mr;
    if (!(await sleep(250, opts.signal))) return mr;
  }
}

/** Applies one object; never throws for API errors. */
export async function applyObject(client: KubeClient, obj: JsonObject, opts: ApplyObjectOptions): Promise<ObjectOutcome> {
  const ref = refOf(obj);
  if (!ref.apiVersion || !ref.kind || !ref.name) return fail(ref, `object without apiVersion, kind or metadata.name: ${subjectOf(ref)}`);
  const mr = await resolveMapping(client, ref, opts);
  if (!mr.ok) return fail(ref, `${subjectOf(ref)}: ${mr.message}`, mr.status);
  if (!mr.mapping) {
    return fail(ref, `${subjectOf(ref)}: no matches for kind "${ref.kind}" in version "${ref.apiVersion}" (is its CustomResourceDefinition installed?)`);
  }
  const desired = withLabels(obj, opts.ownerLabels);
  if (mr.mapping.namespaced && !ref.namespace) return fail(ref, `${subjectOf(ref)}: namespace not specified`);
  if (!mr.mapping.namespaced && ref.namespace) {
    delete ref.namespace;
    delete (asObject(desired['metadata']) ?? {})['namespace'];
  }
  const subject = subjectOf(ref);

  let live: JsonObject | undefined;
  const listed = opts.known?.(ref);
  if (listed) live = listed.live;
  else {
    const got = await client.get(ref, { signal: opts.signal });
    if (!got.ok && got.status !== 404) return fail(ref, `${subject} query failed: ${got.message}`, got.status);
    live = got.ok ? got.body : undefined;
  }
  if (shouldSkip(desired, live)) return { ok: true, entry: changeSetEntry(ref, 'skipped') };
  // A new object: no drift to detect, so no dry-run round (one PATCH, as the floor pays).
  if (!live) return applied(ref, await client.apply(desired, { fieldManager: opts.fieldManager, force: true, signal: opts.signal }), 'created');
  let tookOver = false;
  if (live && metadataValue(desired, SSA_ANNOTATION) !== SSA_MERGE) {
    const takeover = await takeOverFields(client, ref, live, opts);
    if (takeover !== 'none' && takeover !== 'taken') return takeover;
    tookOver = takeover === 'taken';
  }
  const force = () => opts.force === true || metadataValue(desired, FORCE_ANNOTATION) === ENABLED;
  // A desired value the live object does not hold: the dry-run could only say "configured", so apply at once (one
  // PATCH instead of two). Whether it changed anything is read from the resourceVersion (a no-op apply keeps it).
  if (!tookOver && !setsOnlyLiveValues(desired, live)) {
    const res = await client.apply(desired, { fieldManager: opts.fieldManager, force: true, signal: opts.signal });
    if (!res.ok && force() && isImmutableError(res)) return recreate(client, ref, desired, opts);
    return applied(ref, res, resourceVersion(res.ok ? res.body : undefined) === resourceVersion(live) ? 'unchanged' : 'configured');
  }

  const dry = await client.apply(desired, { fieldManager: opts.fieldManager, force: true, dryRun: true, signal: opts.signal });
  if (!dry.ok) {
    if (live && force() && isImmutableError(dry)) return recreate(client, ref, desired, opts);
    return fail(ref, `${subject} dry-run failed (${dry.reason}): ${dry.message}`, dry.status);
  }
  if (live && !hasDrifted(live, dry.body)) return { ok: true, entry: changeSetEntry(ref, 'unchanged') };
  const res = await client.apply(desired, { fieldManager: opts.fieldManager, force: true, signal: opts.signal });
  return applied(ref, res, live ? 'configured' : 'created');
}

/**
 * Hands kubectl's fields on `live` to our field manager (JSON patch guarded by resourceVersion): 'taken', 'none' (no
 * field to take), or the failure outcome.
 */
async function takeOverFields(client: KubeClient, ref: ObjectRef, live: JsonObject, opts: ApplyObjectOptions): Promise<ObjectOutcome | 'taken' | 'none'> {
  const managedFields = takeOverManagedFields(live, opts.fieldManager, new Date(), opts.overrideManagers);
  if (!managedFields) return 'none';
  const m = await client.mapping(ref.apiVersion, ref.kind);
  if (!m) return 'none';
  const rv = asObject(live['metadata'])?.['resourceVersion'];
  const res = await client.request(
    'PATCH',
    client.objectPath(m, ref.namespace, ref.name),
    {
      contentType: 'application/json-patch+json',
      body: [
        { op: 'test', path: '/metadata/resourceVersion', value: rv },
        { op: 'replace', path: '/metadata/managedFields', value: managedFields },
      ],
      signal: opts.signal,
    },
  );
  if (!res.ok) return fail(ref, `${subjectOf(ref)} managed fields takeover failed (${res.reason}): ${res.message}`, res.status);
  return 'taken';
}

function resourceVersion(obj: JsonObject | undefined): unknown {
  return asObject(obj?.['metadata'])?.['resourceVersion'];
}

function applied(ref: ObjectRef, res: KubeResult<JsonObject>, action: 'created' | 'configured' | 'unchanged'): ObjectOutcome {
  if (!res.ok) return fail(ref, `${subjectOf(ref)} apply failed (${res.reason}): ${res.message}`, res.status);
  return { ok: true, entry: changeSetEntry(ref, action) };
}

async function recreate(client: KubeClient, ref: ObjectRef, desired: JsonObject, opts: ApplyObjectOptions): Promise<ObjectOutcome> {
  const del = await client.delete(ref, { propagationPolicy: 'Background', signal: opts.signal });
  if (!del.ok && del.status !== 404) return fail(ref, `${subjectOf(ref)} delete for re-create failed: ${del.message}`, del.status);
  const gone = await waitForTermination(client, ref, { timeoutMs: opts.waitTimeoutMs ?? 60_000, signal: opts.signal });
  if (!gone.ok) return fail(ref, gone.message);
  const res = await client.apply(desired, { fieldManager: opts.fieldManager, force: true, signal: opts.signal });
  return applied(ref, res, 'created');
}
