/**
 * TLS with the certificate `berth-registry cert` writes: trusted through a CA file it works,
 * without it clients refuse. And the safe-by-default rule for listening addresses.
 */
import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { get } from 'node:https';
import { connect } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { REGISTRY_CLI } from '../../support/berthRegistry';
import { containerTools, dockerBuildScratch, ToolError, type ContainerTools } from '../../support/clients';
import { startDockerd, type Dockerd } from '../../support/dockerd';
import { outputMatching, removeDir, tempDir } from '../../support/proc';
import { buildImage, layerOf, tarArchive, writeOciLayout } from '../../support/ociImage';
import { registryCli, startTeamRegistry, type TeamRegistry } from './teamRegistry';

const run = promisify(execFile);

function httpsStatus(url: string, ca?: string): Promise<number> {
  return new Promise((resolve, reject) => {
    get(url, ca ? { ca } : {}, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    }).once('error', reject);
  });
}

describe('TLS with a generated certificate', function () {
  let dir: string;
  let reg: TeamRegistry;
  let tools: ContainerTools;
  let certDir: string;
  let printed: string;

  before(async function () {
    dir = tempDir('tls');
    printed = (await registryCli(['cert', '--host', 'registry.test', '--host', '127.0.0.1', '--out', dir])).stdout;
    reg = await startTeamRegistry({ config: { tls: { certificate: join(dir, 'registry.test.crt'), key: join(dir, 'registry.test.key') } } });
    certDir = join(dir, 'trust');
    mkdirSync(certDir);
    copyFileSync(join(dir, 'registry.test-ca.crt'), join(certDir, 'ca.crt'));
    tools = containerTools();
  });
  after(async function () {
    await reg?.stop();
    await tools?.cleanup();
    if (dir) removeDir(dir);
  });

  it('prints where the files are and how docker, podman and skopeo trust them', function () {
    assert.match(printed, /certificate: .*registry\.test\.crt/);
    assert.match(printed, /\/etc\/docker\/certs\.d\/registry\.test:PORT\/ca\.crt/);
    assert.match(printed, /--cert-dir/);
  });

  it('serves https and says so in its listening line', async function () {
    assert.match(reg.url, /^https:\/\/127\.0\.0\.1:\d+$/);
    assert.equal(await httpsStatus(`${reg.url}/v2/`, readFileSync(join(dir, 'registry.test-ca.crt'), 'utf8')), 200);
    await assert.rejects(httpsStatus(`${reg.url}/v2/`), /self[- ]signed|unable to verify/i);
  });

  it('skopeo copies and inspects with the CA in --cert-dir, and refuses without it', async function () {
    const layout = join(dir, 'oci');
    writeOciLayout(layout, buildImage({ layers: [layerOf(tarArchive({ 'hello.txt': 'over tls\n' }))], labels: { t: 'tls' } }), 'v1');
    await tools.skopeo(['copy', '--dest-cert-dir', certDir, `oci:${layout}:v1`, `docker://${reg.host}/tls/app:v1`]);
    const ok = await tools.skopeo(['inspect', '--raw', '--cert-dir', certDir, `docker://${reg.host}/tls/app:v1`]);
    assert.match(ok.stdout, /schemaVersion/);
    const refused = await tools.skopeo(['inspect', '--raw', `docker://${reg.host}/tls/app:v1`]).then(() => '', (e: ToolError) => e.message);
    assert.match(refused, /x509: certificate signed by unknown authority|certificate is not trusted/);
  });

  it('podman pulls with the CA in --cert-dir, and refuses without it', async function () {
    const refused = await tools.podman(['pull', `${reg.host}/tls/app:v1`]).then(() => '', (e: ToolError) => e.message);
    assert.match(refused, /x509: certificate signed by unknown authority|certificate is not trusted/);
    await tools.podman(['pull', '--cert-dir', certDir, `${reg.host}/tls/app:v1`]);
  });
});

describe('docker and a TLS registry on loopback', function () {
  let dir: string;
  let reg: TeamRegistry;
  let dockerd: Dockerd;
  before(async function () {
    dir = tempDir('tls-docker');
    await registryCli(['cert', '--host', 'registry.test', '--host', '127.0.0.1', '--out', dir]);
    reg = await startTeamRegistry({ config: { tls: { certificate: join(dir, 'registry.test.crt'), key: join(dir, 'registry.test.key') } } });
    dockerd = await startDockerd();
  });
  after(async function () {
    await dockerd?.stop();
    await reg?.stop();
    if (dir) removeDir(dir);
  });

  // dockerd reads CAs only from /etc/docker/certs.d/HOST:PORT (no flag or daemon.json key moves it for a
  // rootful daemon), and treats 127.0.0.0/8 as an insecure registry whatever certs.d holds: it speaks
  // TLS but skips verification there. So on loopback docker can show that it talks TLS to Berth, not
  // that it checks the certificate; skopeo and podman above prove the trust and the refusal.
  it('docker pushes over TLS to a loopback registry with no CA configured at all (it does not verify there)', async function () {
    await dockerBuildScratch(dockerd, `${reg.host}/tls/docker:v1`, { layers: 1, label: 'tls' });
    await dockerd.docker(['push', `${reg.host}/tls/docker:v1`]);
    await outputMatching(reg, /"path":"\/v2\/tls\/docker\/manifests\/v1","route":"manifests","status":201/);
  });
});

describe('TLS configuration errors', function () {
  it('refuses to start when the key is not the certificate\'s, naming tls.key', async function () {
    const dir = tempDir('tls-mismatch');
    try {
      await registryCli(['cert', '--host', 'one.test', '--out', dir]);
      await registryCli(['cert', '--host', 'two.test', '--out', dir]);
      writeFileSync(join(dir, 'config.yml'), `tls: {certificate: ${join(dir, 'one.test.crt')}, key: ${join(dir, 'two.test.key')}}\n`);
      const r = await run(process.execPath, [REGISTRY_CLI, 'serve', '--listen', '127.0.0.1:0', '--root', join(dir, 'data'), '--config', join(dir, 'config.yml')])
        .then(() => undefined, (e: { code: number; stderr: string }) => e);
      assert.ok(r, 'the server started');
      assert.equal(r.code, 2);
      assert.match(r.stderr, /config: tls\.key: .*two\.test\.key is not the private key of .*one\.test\.crt/);
    } finally {
      removeDir(dir);
    }
  });
});

describe('listening addresses', function () {
  it('refuses a non-loopback address without auth and TLS, and says what to do', async function () {
    const dir = tempDir('listen');
    try {
      const r = await run(process.execPath, [REGISTRY_CLI, 'serve', '--listen', '0.0.0.0:0', '--root', join(dir, 'data')]).then(() => undefined, (e: { code: number; stderr: string }) => e);
      assert.ok(r, 'the server started');
      assert.equal(r.code, 2);
      assert.match(r.stderr, /refusing to listen on 0\.0\.0\.0 without authentication .* and TLS .*--insecure/);
    } finally {
      removeDir(dir);
    }
  });
});

describe('TLS handshakes that never finish', function () {
  let dir: string;
  let reg: TeamRegistry;
  before(async function () {
    dir = tempDir('tls-stall');
    await registryCli(['cert', '--host', 'registry.test', '--host', '127.0.0.1', '--out', dir]);
    reg = await startTeamRegistry({ config: { tls: { certificate: join(dir, 'registry.test.crt'), key: join(dir, 'registry.test.key') }, limits: { headersTimeout: '2s' } } });
  });
  after(async function () {
    await reg?.stop();
    removeDir(dir);
  });

  it('closes a connection that stalls in its handshake once the header timeout has passed', async function () {
    // Five bytes of a TLS record header and nothing more: the handshake can never complete.
    const socket = connect(reg.port, '127.0.0.1');
    socket.on('error', () => undefined);
    socket.write(Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00]));
    const closed = await Promise.race([
      new Promise<boolean>((resolve) => socket.once('close', () => resolve(true))),
      // Far past the 2 s limit, far short of node's own 120 s handshake timeout.
      new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 60_000)),
    ]);
    socket.destroy();
    assert.equal(closed, true, 'the stalled handshake was still open after 60 s');
  });
});
