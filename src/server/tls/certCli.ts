/** `berth-registry cert --host NAME [--out DIR] [--days N]`: writes a self-signed certificate and key, and says how to trust it. */
import { resolve } from 'node:path';

export const CERT_USAGE = `  berth-registry cert --host NAME [--host NAME2] [--out DIR] [--days N] [--port PORT]
      Writes NAME.crt and NAME.key (a server certificate: CA:false, serverAuth, valid for the --host
      names only; add --host 127.0.0.1 or --host localhost if clients use those) and NAME-ca.crt, the
      one-off CA that signed it (its key is not kept), into DIR (default: the current folder); prints
      how to trust NAME-ca.crt for docker, podman and skopeo. Never overwrites a file or follows a
      symlink at these paths. Use them with  tls: { certificate: DIR/NAME.crt, key: DIR/NAME.key }.
`;

export class CertCommandError extends Error {}

export async function runCertCommand(argv: string[], out: (line: string) => void): Promise<void> {
  const hosts: string[] = [];
  let dir = '.';
  let days = 365;
  let port: number | undefined;
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i] as string;
    const value = argv[i + 1];
    if (!['--host', '--out', '--days', '--port'].includes(flag)) throw new CertCommandError(`unknown argument "${flag}" for cert`);
    if (value === undefined || value === '') throw new CertCommandError(`${flag} needs a value`);
    i++;
    if (flag === '--host') {
      if (!/^[A-Za-z0-9.:-]+$/.test(value)) throw new CertCommandError(`--host "${value}" is not a host name or IP address`);
      hosts.push(value);
    } else if (flag === '--out') dir = value;
    else if (flag === '--days') {
      days = Number(value);
      if (!Number.isInteger(days) || days < 1 || days > 3650) throw new CertCommandError('--days must be a whole number from 1 to 3650');
    } else {
      port = Number(value);
      if (!Number.isInteger(port) || port < 1 || port > 65535) throw new CertCommandError('--port must be a port number');
    }
  }
  if (hosts.length === 0) throw new CertCommandError('--host NAME is required: the name clients use to reach the registry');
  // The X.509 library (and its reflect-metadata runtime) costs ~17 MiB and hundreds of ms to load:
  // only the cert command pays for it, never `serve`.
  const { CertFileError, trustInstructions, writeSelfSignedCert } = await import('./cert.js');
  let written: Awaited<ReturnType<typeof writeSelfSignedCert>>;
  try {
    written = await writeSelfSignedCert(resolve(dir), { hosts, validDays: days });
  } catch (e) {
    if (e instanceof CertFileError) throw new CertCommandError(e.message);
    throw e;
  }
  out(`certificate: ${written.certPath}`);
  out(`key:         ${written.keyPath} (keep it private)`);
  out(`CA:          ${written.caPath} (install on clients as ca.crt)`);
  out(`sha256:      ${written.fingerprint}`);
  out('');
  out(`Serve with:  tls: { certificate: ${written.certPath}, key: ${written.keyPath} }`);
  out('');
  out(trustInstructions(hosts[0] as string, port, written.caPath));
}
