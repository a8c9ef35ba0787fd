/**
 * The registry's certificate (`berth-registry cert --host NAME`), built with @peculiar/x509 on
 * node's WebCrypto. The served certificate is a leaf (CA:false, serverAuth, SAN = the named hosts
 * only), signed by a one-off CA whose key is thrown away after signing: clients trust the CA file,
 * and no one, not even a thief of the registry's key, can sign another certificate with it.
 */
import { webcrypto } from 'node:crypto';
import { isIP } from 'node:net';
import { closeSync, constants, lstatSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
// @peculiar/x509 resolves its ASN.1 classes through tsyringe, which needs the Reflect metadata API first.
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';

export interface GeneratedCert {
  certPem: string;
  /** The CA that signed `certPem`; its key is not kept. Clients install this as `ca.crt`. */
  caPem: string;
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

function pemKey(pkcs8: ArrayBuffer): string {
  return `-----BEGIN PRIVATE KEY-----\n${Buffer.from(pkcs8).toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '')}\n-----END PRIVATE KEY-----\n`;
}

export async function generateSelfSignedCert(opts: CertOptions): Promise<GeneratedCert> {
  const crypto = webcrypto as unknown as X509Crypto;
  const hosts = [...new Set(opts.hosts)];
  if (hosts.length === 0) throw new Error('a certificate needs at least one host name');
  const serial = (): string => Buffer.from(crypto.getRandomValues(new Uint8Array(16))).toString('hex').replace(/^[89a-f]/, '1');
  const now = opts.now ?? new Date();
  const notBefore = new Date(now.getTime() - 60_000);
  const notAfter = new Date(now.getTime() + (opts.validDays ?? 365) * 86_400_000);
  const primary = (hosts[0] as string).replace(/[,=+<>#;"\\]/g, '');
  const caKeys = (await crypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify'])) as X509KeyPair;
  const ca = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(), name: `CN=Berth registry CA for ${primary}, O=Berth registry`, notBefore, notAfter, signingAlgorithm: ALGORITHM, keys: caKeys,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(caKeys.publicKey, false, crypto),
    ],
  }, crypto);
  const keys = (await crypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify'])) as X509KeyPair;
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial(), subject: `CN=${primary}, O=Berth registry`, issuer: ca.subject, notBefore, notAfter,
    signingAlgorithm: ALGORITHM, publicKey: keys.publicKey, signingKey: caKeys.privateKey,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension(hosts.map((h) => (isIP(h) ? { type: 'ip' as const, value: h } : { type: 'dns' as const, value: h }))),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey, false, crypto),
      await x509.AuthorityKeyIdentifierExtension.create(caKeys.publicKey, false, crypto),
    ],
  }, crypto);
  const keyPem = pemKey(await crypto.subtle.exportKey('pkcs8', keys.privateKey));
  const thumb = Buffer.from(await cert.getThumbprint('SHA-256', crypto)).toString('hex').toUpperCase();
  return { certPem: `${cert.toString('pem')}\n`, caPem: `${ca.toString('pem')}\n`, keyPem, fingerprint: thumb.replace(/(..)(?!$)/g, '$1:') };
}

/** A file `cert` will not write: it exists already, or is a symlink someone planted. */
export class CertFileError extends Error {}

/**
 * Creates `path` with `mode`, never following a symlink and never replacing a file: a link planted
 * at the key's path must not send the private key somewhere else.
 */
function writeNewFile(path: string, data: string, mode: number): void {
  let fd: number;
  try {
    fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, mode);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    let link = false;
    try {
      link = lstatSync(path).isSymbolicLink();
    } catch {
      // Gone again: report the open's own error below.
    }
    if (link) throw new CertFileError(`${path} is a symbolic link; refusing to write through it (remove it, or choose another --out folder)`);
    if (code === 'EEXIST') throw new CertFileError(`${path} already exists; remove it or choose another --out folder (cert never overwrites a key or certificate)`);
    throw new CertFileError(`cannot create ${path}: ${(e as Error).message}`);
  }
  try {
    writeSync(fd, data);
  } finally {
    closeSync(fd);
  }
}

export interface WrittenCert extends GeneratedCert {
  certPath: string;
  keyPath: string;
  caPath: string;
}

/** Writes `<host>.crt`, `<host>.key` (0600) and `<host>-ca.crt` into `dir`, refusing existing files and symlinks. */
export async function writeSelfSignedCert(dir: string, opts: CertOptions): Promise<WrittenCert> {
  const generated = await generateSelfSignedCert(opts);
  mkdirSync(dir, { recursive: true });
  const base = (opts.hosts[0] ?? 'localhost').replace(/[^A-Za-z0-9._-]/g, '_');
  const certPath = join(dir, `${base}.crt`);
  const keyPath = join(dir, `${base}.key`);
  const caPath = join(dir, `${base}-ca.crt`);
  // The key first: if its path is refused, no certificate without a key is left behind.
  writeNewFile(keyPath, generated.keyPem, 0o600);
  writeNewFile(certPath, generated.certPem, 0o644);
  writeNewFile(caPath, generated.caPem, 0o644);
  return { ...generated, certPath, keyPath, caPath };
}

/** How to make docker, podman and skopeo trust the certificate, printed by `berth-registry cert`. */
export function trustInstructions(host: string, port: number | undefined, certPath: string): string {
  const hostPort = port ? `${host}:${port}` : `${host}:PORT`;
  return [
    `Trust the CA ${certPath} on each client machine (it signed only this registry's certificate; its key was`,
    `not kept). Replace PORT with the port the registry listens on:`,
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
