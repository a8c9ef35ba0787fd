/**
 * Safe by default: the registry listens on loopback unless told otherwise, and any other
 * address needs authentication and TLS, or an explicit --insecure that is repeated on every start.
 */
import { isLoopbackHost } from '../../oci/host';

export { isLoopbackHost };

export interface ListenSafetyInput {
  host: string;
  authEnabled: boolean;
  tlsEnabled: boolean;
  insecure: boolean;
}

export type ListenSafety = { ok: true; warning?: string } | { ok: false; error: string };

export function checkListenSafety(i: ListenSafetyInput): ListenSafety {
  if (isLoopbackHost(i.host)) return { ok: true };
  const missing = [i.authEnabled ? undefined : 'authentication (auth.htpasswd)', i.tlsEnabled ? undefined : 'TLS (tls.certificate and tls.key)']
    .filter((x): x is string => x !== undefined);
  if (missing.length === 0) return { ok: true };
  if (i.insecure) {
    return { ok: true, warning: `WARNING: listening on ${i.host} without ${missing.join(' and ')} because of --insecure: anyone who can reach this address can ${i.authEnabled ? 'read the traffic, passwords included' : 'push, pull and delete images'}.` };
  }
  return { ok: false, error: `refusing to listen on ${i.host} without ${missing.join(' and ')}: configure them, listen on 127.0.0.1, or pass --insecure to accept the risk` };
}
