/**
 * A loopback TCP proxy that delays every chunk the client sends by a fixed time (so every HTTP request, TLS or not,
 * arrives at least that much later) and counts them. Stands in for a slow or distant API server.
 */
import { createConnection, createServer, type Socket } from "node:net";

/** A running {@link startSlowProxy}. */
export interface SlowProxy {
  /** Port on 127.0.0.1 to connect to instead of the target. */
  readonly port: number;
  /** Client→server chunks forwarded so far (every request is at least one). */
  readonly chunks: number;
  /** Connections accepted so far. */
  readonly connections: number;
  /** Closes the listener and every open connection. */
  close(): Promise<void>;
}

/** Proxies 127.0.0.1:<port> to `target` (host:port), delaying client data by `delayMs`, order kept per connection. */
export async function startSlowProxy(target: { host: string; port: number }, delayMs: number): Promise<SlowProxy> {
  const sockets = new Set<Socket>();
  let chunks = 0;
  let connections = 0;
  const server = createServer((client) => {
    connections++;
    const upstream = createConnection(target);
    sockets.add(client).add(upstream);
    let queue = Promise.resolve();
    client.on("data", (data: Buffer) => {
      chunks++;
      queue = queue.then(() => new Promise<void>((r) => setTimeout(r, delayMs))).then(() => {
        if (!upstream.destroyed) upstream.write(data);
      });
    });
    upstream.pipe(client);
    const end = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on("close", () => void queue.then(end));
    client.on("error", end);
    upstream.on("close", end);
    upstream.on("error", end);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  const addr = server.address();
  const port = typeof addr === "object" && addr ? addr.port : 0;
  return {
    port,
    get chunks() {
      return chunks;
    },
    get connections() {
      return connections;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
