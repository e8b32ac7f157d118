/** The health (`/healthz`, `/readyz`) and metrics (`/metrics`) HTTP endpoints. */
import { createServer, type Server } from 'node:http';

/** Parses `host:port` / `:port` into listen arguments. */
export function parseAddr(addr: string): { host?: string; port: number } {
  const i = addr.lastIndexOf(':');
  const host = addr.slice(0, i).replace(/^\[|\]$/g, '') || undefined;
  return { host, port: Number(addr.slice(i + 1)) };
}

/** A route: [status, body], possibly computed asynchronously (a metrics scrape). */
export type Route = () => [number, string] | Promise<[number, string]>;

/** Serves `routes` (path → handler returning [status, body]) on `addr`; resolves with the bound port. */
export function serve(addr: string, routes: Record<string, Route>): Promise<{ server: Server; port: number }> {
  const server = createServer((req, res) => {
    const route = routes[(req.url ?? '/').split('?')[0]!];
    Promise.resolve(route ? route() : ([404, 'not found\n'] as [number, string])).then(
      ([status, body]) => {
        res.writeHead(status, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' });
        res.end(body);
      },
      (err: unknown) => {
        res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
        res.end(`${(err as Error).message}\n`);
      },
    );
  });
  const { host, port } = parseAddr(addr);
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      const a = server.address();
      resolve({ server, port: typeof a === 'object' && a ? a.port : port });
    });
  });
}
