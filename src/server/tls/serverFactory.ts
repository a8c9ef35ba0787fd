/**
 * The registry's node server: plain HTTP or HTTPS from certificate and key files, with the
 * limits' timeouts applied. The `tls:` section:
 *
 *   tls: { certificate: /etc/berth/registry.crt, key: /etc/berth/registry.key }
 */
import { readFileSync } from 'node:fs';
import { createServer as createHttpServer, type RequestListener, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { ConfigValueError, optString, readSection } from '../limits/configValues';
import { applyServerTimeouts, type Limits } from '../limits/limits';

export interface TlsConfig {
  certificatePath: string;
  keyPath: string;
  certificatePem: string;
  keyPem: string;
  validTo: Date;
}

/** A line for the log when the certificate has expired or soon will, else undefined. */
export function expiryWarning(tls: TlsConfig, now: Date, soonDays = 30): string | undefined {
  const daysLeft = Math.floor((tls.validTo.getTime() - now.getTime()) / 86_400_000);
  if (daysLeft < 0) return `the TLS certificate ${tls.certificatePath} expired on ${tls.validTo.toISOString().slice(0, 10)}; clients will refuse it (berth-registry cert writes a new one)`;
  if (daysLeft < soonDays) return `the TLS certificate ${tls.certificatePath} expires in ${daysLeft} days (${tls.validTo.toISOString().slice(0, 10)})`;
  return undefined;
}

export function readTlsConfig(section: unknown, path = 'tls'): TlsConfig | undefined {
  if (section === undefined || section === null) return undefined;
  const s = readSection(section, path, ['certificate', 'key']);
  const certificatePath = optString(s, 'certificate', path);
  const keyPath = optString(s, 'key', path);
  if (!certificatePath) throw new ConfigValueError(`${path}.certificate`, 'is required (a PEM file; `berth-registry cert --host NAME` writes one)');
  if (!keyPath) throw new ConfigValueError(`${path}.key`, 'is required (the PEM private key of the certificate)');
  const read = (file: string, key: string): string => {
    try {
      return readFileSync(file, 'utf8');
    } catch (e) {
      throw new ConfigValueError(`${path}.${key}`, `cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
    }
  };
  const certificatePem = read(certificatePath, 'certificate');
  const keyPem = read(keyPath, 'key');
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(certificatePem);
  } catch {
    throw new ConfigValueError(`${path}.certificate`, `${certificatePath} is not a PEM certificate`);
  }
  let key: KeyObject;
  try {
    key = createPrivateKey(keyPem);
  } catch {
    throw new ConfigValueError(`${path}.key`, `${keyPath} is not a PEM private key`);
  }
  if (!cert.checkPrivateKey(key)) throw new ConfigValueError(`${path}.key`, `${keyPath} is not the private key of ${certificatePath}`);
  return { certificatePath, keyPath, certificatePem, keyPem, validTo: new Date(cert.validTo) };
}

// Node checks header and request deadlines on this interval (30 s by default), which would let
// a slow client keep its headers open far beyond headersTimeout.
const CONNECTION_CHECK_MS = 1000;

export function createRegistryServer(listener: RequestListener, limits: Limits, tls: TlsConfig | undefined): Server {
  const common = { connectionsCheckingInterval: CONNECTION_CHECK_MS, headersTimeout: limits.headersTimeoutMs, requestTimeout: 0, keepAliveTimeout: limits.keepAliveTimeoutMs };
  const server: Server = tls
    // The handshake shares the header deadline: a client that stalls mid-handshake holds a socket no longer than one that stalls in its headers.
    ? (createHttpsServer({ ...common, cert: tls.certificatePem, key: tls.keyPem, minVersion: 'TLSv1.2', handshakeTimeout: limits.headersTimeoutMs }, listener) as unknown as Server)
    : createHttpServer(common, listener);
  applyServerTimeouts(server, limits);
  return server;
}
