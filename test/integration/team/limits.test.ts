/**
 * Limits and observability on a real server: slow clients cut off while others are served,
 * upload concurrency and size limits with clear errors, /healthz, and /metrics counting what
 * the test did.
 */
import { strict as assert } from 'node:assert';
import { rmSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { digestOf } from '../../../src/oci/digest';
import { checkStorageWritable } from '../../../src/server/metrics/health';
import { FsDriver } from '../../../src/server/storage';
import { pushBlob } from '../../support/ociImage';
import { outputMatching, removeDir, tempDir, waitFor } from '../../support/proc';
import { errorCode, startTeamRegistry, type TeamRegistry } from './teamRegistry';

/** A raw connection that records when the server closes it. */
function rawClient(reg: TeamRegistry): Promise<{ socket: Socket; closedByServer: () => boolean }> {
  return new Promise((resolve, reject) => {
    let closed = false;
    const socket = connect(reg.port, '127.0.0.1', () => resolve({ socket, closedByServer: () => closed }));
    socket.on('data', () => undefined);
    socket.once('close', () => (closed = true));
    socket.once('error', reject);
  });
}

describe('slow clients and upload limits', function () {
  let reg: TeamRegistry;
  before(async function () {
    reg = await startTeamRegistry({ config: { limits: { idleTimeout: '1s', headersTimeout: '2s', maxConcurrentUploads: 1, maxBlobSize: '4KiB' } } });
  });
  after(async function () {
    await reg?.stop();
  });

  it('cuts off a client that stops sending its headers, while other clients are served', async function () {
    const slow = await rawClient(reg);
    slow.socket.write('GET /v2/ HTTP/1.1\r\nHost: slow\r\n');
    for (let i = 0; i < 3; i++) assert.equal((await fetch(`${reg.url}/v2/`)).status, 200);
    await waitFor('the server to close the slow connection', async () => (slow.closedByServer() ? true : undefined), 15_000, 100);
  });

  it('cuts off a client that stops sending its body (idle timeout), while other clients are served', async function () {
    const start = await fetch(`${reg.url}/v2/slow/app/blobs/uploads/`, { method: 'POST' });
    const location = new URL(start.headers.get('location') ?? '', reg.url);
    const slow = await rawClient(reg);
    slow.socket.write(`PATCH ${location.pathname}${location.search} HTTP/1.1\r\nHost: slow\r\nContent-Type: application/octet-stream\r\nContent-Length: 1000\r\n\r\nonly a few bytes`);
    assert.equal((await fetch(`${reg.url}/v2/_catalog`)).status, 200);
    await waitFor('the server to close the idle upload', async () => (slow.closedByServer() ? true : undefined), 15_000, 100);
    assert.equal((await fetch(`${reg.url}/v2/`)).status, 200);
  });

  it('answers 429 TOOMANYREQUESTS with Retry-After when every upload slot is taken, and frees the slot after', async function () {
    const open = await fetch(`${reg.url}/v2/busy/app/blobs/uploads/`, { method: 'POST' });
    const location = new URL(open.headers.get('location') ?? '', reg.url);
    const holder = await rawClient(reg);
    holder.socket.write(`PATCH ${location.pathname}${location.search} HTTP/1.1\r\nHost: h\r\nContent-Type: application/octet-stream\r\nContent-Length: 3\r\n\r\na`);
    // The body stays incomplete (2 of 3 bytes missing) and holds the only slot until the idle timeout.
    try {
      await waitFor('the first upload to hold the slot', async () => (/^berth_uploads_in_flight 1$/m.test(await (await fetch(`${reg.url}/metrics`)).text()) ? true : undefined), 10_000, 50);
      const second = await fetch(`${reg.url}/v2/busy/other/blobs/uploads/?digest=${digestOf('x')}`, { method: 'POST', body: 'x', headers: { 'Content-Type': 'application/octet-stream' } });
      assert.equal(second.status, 429);
      assert.equal(second.headers.get('retry-after'), '1');
      assert.equal(await errorCode(second), 'TOOMANYREQUESTS');
    } finally {
      holder.socket.end('bc');
    }
    await waitFor('the slot to be free', async () => (/^berth_uploads_in_flight 0$/m.test(await (await fetch(`${reg.url}/metrics`)).text()) ? true : undefined), 10_000, 100);
    assert.equal(await pushBlob(reg.url, 'busy/other', Buffer.from('x'), 'single-post'), digestOf('x'));
  });

  it('refuses a blob over the size limit with 413 and names the setting', async function () {
    const big = Buffer.alloc(5000, 1);
    const res = await fetch(`${reg.url}/v2/big/app/blobs/uploads/?digest=${digestOf(big)}`, { method: 'POST', body: big, headers: { 'Content-Type': 'application/octet-stream' } });
    assert.equal(res.status, 413);
    const body = (await res.json()) as { errors: Array<{ code: string; message: string }> };
    assert.equal(body.errors[0]?.code, 'SIZE_INVALID');
    assert.match(body.errors[0]?.message ?? '', /limits\.maxBlobSize/);
    const small = Buffer.alloc(4000, 2);
    assert.equal(await pushBlob(reg.url, 'big/app', small, 'chunked'), digestOf(small));
  });
});

describe('health and metrics', function () {
  let reg: TeamRegistry;
  before(async function () {
    reg = await startTeamRegistry();
  });
  after(async function () {
    await reg?.stop();
  });

  it('reports healthy storage on /healthz', async function () {
    const res = await fetch(`${reg.url}/healthz`);
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { status: 'ok', checks: { storage: { ok: true } } });
  });

  it('finds storage unwritable when the root cannot hold files', async function () {
    const dir = tempDir('health');
    try {
      writeFileSync(join(dir, 'not-a-folder'), '');
      const r = await checkStorageWritable(new FsDriver(join(dir, 'not-a-folder')));
      assert.equal(r.ok, false);
      assert.match(r.error ?? '', /ENOTDIR|EEXIST/);
    } finally {
      removeDir(dir);
    }
  });

  it('counts the requests, statuses and bytes this test made', async function () {
    for (let i = 0; i < 3; i++) assert.equal((await fetch(`${reg.url}/v2/`)).status, 200);
    for (let i = 0; i < 2; i++) assert.equal((await fetch(`${reg.url}/v2/metrics/app/manifests/missing`)).status, 404);
    const blob = Buffer.alloc(100_000, 7);
    await pushBlob(reg.url, 'metrics/app', blob, 'post-put');
    const res = await fetch(`${reg.url}/metrics`);
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    const sample = (name: string, labels: string): number => Number(new RegExp(`^${name}\\{${labels}\\} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
    assert.equal(sample('berth_http_requests_total', 'method="GET",route="base",status="200"'), 3);
    assert.equal(sample('berth_http_requests_total', 'method="GET",route="manifests",status="404"'), 2);
    assert.equal(sample('berth_http_requests_total', 'method="PUT",route="blobs.upload",status="201"'), 1);
    assert.ok(sample('berth_http_received_bytes_total', 'route="blobs.upload"') >= blob.length, 'the blob bytes are counted in');
    assert.equal(sample('berth_http_request_duration_seconds_count', 'route="base"'), 3);
    assert.match(text, /^berth_uploads_in_flight 0$/m);
    await outputMatching(reg, /"msg":"request".*"route":"blobs\.upload","status":201/);
  });
});

describe('health of a registry whose storage stops being writable', function () {
  let reg: TeamRegistry;
  before(async function () {
    reg = await startTeamRegistry();
  });
  after(async function () {
    await reg?.stop();
  });

  it('answers /healthz with 503 and names the failing check', async function () {
    assert.equal((await fetch(`${reg.url}/healthz`)).status, 200);
    // The probe writes under <root>/.berth; a plain file there makes every write fail.
    const probeDir = join(reg.root, '.berth');
    rmSync(probeDir, { recursive: true, force: true });
    writeFileSync(probeDir, 'not a folder');
    const res = await fetch(`${reg.url}/healthz`);
    assert.equal(res.status, 503);
    const body = (await res.json()) as { status: string; checks: { storage: { ok: boolean; error?: string } } };
    assert.equal(body.status, 'unhealthy');
    assert.equal(body.checks.storage.ok, false);
    assert.match(body.checks.storage.error ?? '', /ENOTDIR|EEXIST/);
  });
});
