/** The server's log: one JSON object per line on stderr (stdout carries only the `listening on` line). */
import type { LogLevel } from './config';
import type { RequestLogHook, RequestRecord } from './hooks';

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export type LogFn = (level: LogLevel, message: string, fields?: Record<string, unknown>) => void;

export function createLogger(minLevel: LogLevel, write: (line: string) => void = (l) => process.stderr.write(l)): LogFn {
  return (level, message, fields = {}) => {
    if (RANK[level] < RANK[minLevel]) return;
    write(JSON.stringify({ time: new Date().toISOString(), level, msg: message, ...fields }) + '\n');
  };
}

/** One line per request. Records carry no headers or queries, so no credentials reach the log. */
export function requestLogger(log: LogFn): RequestLogHook {
  return {
    log(r: RequestRecord) {
      const level: LogLevel = r.status >= 500 ? 'error' : 'info';
      log(level, 'request', {
        id: r.id, method: r.method, path: r.path, route: r.route, status: r.status, durationMs: Math.round(r.durationMs * 10) / 10,
        bytesIn: r.bytesIn, bytesOut: r.bytesOut, remoteAddr: r.remoteAddr, userAgent: r.userAgent,
        ...(r.user ? { user: r.user } : {}), ...(r.errorCode ? { error: r.errorCode } : {}),
      });
    },
  };
}
