/**
 * A plain HTTP proxy on 127.0.0.1 in front of a real registry that records every request it passes
 * on, so a test can count what the registry received (`GET /v2/app/manifests/1.0`).
 */
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SeenRequest {
  method: string;
  /** Path and query, as sent. */
  path: string;
}

export interface CountingProxy {
  /** `127.0.0.1:PORT`: use it as the registry's host. */
  host: string;
  requests: SeenRequest[];
  /** How many requests matched `method` and `path` (a regex on path and query). */
  count(method: string, path: RegExp): number;
  stop(): Promise<void>;
}

export async function startCountingProxy(targetUrl: string): Promise<CountingProxy> {
  const target = new URL(targetUrl);
  const requests: SeenRequest[] = [];
  const server: Server = createServer((req, res) => {
    const path = req.url ?? '/';
    requests.push({ method: req.method ?? 'GET', path });
    const upstream = request(
      { hostname: target.hostname, port: target.port, method: req.method, path, headers: { ...req.headers, host: target.host } },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
    );
    upstream.on('error', (err) => {
      if (!res.headersSent) res.writeHead(502, { 'Content-Type': 'text/plain' });
      res.end(String(err));
    });
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    host: `127.0.0.1:${port}`,
    requests,
    count: (method, path) => requests.filter((r) => r.method === method && path.test(r.path)).length,
    stop: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
