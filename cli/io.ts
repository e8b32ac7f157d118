/** Small I/O helpers for the CLI: read all of stdin, write without losing output on exit. */

/** Reads stdin to the end. */
export async function readStdin(): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Writes to a stream and resolves once the data is flushed. */
export function write(stream: NodeJS.WritableStream, text: string): Promise<void> {
  return new Promise((resolve, reject) => stream.write(text, (err) => (err ? reject(err) : resolve())));
}

/** An error the user caused, printed as `kclrun: <message>` with exit code 1 (no stack trace). */
export class UsageError extends Error {
  override name = 'UsageError';
}
