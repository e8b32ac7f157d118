/**
 * How the typed engine API (engine.ts) reaches the engine: one function from a `KclService` method name and its
 * protobuf arguments to the protobuf reply. In-process (native.ts, koffi: the CLI and fn-level tests) or in an
 * engine worker (fn/worker/: the controller, the CLI without its crash guard). No native code here.
 */

/** Calls `KclService.<method>` (e.g. `ExecProgram`); rejects with EngineCallError for an `ERROR:` reply. */
export type EngineCall = (method: string, args: Uint8Array) => Promise<Buffer>;

/** The engine answered `ERROR:<message>` (parse and compile errors, unknown methods, malformed arguments). */
export class EngineCallError extends Error {
  override name = 'EngineCallError';
  constructor(
    readonly method: string,
    readonly detail: string,
  ) {
    super(detail);
  }
}

const ERROR_PREFIX = 'ERROR:';

/** The engine's reply to `method`, or EngineCallError when it is an `ERROR:` reply. */
export function engineReply(method: string, bytes: Buffer): Buffer {
  if (bytes.subarray(0, ERROR_PREFIX.length).toString('latin1') === ERROR_PREFIX) {
    throw new EngineCallError(method, bytes.subarray(ERROR_PREFIX.length).toString('utf8'));
  }
  return bytes;
}

/** The `ERROR:` reply carrying `detail` (an engine worker passes an EngineCallError on as the engine would). */
export function errorReply(detail: string): Buffer {
  return Buffer.from(ERROR_PREFIX + detail, 'utf8');
}

/** The full service method name the engine's C API takes. */
export function serviceMethod(method: string): string {
  return `KclService.${method}`;
}
