/**
 * A stalled store: Berth on the real Ceph gateway through a TCP proxy that can freeze its connections
 * (stop forwarding bytes either way without closing them), as a gateway under load, a dropped NAT
 * entry or a half-open connection does. A push whose part upload freezes mid-body is retried on a new
 * connection and completes; a stall that persists answers the push with a JSON error in bounded time
 * while the registry keeps serving, and pushes work again once the store moves.
 */
import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import { get, type IncomingMessage } from 'node:http';
import { createServer, connect, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { digestOf } from '../../../src/oci/digest';
import type { S3Config } from '../../../src/server/storage/s3Config';
import { freshBucket, startBerthOnS3 } from '../../support/ceph';
import type { BerthRegistry } from '../../support/berthRegistry';
import { sleep } from '../../support/proc';

const MiB = 1024 * 1024;
/** Short, so that a frozen connection is given up on quickly; long enough for the gateway to store a part on a loaded machine. */
const IDLE_TIMEOUT_MS = 4_000;
/** What the test waits for any answer before calling the request hung: many idle timeouts and retries. */
const HANG_BOUND_MS = 120_000;

/** One connection through the proxy: the client's side, the gateway's side, and what is held while frozen. */
interface Pipe {
  client: Socket;
  upstream: Socket;
  frozen: boolean;
  /** The request line of the request the client is sending, and its bytes so far. */
  requestLine: string;
  requestBytes: number;
}

interface StallProxy {
  /** `http://127.0.0.1:PORT`: the S3 endpoint to give Berth. */
  endpoint: string;
  /**
   * Freezes the connection that has sent more than `afterBytes` of a PUT (a part or object upload) to the
   * gateway; `persist` freezes every connection from then on, open or new, until `release`.
   */
  freezeOnPut(afterBytes: number, persist: boolean): void;
  /** The request line frozen mid-request since the last `freezeOnPut`. */
  frozenRequests: string[];
  /** Forwards again: held connections resume, new ones pass. */
  release(): void;
  stop(): Promise<void>;
}

const REQUEST_LINE = /^([A-Z]+) (\S+) HTTP\/1\.1\r\n/;

async function startStallProxy(target: string): Promise<StallProxy> {
  const { hostname, port } = new URL(target);
  const pipes = new Set<Pipe>();
  let trigger: { afterBytes: number; persist: boolean } | undefined;
  let stallAll = false;
  const frozenRequests: string[] = [];

  const freeze = (p: Pipe): void => {
    p.frozen = true;
    // Unread bytes stay in the kernel: the sender's window closes, as on a stalled path.
    p.client.pause();
    p.upstream.pause();
  };
  const forward = (p: Pipe, from: Socket, to: Socket, chunk: Buffer): void => {
    if (!to.write(chunk)) {
      from.pause();
      to.once('drain', () => {
        if (!p.frozen) from.resume();
      });
    }
  };

  const server: Server = createServer((client) => {
    const upstream = connect(Number(port), hostname);
    const p: Pipe = { client, upstream, frozen: false, requestLine: '', requestBytes: 0 };
    pipes.add(p);
    if (stallAll) freeze(p);
    const close = (): void => {
      pipes.delete(p);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', close).on('close', close);
    upstream.on('error', close).on('close', close);
    client.on('data', (chunk: Buffer) => {
      const line = REQUEST_LINE.exec(chunk.subarray(0, 2048).toString('latin1'));
      if (line) {
        p.requestLine = `${line[1]} ${line[2]}`;
        p.requestBytes = 0;
      }
      p.requestBytes += chunk.length;
      if (trigger && p.requestLine.startsWith('PUT ') && p.requestBytes > trigger.afterBytes) {
        frozenRequests.push(p.requestLine);
        stallAll = trigger.persist;
        trigger = undefined;
        if (stallAll) for (const other of pipes) freeze(other);
        // The chunk that crossed the mark is held back too: nothing more of the body arrives.
        freeze(p);
        p.client.once('resume', () => forward(p, client, upstream, chunk));
        return;
      }
      forward(p, client, upstream, chunk);
    });
    upstream.on('data', (chunk: Buffer) => forward(p, upstream, client, chunk));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    frozenRequests,
    freezeOnPut(afterBytes, persist) {
      frozenRequests.length = 0;
      trigger = { afterBytes, persist };
    },
    release() {
      stallAll = false;
      trigger = undefined;
      for (const p of pipes) {
        if (!p.frozen) continue;
        p.frozen = false;
        p.client.resume();
        p.upstream.resume();
      }
    },
    stop: () => new Promise<void>((resolve) => {
      for (const p of pipes) {
        p.client.destroy();
        p.upstream.destroy();
      }
      server.close(() => resolve());
    }),
  };
}

interface Answer {
  status: number;
  contentType: string;
  body: Buffer;
}

/** A request with a bound: a hang fails the test with `what` instead of waiting forever. */
async function send(url: string, what: string, init: RequestInit = {}): Promise<Answer> {
  let res: Response;
  try {
    res = await fetch(url, { ...init, signal: AbortSignal.timeout(HANG_BOUND_MS) });
    return { status: res.status, contentType: res.headers.get('content-type') ?? '', body: Buffer.from(await res.arrayBuffer()) };
  } catch (e) {
    if ((e as Error).name === 'TimeoutError') assert.fail(`${what} hung: no answer in ${HANG_BOUND_MS / 1000} s`);
    throw e;
  }
}

function pushBlob(reg: BerthRegistry, repo: string, blob: Buffer): Promise<Answer> {
  return send(`${reg.url}/v2/${repo}/blobs/uploads/?digest=${digestOf(blob)}`, `the push of ${blob.length} bytes`, {
    method: 'POST', body: blob, headers: { 'Content-Type': 'application/octet-stream' },
  });
}

async function assertReadsBack(reg: BerthRegistry, repo: string, blob: Buffer): Promise<void> {
  const got = await send(`${reg.url}/v2/${repo}/blobs/${digestOf(blob)}`, 'the blob read');
  assert.equal(got.status, 200);
  assert.equal(got.body.length, blob.length);
  assert.equal(digestOf(got.body), digestOf(blob));
}

/**
 * Reads a blob as a slow client does: `stepBytes`, then nothing for `pauseMs`, and so on for `pauses` times,
 * then the rest at once. Returns the bytes read and whether the body ended whole or was cut.
 */
async function slowPull(reg: BerthRegistry, repo: string, digest: string, step: { bytes: number; pauseMs: number; pauses: number }): Promise<{ bytes: Buffer; cut: boolean }> {
  const res = await new Promise<IncomingMessage>((resolve, reject) => get(`${reg.url}/v2/${repo}/blobs/${digest}`, resolve).on('error', reject));
  assert.equal(res.statusCode, 200);
  const chunks: Buffer[] = [];
  let sinceBreak = 0;
  let pauses = 0;
  try {
    for await (const chunk of res) {
      chunks.push(chunk as Buffer);
      sinceBreak += (chunk as Buffer).length;
      if (sinceBreak >= step.bytes && pauses < step.pauses) {
        sinceBreak = 0;
        pauses++;
        await sleep(step.pauseMs);
      }
    }
    return { bytes: Buffer.concat(chunks), cut: false };
  } catch {
    return { bytes: Buffer.concat(chunks), cut: true };
  }
}

describe('Berth on an S3 store that stalls', function () {
  let proxy: StallProxy;
  let reg: BerthRegistry;
  before(async function () {
    const s3: S3Config = await freshBucket();
    proxy = await startStallProxy(s3.endpoint ?? '');
    // The registry's own idle timeout longer than the test's bound: a request hung on the store shows as a
    // hang, not as the client connection closed for idling, and only the store's timeout can cut a pull.
    reg = await startBerthOnS3({ ...s3, endpoint: proxy.endpoint, connectTimeoutMs: 2_000, idleTimeoutMs: IDLE_TIMEOUT_MS },
      { config: { limits: { idleTimeout: '10m' } } });
  });
  after(async function () {
    await reg?.stop();
    await proxy?.stop();
  });
  afterEach(function () {
    proxy?.release();
  });

  it('retries a part upload frozen mid-body on a new connection, and the push completes with the blob whole', async function () {
    // Under chunkSize + 5 MiB: the whole body is read, then stored in one request to the gateway.
    const blob = randomBytes(8 * MiB);
    proxy.freezeOnPut(1 * MiB, false);
    const pushed = await pushBlob(reg, 'stall/retried', blob);
    assert.equal(pushed.status, 201, pushed.body.toString());
    assert.equal(proxy.frozenRequests.length, 1, 'one upload to the gateway was frozen mid-body');
    assert.match(proxy.frozenRequests[0] ?? '', /^PUT \//);
    await assertReadsBack(reg, 'stall/retried', blob);
  });

  it('answers a push with a JSON 503 in bounded time while the store stays stalled, keeps serving, and takes the push once the store moves', async function () {
    const blob = randomBytes(8 * MiB);
    proxy.freezeOnPut(1 * MiB, true);
    const failed = await pushBlob(reg, 'stall/persistent', blob);
    // 503, not 500: the store is unavailable, the registry is fine, and clients retry a 503.
    assert.equal(failed.status, 503, failed.body.toString());
    assert.match(failed.contentType, /^application\/json/);
    const errors = (JSON.parse(failed.body.toString()) as { errors: { code: string; message: string }[] }).errors;
    assert.equal(errors[0]?.code, 'UNSUPPORTED');
    assert.match(errors[0]?.message ?? '', /storage \(s3:\/\/.*\) did not answer in time \(storage\.s3\.connectTimeout, storage\.s3\.idleTimeout\); try again/);
    assert.equal(proxy.frozenRequests.length, 1);

    // Still stalled: requests that need no store are answered at once.
    const base = await send(`${reg.url}/v2/`, 'GET /v2/ during the stall');
    assert.equal(base.status, 200);

    proxy.release();
    const again = await pushBlob(reg, 'stall/persistent', blob);
    assert.equal(again.status, 201, again.body.toString());
    await assertReadsBack(reg, 'stall/persistent', blob);
  });

  // While a client holds a pull back, the registry stops reading from the store, and the store's connection
  // idles: the idle timeout is what a client may pause for (beyond what the sockets buffer), as the
  // registry's own limits.idleTimeout is.
  it('does not cut a pull whose client keeps stopping for less than the idle timeout', async function () {
    const blob = randomBytes(16 * MiB);
    assert.equal((await pushBlob(reg, 'stall/slow', blob)).status, 201);
    const pulled = await slowPull(reg, 'stall/slow', digestOf(blob), { bytes: 2 * MiB, pauseMs: IDLE_TIMEOUT_MS / 2, pauses: 8 });
    assert.equal(pulled.cut, false);
    assert.equal(digestOf(pulled.bytes), digestOf(blob));
  });

  it('cuts a pull whose client takes in nothing for longer than the idle timeout, and keeps serving the blob', async function () {
    // More than the sockets between store, registry and client buffer, so the registry stops reading the store.
    const blob = randomBytes(48 * MiB);
    assert.equal((await pushBlob(reg, 'stall/stopped', blob)).status, 201);
    const pulled = await slowPull(reg, 'stall/stopped', digestOf(blob), { bytes: 1 * MiB, pauseMs: IDLE_TIMEOUT_MS * 3, pauses: 1 });
    assert.equal(pulled.cut, true, 'the body ended early');
    assert.ok(pulled.bytes.length < blob.length);
    await assertReadsBack(reg, 'stall/stopped', blob);
  });
});
