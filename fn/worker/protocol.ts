/**
 * The frames between the engine pool (parent) and an engine worker (the native host scripts/engine-host.c, or the
 * Node fallback entry.ts), over the worker's stdin and stdout. One call at a time per worker, answered in order.
 *
 * A frame is a u32 little-endian payload length, then the payload. Worker → parent, first: a hello (its kind byte,
 * then: nothing | the Landlock ABI as u32 | why there is no sandbox | why the engine cannot be loaded, UTF-8). Then
 * per call, parent → worker: `cwd NUL method NUL argument-bytes`; worker → parent: a kind byte, then the engine's
 * reply bytes (an `ERROR:` reply included) or why the worker could not make the call.
 */
import type { SandboxPolicy, SandboxStatus } from './sandbox-policy.js';

/** The first frame a worker sends. Kept in step with HELLO_* in scripts/engine-host.c. */
export const enum Hello {
  /** The engine is loaded; no sandbox was asked for. */
  Ready = 0,
  Sandboxed = 1,
  /** The engine is loaded; the kernel has no Landlock (the reason follows). */
  Unsandboxed = 2,
  /** The engine cannot be loaded (the message follows); the worker exits. */
  Unavailable = 3,
}

/** The kind of a reply frame. Kept in step with REPLY_* in scripts/engine-host.c. */
export const enum Reply {
  Engine = 0,
  Failed = 1,
}

/** What a hello says. */
export type HelloMessage = { ready: true; sandbox?: SandboxStatus } | { ready: false; message: string };

/** What a reply says. */
export type ReplyMessage = { ok: true; bytes: Buffer } | { ok: false; message: string };

/** A frame of `kind` carrying `body`. */
export function frame(kind: number, body: Uint8Array | string = ''): Buffer {
  const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  const head = Buffer.alloc(5);
  head.writeUInt32LE(bytes.length + 1, 0);
  head[4] = kind;
  return Buffer.concat([head, bytes]);
}

/** A call frame (parent → worker). */
export function requestFrame(cwd: string, method: string, args: Uint8Array): Buffer {
  const head = Buffer.from(`\0\0\0\0${cwd}\0${method}\0`, 'utf8');
  head.writeUInt32LE(head.length - 4 + args.length, 0);
  return Buffer.concat([head, args]);
}

/** A call frame's payload, read (the Node worker). Undefined when malformed. */
export function parseRequest(payload: Buffer): { cwd: string; method: string; args: Buffer } | undefined {
  const a = payload.indexOf(0);
  const b = a < 0 ? -1 : payload.indexOf(0, a + 1);
  if (b < 0) return undefined;
  return { cwd: payload.toString('utf8', 0, a), method: payload.toString('utf8', a + 1, b), args: payload.subarray(b + 1) };
}

/** A hello frame (the Node worker). */
export function helloFrame(hello: HelloMessage): Buffer {
  if (!hello.ready) return frame(Hello.Unavailable, hello.message);
  const s = hello.sandbox;
  if (!s) return frame(Hello.Ready);
  if (!s.applied) return frame(Hello.Unsandboxed, s.reason);
  const abi = Buffer.alloc(4);
  abi.writeUInt32LE(s.abi);
  return frame(Hello.Sandboxed, abi);
}

/** A hello frame's payload, read (the pool). */
export function parseHello(payload: Buffer): HelloMessage {
  const rest = payload.subarray(1);
  switch (payload[0]) {
    case Hello.Ready:
      return { ready: true };
    case Hello.Sandboxed:
      return { ready: true, sandbox: { applied: true, abi: rest.readUInt32LE(0) } };
    case Hello.Unsandboxed:
      return { ready: true, sandbox: { applied: false, reason: rest.toString('utf8') } };
    default:
      return { ready: false, message: rest.toString('utf8') };
  }
}

/** A reply frame's payload, read (the pool). */
export function parseReply(payload: Buffer): ReplyMessage {
  const rest = payload.subarray(1);
  return payload[0] === Reply.Engine ? { ok: true, bytes: rest } : { ok: false, message: rest.toString('utf8') };
}

/** Splits a byte stream into frame payloads. A frame's chunks are joined once, when it is whole. */
export class FrameReader {
  #buffered: Buffer[] = [];
  #length = 0;

  /** Adds `chunk`; returns the payloads completed by it. */
  push(chunk: Buffer): Buffer[] {
    this.#buffered.push(chunk);
    this.#length += chunk.length;
    const out: Buffer[] = [];
    while (this.#length >= 4) {
      if (this.#buffered[0]!.length < 4) this.#buffered = [Buffer.concat(this.#buffered)];
      const size = this.#buffered[0]!.readUInt32LE(0);
      if (this.#length < 4 + size) break;
      const all = this.#buffered.length === 1 ? this.#buffered[0]! : Buffer.concat(this.#buffered);
      out.push(all.subarray(4, 4 + size));
      const rest = all.subarray(4 + size);
      this.#buffered = rest.length ? [rest] : [];
      this.#length = rest.length;
    }
    return out;
  }
}

/** The native host's arguments that apply `policy` (before `--engine`, or `--exec` and a command). */
export function sandboxArgs(policy: SandboxPolicy): string[] {
  return ['--sandbox', ...policy.readOnly.flatMap((p) => ['--ro', p]), ...policy.readWrite.flatMap((p) => ['--rw', p])];
}

/** The command-line arguments of a worker (the native host's, which the Node worker takes too). */
export function workerArgs(libraryPath: string, sandbox?: SandboxPolicy): string[] {
  return [...(sandbox ? sandboxArgs(sandbox) : []), '--engine', libraryPath];
}

/** The command-line arguments of a worker, read (the Node worker). */
export function parseWorkerArgs(argv: readonly string[]): { libraryPath: string; sandbox?: SandboxPolicy } {
  const sandbox: SandboxPolicy = { readOnly: [], readWrite: [] };
  let sandboxed = false;
  let libraryPath = '';
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--sandbox') sandboxed = true;
    else if (a === '--ro') sandbox.readOnly.push(argv[++i]!);
    else if (a === '--rw') sandbox.readWrite.push(argv[++i]!);
    else if (a === '--engine') libraryPath = argv[++i]!;
  }
  return { libraryPath, ...(sandboxed && { sandbox }) };
}
