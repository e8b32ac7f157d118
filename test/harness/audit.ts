/**
 * The API server's audit log, for tests that must know who wrote what and when by the server's clock: every
 * create/update/patch/delete is logged at Metadata level (user, verb, object, timestamps in microseconds), written
 * before the response is sent (`--audit-log-mode=blocking`).
 *
 * ```ts
 * const audit = auditLog();
 * const cp = useControlPlane(test, { apiServerArgs: audit.apiServerArgs });
 * test.after.always(() => audit.remove());
 * … (await audit.writes()).filter((w) => w.user === 'replica-a')
 * ```
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const POLICY = `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
- level: Metadata
  verbs: [create, update, patch, delete, deletecollection]
- level: None
`;

/** One write as the API server saw it. */
export interface AuditedWrite {
  user: string;
  verb: string;
  /** `resource[/subresource]`, e.g. `kclruns/status`. */
  resource: string;
  namespace?: string;
  name?: string;
  /** HTTP status of the response. */
  code: number;
  /** Server time the request arrived, in epoch milliseconds (fractional). */
  receivedMs: number;
  /** Server time the response was complete, in epoch milliseconds (fractional). */
  completedMs: number;
}

/** An audit log for one control plane. */
export interface AuditLog {
  /** Flags for kube-apiserver (`ControlPlaneCfg.apiServerArgs`). */
  readonly apiServerArgs: readonly string[];
  /** Every write logged so far, in log order. */
  writes(): Promise<AuditedWrite[]>;
  /** Removes the policy and the log. */
  remove(): void;
}

interface AuditEvent {
  stage: string;
  verb: string;
  user: { username: string };
  objectRef?: { resource?: string; subresource?: string; namespace?: string; name?: string };
  responseStatus?: { code?: number };
  requestReceivedTimestamp: string;
  stageTimestamp: string;
}

/** RFC 3339 with microseconds → epoch milliseconds, keeping the microseconds as a fraction. */
function micros(ts: string): number {
  const m = /^(.*T\d\d:\d\d:\d\d)(?:\.(\d+))?Z$/.exec(ts);
  if (!m) throw new Error(`audit log: unexpected timestamp ${ts}`);
  return Date.parse(`${m[1]}Z`) + Number(`0.${m[2] ?? '0'}`) * 1000;
}

/** Creates the policy in a new temp dir; the API server writes the log next to it. */
export function auditLog(): AuditLog {
  const dir = mkdtempSync(join(tmpdir(), 'kclrun-audit-'));
  const policy = join(dir, 'policy.yaml');
  const log = join(dir, 'audit.log');
  writeFileSync(policy, POLICY);
  return {
    apiServerArgs: [`--audit-policy-file=${policy}`, `--audit-log-path=${log}`, '--audit-log-mode=blocking', '--audit-log-maxsize=0'],
    async writes() {
      const text = await readFile(log, 'utf8').catch((err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT') return '';
        throw err;
      });
      // The last piece is '' or a line still being written.
      return text
        .split('\n')
        .slice(0, -1)
        .map((l) => JSON.parse(l) as AuditEvent)
        .filter((e) => e.stage === 'ResponseComplete')
        .map((e) => ({
          user: e.user.username,
          verb: e.verb,
          resource: `${e.objectRef?.resource ?? ''}${e.objectRef?.subresource ? `/${e.objectRef.subresource}` : ''}`,
          namespace: e.objectRef?.namespace,
          name: e.objectRef?.name,
          code: e.responseStatus?.code ?? 0,
          receivedMs: micros(e.requestReceivedTimestamp),
          completedMs: micros(e.stageTimestamp),
        }));
    },
    remove() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
