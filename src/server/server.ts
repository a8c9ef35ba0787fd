/**
 * The node:http adapter around the handler: listen, and shut down gracefully (stop accepting,
 * let requests in flight finish for up to `graceMs`, then cut what is left).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ListenAddress } from './config';
import type { ServerHooks } from './hooks';
import type { RegistryHandler } from './handler';

export interface RunningServer {
  /** `http://HOST:PORT` as bound (port 0 resolved). */
  url: string;
  host: string;
  port: number;
  server: Server;
  /** Graceful: stops accepting, waits for requests in flight up to `graceMs`, then closes the rest. */
  close(graceMs?: number): Promise<void>;
}

export const SHUTDOWN_GRACE_MS = 5_000;

export async function startServer(listen: ListenAddress, handler: RegistryHandler, hooks: Pick<ServerHooks, 'serverFactory'>): Promise<RunningServer> {
  let inFlight = 0;
  let drained: (() => void) | undefined;
  const listener = (req: IncomingMessage, res: ServerResponse): void => {
    inFlight++;
    let counted = true;
    const done = (): void => {
      if (!counted) return;
      counted = false;
      inFlight--;
      if (inFlight === 0) drained?.();
    };
    res.once('close', done);
    void handler.handle(req, res);
  };
  const scheme = hooks.serverFactory?.scheme ?? 'http';
  const server = hooks.serverFactory ? hooks.serverFactory.create(listener) : createServer(listener);
  // Large layers on slow links take long; the per-request timeout would cut them off.
  // A server factory applies its own timeouts (limits: header, idle, keep-alive).
  if (!hooks.serverFactory) {
    server.requestTimeout = 0;
    server.headersTimeout = 60_000;
    server.keepAliveTimeout = 5_000;
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(listen.port, listen.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address() as AddressInfo;
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  let closing: Promise<void> | undefined;
  return {
    url: `${scheme}://${host}:${addr.port}`,
    host,
    port: addr.port,
    server,
    close(graceMs = SHUTDOWN_GRACE_MS) {
      closing ??= (async () => {
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        if (inFlight > 0) {
          await Promise.race([
            new Promise<void>((resolve) => { drained = resolve; }),
            new Promise<void>((resolve) => setTimeout(resolve, graceMs).unref()),
          ]);
        }
        server.closeAllConnections();
        await closed;
      })();
      return closing;
    },
  };
}
