import * as assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import { join } from 'node:path';
import { RegistryClient, isRegistryError, type HostOptions } from '../../../src/client';
import { generateSelfSignedCert } from '../../../src/server/tls/cert';
import { startDistribution, type Distribution } from '../../support/distribution';
import { removeDir, tempDir } from '../../support/proc';

describe('registry client over TLS with a self-signed CA', () => {
  let dir: string;
  let registry: Distribution;
  let caFile: string;

  before(async () => {
    dir = tempDir('tls');
    // A server certificate naming 127.0.0.1 and registry.test, and the CA that signed it (reached through a proxy below).
    const cert = await generateSelfSignedCert({ hosts: ['registry.test', '127.0.0.1', 'localhost'] });
    caFile = join(dir, 'ca.crt');
    const keyFile = join(dir, 'server.key');
    writeFileSync(caFile, cert.caPem);
    writeFileSync(join(dir, 'server.crt'), cert.certPem);
    writeFileSync(keyFile, cert.keyPem);
    registry = await startDistribution({ config: { http: { tls: { certificate: join(dir, 'server.crt'), key: keyFile } } } });
  });
  after(async () => {
    await registry?.stop();
    if (dir) removeDir(dir);
  });

  const check = async (options: HostOptions | undefined): Promise<unknown> => {
    const client = new RegistryClient({ hostOptions: (host) => (host === registry.host ? options : undefined), retry: { maxRetries: 0 } });
    try {
      return await client.registry(registry.host).checkCredentials();
    } finally {
      client.close();
    }
  };

  it('trusts the registry through its CA file', async () => {
    assert.deepEqual(await check({ caFile }), { registry: registry.host, auth: 'anonymous', signedIn: false, apiVersion: 'registry/2.0' });
  });

  it('refuses the registry without the CA, saying how to trust it', async () => {
    await assert.rejects(check(undefined), (e) => isRegistryError(e, 'tls') && /add its CA file/.test(e.message));
    await assert.rejects(check({ scheme: 'https' }), (e) => isRegistryError(e, 'tls'));
  });

  it('accepts the registry with skip-verification', async () => {
    assert.equal(((await check({ skipTlsVerify: true })) as { auth: string }).auth, 'anonymous');
  });

  it('says which CA file it could not read', async () => {
    await assert.rejects(check({ caFile: join(dir, 'missing.crt') }), (e) => isRegistryError(e, 'tls') && /missing\.crt/.test(e.message));
  });

  it('goes through HTTPS_PROXY with CONNECT and verifies the registry behind it', async () => {
    const connects: string[] = [];
    // A CONNECT proxy that knows registry.test as the TLS registry: the client never resolves the name itself.
    const proxy = http.createServer();
    proxy.on('connect', (req: http.IncomingMessage, socket: net.Socket, head: Buffer) => {
      connects.push(req.url ?? '');
      const upstream = net.connect(registry.port, '127.0.0.1', () => {
        socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
        upstream.write(head);
        upstream.pipe(socket);
        socket.pipe(upstream);
      });
      upstream.on('error', () => socket.destroy());
      socket.on('error', () => upstream.destroy());
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    const address = proxy.address() as net.AddressInfo;
    const host = `registry.test:${registry.port}`;
    const client = new RegistryClient({
      env: { HTTPS_PROXY: `http://127.0.0.1:${address.port}`, NO_PROXY: 'example.com' },
      hostOptions: (h) => (h === host ? { caFile } : undefined), retry: { maxRetries: 0 },
    });
    try {
      const result = await client.registry(host).checkCredentials();
      assert.equal(result.auth, 'anonymous');
      assert.deepEqual(connects, [host]);
    } finally {
      client.close();
      proxy.closeAllConnections();
      await new Promise<void>((resolve) => proxy.close(() => resolve()));
    }
  });
});
