/**
 * Exec credential plugins (client.authentication.k8s.io v1 and v1beta1, as client-go runs them): the command runs
 * with the kubeconfig's `args` and `env` added to the controller's environment, and KUBERNETES_EXEC_INFO holding an
 * ExecCredential whose `spec.interactive` is false (the controller has no terminal; `interactiveMode: Always` fails).
 * It prints an ExecCredential of the same apiVersion whose `status` holds a bearer `token` or a PEM
 * `clientCertificateData`/`clientKeyData` pair, and optionally `expirationTimestamp`. The credential is reused until
 * that time, or — without one — until the API server answers 401 (the caller then calls {@link ExecCredentialCache.invalidate}).
 */
import { execFile } from 'node:child_process';
import { isJsonObject } from '../../krm/index.js';
import type { ClusterConfig, ExecConfig } from './kubeconfig.js';

/** A plugin run longer than this is killed. */
export const EXEC_TIMEOUT_MS = 60_000;
/** A plugin printing more than this is killed (a credential is a few KiB). */
export const EXEC_MAX_OUTPUT_BYTES = 1024 * 1024;

/** What a plugin returned. */
export interface ExecCredential {
  token?: string;
  /** PEM client certificate and key. */
  cert?: string;
  key?: string;
  /** Milliseconds since the epoch; undefined = until a 401. */
  expiresAt?: number;
}

/** The plugin failed to run, or printed no usable ExecCredential. */
export class ExecCredentialError extends Error {
  constructor(
    readonly command: string,
    why: string,
  ) {
    super(`exec plugin '${command}': ${why}`);
    this.name = 'ExecCredentialError';
  }
}

/** The KUBERNETES_EXEC_INFO value. */
function execInfo(exec: ExecConfig, cluster: ClusterConfig, caPem: Buffer | undefined): string {
  const spec: Record<string, unknown> = { interactive: false };
  if (exec.provideClusterInfo) {
    spec['cluster'] = {
      server: cluster.server,
      ...(cluster.tlsServerName ? { 'tls-server-name': cluster.tlsServerName } : {}),
      ...(cluster.insecureSkipTlsVerify ? { 'insecure-skip-tls-verify': true } : {}),
      ...(caPem ? { 'certificate-authority-data': caPem.toString('base64') } : {}),
      ...(cluster.proxyUrl ? { 'proxy-url': cluster.proxyUrl } : {}),
    };
  }
  return JSON.stringify({ apiVersion: exec.apiVersion, kind: 'ExecCredential', spec });
}

/** Parses the plugin's stdout. The message never quotes it (it holds the credential). */
export function parseExecCredential(stdout: string, exec: ExecConfig): ExecCredential {
  const fail = (why: string) => new ExecCredentialError(exec.command, why);
  let obj: unknown;
  try {
    obj = JSON.parse(stdout);
  } catch {
    throw fail('did not print a JSON ExecCredential');
  }
  const o = isJsonObject(obj) ? obj : {};
  if (o.kind !== 'ExecCredential') throw fail('did not print an ExecCredential');
  if (o.apiVersion !== exec.apiVersion) throw fail(`printed apiVersion ${JSON.stringify(String(o.apiVersion)).slice(0, 80)}, expected ${exec.apiVersion}`);
  const status = isJsonObject(o.status) ? o.status : {};
  const str = (k: string) => (typeof status[k] === 'string' && status[k] !== '' ? (status[k] as string) : undefined);
  const token = str('token');
  const cert = str('clientCertificateData');
  const key = str('clientKeyData');
  if (!cert !== !key) throw fail('status must hold both clientCertificateData and clientKeyData, or neither');
  if (!token && !cert) throw fail('status holds neither a token nor a client certificate');
  let expiresAt: number | undefined;
  const exp = str('expirationTimestamp');
  if (exp !== undefined) {
    expiresAt = Date.parse(exp);
    if (Number.isNaN(expiresAt)) throw fail('status.expirationTimestamp is not an RFC 3339 time');
  }
  return { token, cert, key, expiresAt };
}

/** Runs the plugin once. */
export function runExecPlugin(exec: ExecConfig, cluster: ClusterConfig, caPem?: Buffer): Promise<ExecCredential> {
  if (exec.interactiveMode === 'Always') {
    return Promise.reject(new ExecCredentialError(exec.command, 'interactiveMode is Always, but the controller has no terminal'));
  }
  const env: NodeJS.ProcessEnv = { ...process.env, KUBERNETES_EXEC_INFO: execInfo(exec, cluster, caPem) };
  for (const { name, value } of exec.env) env[name] = value;
  return new Promise((resolve, reject) => {
    execFile(
      exec.command,
      [...exec.args],
      { env, timeout: EXEC_TIMEOUT_MS, maxBuffer: EXEC_MAX_OUTPUT_BYTES, windowsHide: true },
      (err, stdout, stderr) => {
        if (err) {
          const e = err as NodeJS.ErrnoException & { killed?: boolean; code?: number | string };
          const why = e.killed
            ? `killed (no answer within ${EXEC_TIMEOUT_MS / 1000}s or more than ${EXEC_MAX_OUTPUT_BYTES} bytes of output)`
            : typeof e.code === 'string'
              ? `cannot run (${e.code})`
              : `exited with ${String(e.code)}${stderr.trim() ? `: ${stderr.trim().slice(0, 300)}` : ''}`;
          reject(new ExecCredentialError(exec.command, why));
          return;
        }
        try {
          resolve(parseExecCredential(stdout, exec));
        } catch (parseErr) {
          reject(parseErr);
        }
      },
    );
  });
}

/** One plugin's current credential: run once, reused until it expires or is invalidated; concurrent callers share a run. */
export class ExecCredentialCache {
  #current: Promise<ExecCredential> | undefined;
  #runs = 0;

  constructor(
    readonly exec: ExecConfig,
    readonly cluster: ClusterConfig,
  ) {}

  /** How many times the plugin ran. */
  get runs(): number {
    return this.#runs;
  }

  /** The current credential, running the plugin when there is none, it expired, or the last run failed. */
  async get(caPem?: Buffer): Promise<ExecCredential> {
    const current = this.#current;
    if (current) {
      const cred = await current.catch(() => undefined);
      if (cred && (cred.expiresAt === undefined || cred.expiresAt > Date.now())) return cred;
      if (this.#current === current) this.#current = undefined;
    }
    if (!this.#current) {
      this.#runs++;
      const run = runExecPlugin(this.exec, this.cluster, caPem);
      run.catch(() => {
        if (this.#current === run) this.#current = undefined;
      });
      this.#current = run;
    }
    return this.#current;
  }

  /** Drops the credential (the API server answered 401): the next request runs the plugin again. */
  invalidate(): void {
    this.#current = undefined;
  }
}
