/**
 * A self-signed certificate for the registry (`berth-registry cert --host NAME`), built with
 * @peculiar/x509 on node's WebCrypto. It is its own CA (CA:true) so clients can trust it by
 * installing the certificate itself as `ca.crt`, and it names the host and loopback in its SAN.
 */
import { webcrypto } from 'node:crypto';
import { isIP } from 'node:net';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
// @peculiar/x509 resolves its ASN.1 classes through tsyringe, which needs the Reflect metadata API first.
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';

export interface GeneratedCert {
  certPem: string;
  keyPem: string;
  /** SHA-256 fingerprint, colon-separated hex, for the user to compare. */
  fingerprint: string;
}

export interface CertOptions {
  hosts: string[];
  validDays?: number;
  now?: Date;
}

const ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;

// The WebCrypto types as @peculiar/x509 declares them (this project's lib has no DOM types).
type X509Crypto = NonNullable<Parameters<typeof x509.X509CertificateGenerator.createSelfSigned>[1]>;
type X509KeyPair = Parameters<typeof x509.X509CertificateGenerator.createSelfSigned>[0]['keys'];

export async function generateSelfSignedCert(opts: CertOptions): Promise<GeneratedCert> {
  const crypto = webcrypto as unknown as X509Crypto;
  const hosts = [...new Set([...opts.hosts, '127.0.0.1', 'localhost'])];
  const keys = (await crypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify'])) as X509KeyPair;
  const now = opts.now ?? new Date();
  const notAfter = new Date(now.getTime() + (opts.validDays ?? 365) * 86_400_000);
  const primary = opts.hosts[0] ?? 'localhost';
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: Buffer.from(crypto.getRandomValues(new Uint8Array(16))).toString('hex').replace(/^[89a-f]/, '1'),
    name: `CN=${primary.replace(/[,=+<>#;"\\]/g, '')}, O=Berth registry`,
    notBefore: new Date(now.getTime() - 60_000),
    notAfter,
    signingAlgorithm: ALGORITHM,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyCertSign, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension(hosts.map((h) => (isIP(h) ? { type: 'ip' as const, value: h } : { type: 'dns' as const, value: h }))),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey, false, crypto),
    ],
  }, crypto);
  const pkcs8 = Buffer.from(await crypto.subtle.exportKey('pkcs8', keys.privateKey));
  const keyPem = `-----BEGIN PRIVATE KEY-----\n${pkcs8.toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '')}\n-----END PRIVATE KEY-----\n`;
  const thumb = Buffer.from(await cert.getThumbprint('SHA-256', crypto)).toString('hex').toUpperCase();
  return { certPem: `${cert.toString('pem')}\n`, keyPem, fingerprint: thumb.replace(/(..)(?!$)/g, '$1:') };
}

export interface WrittenCert extends GeneratedCert {
  certPath: string;
  keyPath: string;
}

/** Writes `<host>.crt` and `<host>.key` (0600) into `dir`. */
export async function writeSelfSignedCert(dir: string, opts: CertOptions): Promise<WrittenCert> {
  const generated = await generateSelfSignedCert(opts);
  mkdirSync(dir, { recursive: true });
  const base = (opts.hosts[0] ?? 'localhost').replace(/[^A-Za-z0-9._-]/g, '_');
  const certPath = join(dir, `${base}.crt`);
  const keyPath = join(dir, `${base}.key`);
  writeFileSync(certPath, generated.certPem);
  writeFileSync(keyPath, generated.keyPem, { mode: 0o600 });
  chmodSync(keyPath, 0o600);
  return { ...generated, certPath, keyPath };
}

/** How to make docker, podman and skopeo trust the certificate, printed by `berth-registry cert`. */
export function trustInstructions(host: string, port: number | undefined, certPath: string): string {
  const hostPort = port ? `${host}:${port}` : `${host}:PORT`;
  return [
    `Trust this certificate on each client machine (replace PORT with the port the registry listens on):`,
    ``,
    `  docker:   sudo mkdir -p /etc/docker/certs.d/${hostPort}`,
    `            sudo cp ${certPath} /etc/docker/certs.d/${hostPort}/ca.crt`,
    `            (no restart needed; on Docker Desktop add it to the OS trust store instead)`,
    `  podman, skopeo, buildah (containers/image):`,
    `            sudo mkdir -p /etc/containers/certs.d/${hostPort}`,
    `            sudo cp ${certPath} /etc/containers/certs.d/${hostPort}/ca.crt`,
    `            or per user: ~/.config/containers/certs.d/${hostPort}/ca.crt`,
    `            or per command: --cert-dir DIR (skopeo: --src-cert-dir/--dest-cert-dir) with DIR holding ca.crt`,
    `  containerd: put ca.crt under /etc/containerd/certs.d/${hostPort}/ and reference it from hosts.toml`,
  ].join('\n');
}
