/**
 * Registry hosts as people and references write them (`localhost:5000`, `[::1]:5000`, `::1`,
 * `127.0.0.1`). The one loopback rule for the client (plain HTTP and no proxy), the registry
 * (listening without auth or TLS) and the extension (which registries are on this machine).
 */
import { isIP } from 'node:net';

/** `host:port` → `host`; `[::1]:5000` → `::1`; a bare IPv6 address stays whole. */
export function hostname(host: string): string {
  if (host.startsWith('[')) {
    const end = host.indexOf(']');
    return end > 0 ? host.slice(1, end) : host.slice(1);
  }
  const colon = host.lastIndexOf(':');
  return colon >= 0 && host.indexOf(':') === colon ? host.slice(0, colon) : host;
}

/** localhost (and *.localhost), 127.0.0.0/8, ::1, and IPv4 loopback mapped into IPv6. */
export function isLoopbackHost(host: string): boolean {
  const name = hostname(host.trim()).toLowerCase();
  if (name === 'localhost' || name.endsWith('.localhost')) return true;
  if (isIP(name) === 4) return name.startsWith('127.');
  if (isIP(name) === 6) {
    if (name === '::1' || name === '0:0:0:0:0:0:0:1') return true;
    const mapped = /^(?:0:0:0:0:0:|::)ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(name)?.[1];
    return mapped !== undefined && mapped.startsWith('127.');
  }
  return false;
}
