/**
 * Many processes, one bucket: Berth registries on the same S3 bucket keep nothing in memory that
 * correctness needs. An upload started on one process is continued and finished on another, also
 * after the first is killed mid-push; tags and deletions through one are seen by the other at once;
 * the upload's owner binding holds everywhere; and an idle session is judged by what the bucket
 * holds, not by one process's timer.
 */
import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { digestOf } from '../../../src/oci/digest';
import { HeadObjectCommand, ListMultipartUploadsCommand, ListPartsCommand } from '@aws-sdk/client-s3';
import { Layout } from '../../../src/server/layout';
import { S3Driver } from '../../../src/server/storage/s3Driver';
import { MIN_S3_CHUNK_BYTES, type S3Config } from '../../../src/server/storage/s3Config';
import { freshBucket, s3ConfigSection } from '../../support/ceph';
import { buildImage, layerOf, MANIFEST_ACCEPT, randomLayer, uploadUrl, type BuiltImage } from '../../support/ociImage';
import { REGISTRY_CLI } from '../../support/berthRegistry';
import { isAlive, outputMatching, removeDir, sleep, tempDir, waitFor } from '../../support/proc';
import { bytesInUploads } from '../crash/streaming';
import { basic, errorCode, startTeamRegistry, type TeamRegistry } from '../team/teamRegistry';

const MiB = 1024 * 1024;
const USERS = { alice: 'alice-pw', bob: 'bob-pw' };
type User = keyof typeof USERS;
const OCTETS = { 'Content-Type': 'application/octet-stream' };

function call(reg: TeamRegistry, method: string, path: string, user: User, body?: Buffer | string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(uploadUrl(reg.url, path), {
    method, headers: { Authorization: basic(user, USERS[user]), ...headers }, ...(body !== undefined ? { body } : {}),
  });
}

/** Path and query of an upload's Location: the same session is addressed on any process. */
function sessionPath(res: Response): string {
  const url = new URL(res.headers.get('location') ?? '', 'http://registry');
  return url.pathname + url.search;
}

async function pushImage(reg: TeamRegistry, repo: string, image: BuiltImage, tag: string): Promise<void> {
  for (const blob of [image.config, ...image.layers]) {
    const res = await call(reg, 'POST', `/v2/${repo}/blobs/uploads/?digest=${blob.descriptor.digest}`, 'alice', blob.bytes, OCTETS);
    assert.equal(res.status, 201, await res.text());
  }
  const res = await call(reg, 'PUT', `/v2/${repo}/manifests/${tag}`, 'alice', image.bytes, { 'Content-Type': image.mediaType });
  assert.equal(res.status, 201, await res.text());
}

/** The manifest's digest under `ref` as `reg` serves it, or its status when it is not served. */
async function manifestDigest(reg: TeamRegistry, repo: string, ref: string): Promise<string | number> {
  const res = await call(reg, 'GET', `/v2/${repo}/manifests/${ref}`, 'alice', undefined, { Accept: MANIFEST_ACCEPT });
  const bytes = Buffer.from(await res.arrayBuffer());
  return res.status === 200 ? digestOf(bytes) : res.status;
}

async function blobDigest(reg: TeamRegistry, repo: string, digest: string): Promise<string | number> {
  const res = await call(reg, 'GET', `/v2/${repo}/blobs/${digest}`, 'alice');
  const bytes = Buffer.from(await res.arrayBuffer());
  return res.status === 200 ? digestOf(bytes) : res.status;
}

async function tagsOf(reg: TeamRegistry, repo: string): Promise<string[]> {
  const res = await call(reg, 'GET', `/v2/${repo}/tags/list`, 'alice');
  assert.equal(res.status, 200);
  return ((await res.json()) as { tags: string[] | null }).tags ?? [];
}

/** A Berth registry with logins on the bucket; `limits` for the idle tests, `readOnly` for a gc window. */
function startOn(s3: S3Config, opts: { limits?: Record<string, unknown>; readOnly?: boolean } = {}): Promise<TeamRegistry> {
  const storage = { s3: s3ConfigSection(s3), ...(opts.readOnly ? { readOnly: { enabled: true } } : {}) };
  return startTeamRegistry({ users: USERS, config: { auth: {}, limits: opts.limits ?? {}, storage } });
}

/** What the bucket holds at an upload's data key: its multipart uploads (with their parts' sizes) and whether an object is there. */
async function uploadInBucket(driver: S3Driver, s3: S3Config, repo: string, session: string): Promise<{ uploads: { uploadId: string; partBytes: number[] }[]; object: boolean }> {
  const id = /\/blobs\/uploads\/([^/?]+)/.exec(session)?.[1] ?? '';
  const key = driver.key(new Layout('/').uploadData(repo, id));
  const listed = await driver.client.send(new ListMultipartUploadsCommand({ Bucket: s3.bucket, Prefix: key }));
  const uploads: { uploadId: string; partBytes: number[] }[] = [];
  for (const u of listed.Uploads ?? []) {
    if (u.Key !== key || !u.UploadId) continue;
    const parts = await driver.client.send(new ListPartsCommand({ Bucket: s3.bucket, Key: key, UploadId: u.UploadId }));
    uploads.push({ uploadId: u.UploadId, partBytes: (parts.Parts ?? []).map((part) => part.Size ?? 0) });
  }
  const object = await driver.client.send(new HeadObjectCommand({ Bucket: s3.bucket, Key: key })).then(() => true, () => false);
  return { uploads, object };
}

describe('two Berth processes on one S3 bucket', function () {
  let s3: S3Config;
  let a: TeamRegistry;
  let b: TeamRegistry;
  let driver: S3Driver;
  before(async function () {
    s3 = await freshBucket();
    driver = new S3Driver(s3);
    [a, b] = [await startOn(s3), await startOn(s3)];
  });
  after(async function () {
    await a?.stop();
    await b?.stop();
    await driver?.close();
  });

  it('finishes on one process an upload whose first process was killed mid-PATCH, for its owner only, and both serve the image', async function () {
    const killed = await startOn(s3);
    try {
      const repo = 'multi/resumed';
      const first = randomBytes(6 * MiB);
      // Over chunkSize + 5 MiB, so that a part of it is stored while the rest stays pending.
      const streamed = randomBytes(12 * MiB);
      const tail = randomBytes(6 * MiB);
      const blob = Buffer.concat([first, streamed, tail]);

      const post = await call(killed, 'POST', `/v2/${repo}/blobs/uploads/`, 'alice');
      assert.equal(post.status, 202);
      const session = sessionPath(post);
      const patch = await call(killed, 'PATCH', session, 'alice', first, { ...OCTETS, 'Content-Range': `0-${first.length - 1}` });
      assert.equal(patch.status, 202, await patch.text());

      // A streamed PATCH (chunked, as docker sends layers), held open until the process has stored some of it.
      const req = request(uploadUrl(killed.url, session), { method: 'PATCH', headers: { ...OCTETS, Authorization: basic('alice', USERS.alice) } });
      const answered = new Promise<unknown>((resolve) => {
        req.once('response', resolve);
        req.once('error', resolve);
      });
      req.write(streamed);
      await waitFor('a part of the streamed PATCH in the bucket', async () => ((await bytesInUploads(driver)) > first.length ? true : undefined), 60_000, 100);
      process.kill(killed.pid, 'SIGKILL');
      await waitFor('the killed process to be gone', async () => (isAlive(killed.pid) ? undefined : true), 10_000);
      req.destroy();
      await answered;

      // Another user holding the UUID is told it is unknown, on the other process too.
      const asBob = await call(b, 'GET', session, 'bob');
      assert.equal(asBob.status, 404);
      assert.equal(await errorCode(asBob), 'BLOB_UPLOAD_UNKNOWN');

      const status = await call(b, 'GET', session, 'alice');
      assert.equal(status.status, 204, await status.text());
      const stored = Number(/^0-(\d+)$/.exec(status.headers.get('range') ?? '')?.[1]) + 1;
      assert.ok(stored > first.length && stored <= first.length + streamed.length, `the upload resumes at ${stored}`);

      const rest = blob.subarray(stored);
      const resumed = await call(b, 'PATCH', session, 'alice', rest, { ...OCTETS, 'Content-Range': `${stored}-${blob.length - 1}` });
      assert.equal(resumed.status, 202, await resumed.text());
      assert.equal((await call(b, 'PUT', uploadUrl(b.url, session, { digest: digestOf(blob) }), 'bob')).status, 404, 'another user cannot finish it');
      const put = await call(b, 'PUT', uploadUrl(b.url, session, { digest: digestOf(blob) }), 'alice');
      assert.equal(put.status, 201, await put.text());

      const image = buildImage({ layers: [layerOf(blob)] });
      const config = await call(a, 'POST', `/v2/${repo}/blobs/uploads/?digest=${image.config.descriptor.digest}`, 'alice', image.config.bytes, OCTETS);
      assert.equal(config.status, 201);
      const manifest = await call(b, 'PUT', `/v2/${repo}/manifests/v1`, 'alice', image.bytes, { 'Content-Type': image.mediaType });
      assert.equal(manifest.status, 201, await manifest.text());
      for (const reg of [a, b]) {
        assert.equal(await manifestDigest(reg, repo, 'v1'), image.digest);
        assert.equal(await blobDigest(reg, repo, digestOf(blob)), digestOf(blob));
      }
    } finally {
      await killed.stop();
    }
  });

  // chunkSize is 5 MiB (S3's least part), so a PATCH over it stores parts while its body streams.
  const chunkedPushes = [
    { name: 'PATCHes of 5 MiB or more', patchMiB: [8, 17, 6, 8, 5], shortPatches: false },
    { name: 'PATCHes under 5 MiB between larger ones', patchMiB: [3, 1, 8, 2, 4, 6, 3], shortPatches: true },
  ];
  for (const push of chunkedPushes) {
    it(`takes a chunked push of ${push.name} through both processes in turn, reporting each offset, and serves the whole blob on both`, async function () {
      const repo = `multi/chunked-${push.shortPatches ? 'short' : 'large'}`;
      const chunks = push.patchMiB.map((mib) => randomBytes(mib * MiB));
      const blob = Buffer.concat(chunks);
      const post = await call(a, 'POST', `/v2/${repo}/blobs/uploads/`, 'alice');
      assert.equal(post.status, 202);
      const session = sessionPath(post);
      let offset = 0;
      let firstUploadId: string | undefined;
      for (const [i, chunk] of chunks.entries()) {
        const reg = i % 2 === 0 ? a : b;
        const res = await call(reg, 'PATCH', session, 'alice', chunk, { ...OCTETS, 'Content-Range': `${offset}-${offset + chunk.length - 1}` });
        assert.equal(res.status, 202, `PATCH ${i}: ${await res.text()}`);
        offset += chunk.length;
        assert.equal(res.headers.get('range'), `0-${offset - 1}`, `PATCH ${i} reports the bytes stored`);

        const held = await uploadInBucket(driver, s3, repo, session);
        assert.equal(held.uploads.length, 1, `PATCH ${i}: one multipart upload at the key`);
        const upload = held.uploads[0] as { uploadId: string; partBytes: number[] };
        assert.equal(upload.partBytes.reduce((n, p) => n + p, 0), offset, `PATCH ${i}: the parts hold every byte sent`);
        if (chunk.length >= MIN_S3_CHUNK_BYTES) {
          // The request's own tail went up as one part, so the next PATCH appends to this upload as it is.
          assert.ok(upload.partBytes.every((p) => p >= MIN_S3_CHUNK_BYTES), `PATCH ${i} (${chunk.length} bytes) leaves no part under 5 MiB: ${upload.partBytes.join(', ')}`);
        }
        if (!push.shortPatches) {
          // A short part is folded into a new upload by completing the old one; with none, nothing is ever completed.
          assert.equal(held.object, false, `PATCH ${i}: nothing is completed at the upload's key before the PUT`);
          firstUploadId ??= upload.uploadId;
          assert.equal(upload.uploadId, firstUploadId, `PATCH ${i}: the same multipart upload as after the first PATCH, not a re-assembled one`);
        }
      }
      const put = await call(b, 'PUT', uploadUrl(b.url, session, { digest: digestOf(blob) }), 'alice');
      assert.equal(put.status, 201, await put.text());
      assert.deepEqual((await uploadInBucket(driver, s3, repo, session)).uploads, [], 'the PUT leaves no multipart upload behind');
      for (const reg of [a, b]) assert.equal(await blobDigest(reg, repo, digestOf(blob)), digestOf(blob));
    });
  }

  it('shows a tag pushed or moved through one process on the other at once, and a deletion through either on both', async function () {
    const repo = 'multi/tags';
    const one = buildImage({ layers: [randomLayer(3000)] });
    const two = buildImage({ layers: [randomLayer(3000)] });
    await pushImage(a, repo, one, 'latest');
    assert.equal(await manifestDigest(b, repo, 'latest'), one.digest);
    assert.deepEqual(await tagsOf(b, repo), ['latest']);

    await pushImage(b, repo, two, 'latest');
    await pushImage(b, repo, two, 'stable');
    assert.equal(await manifestDigest(a, repo, 'latest'), two.digest);
    assert.deepEqual((await tagsOf(a, repo)).sort(), ['latest', 'stable']);

    assert.equal((await call(a, 'DELETE', `/v2/${repo}/manifests/stable`, 'alice')).status, 202);
    assert.deepEqual(await tagsOf(b, repo), ['latest']);
    assert.equal(await manifestDigest(b, repo, 'stable'), 404);

    assert.equal((await call(b, 'DELETE', `/v2/${repo}/manifests/${two.digest}`, 'alice')).status, 202);
    assert.equal(await manifestDigest(a, repo, 'latest'), 404);
    assert.equal(await manifestDigest(a, repo, two.digest), 404);
    assert.equal(await manifestDigest(a, repo, one.digest), one.digest, 'the untagged first manifest stays');
  });
});

describe('idle upload sessions with two Berth processes on one S3 bucket', function () {
  const IDLE = '3s';
  let s3: S3Config;
  let sweeping: TeamRegistry;
  let other: TeamRegistry;
  before(async function () {
    s3 = await freshBucket();
    // Only `sweeping` removes sessions this soon; `other` keeps the default of an hour.
    sweeping = await startOn(s3, { limits: { uploadIdleTimeout: IDLE } });
    other = await startOn(s3);
  });
  after(async function () {
    await sweeping?.stop();
    await other?.stop();
  });

  it('keeps a session started on the sweeping process while another process takes its chunks', async function () {
    const repo = 'multi/busy';
    const post = await call(sweeping, 'POST', `/v2/${repo}/blobs/uploads/`, 'alice');
    assert.equal(post.status, 202);
    const session = sessionPath(post);
    const chunks: Buffer[] = [];
    let offset = 0;
    // Well past twice the idle timeout, with no request to the process that started it.
    for (let i = 0; i < 10; i++) {
      const chunk = Buffer.from(`chunk ${i};`);
      const res = await call(other, 'PATCH', session, 'alice', chunk, { ...OCTETS, 'Content-Range': `${offset}-${offset + chunk.length - 1}` });
      assert.equal(res.status, 202, `chunk ${i}: ${await res.text()}`);
      chunks.push(chunk);
      offset += chunk.length;
      await sleep(800);
    }
    const put = await call(other, 'PUT', uploadUrl(other.url, session, { digest: digestOf(Buffer.concat(chunks)) }), 'alice');
    assert.equal(put.status, 201, `the session in use on the other process was kept: ${await put.text()}`);
  });

  it('removes a session started on the other process once the bucket shows it idle', async function () {
    const post = await call(other, 'POST', `/v2/multi/abandoned/blobs/uploads/`, 'alice');
    assert.equal(post.status, 202);
    const session = sessionPath(post);
    assert.equal((await call(other, 'PATCH', session, 'alice', 'some bytes', { ...OCTETS, 'Content-Range': '0-9' })).status, 202);
    await waitFor('the sweeping process to remove the abandoned session', async () => ((await call(other, 'GET', session, 'alice')).status === 404 ? true : undefined), 60_000, 500);
    await outputMatching(sweeping, /"msg":"removed idle upload sessions"/);
  });
});

describe('a gc window on one S3 bucket: every registry read-only while berth-registry gc runs', function () {
  let s3: S3Config;
  let dir: string;
  const running: TeamRegistry[] = [];
  const start = async (readOnly: boolean): Promise<TeamRegistry> => {
    const reg = await startOn(s3, { readOnly });
    running.push(reg);
    return reg;
  };
  before(async function () {
    s3 = await freshBucket();
    dir = tempDir('gc-window');
  });
  after(async function () {
    for (const reg of running) await reg.stop();
    if (dir) removeDir(dir);
  });

  it('refuses pushes and deletes with 405 saying why, keeps serving pulls and the upload in flight, and gc removes only the deleted image', async function () {
    const repo = 'multi/window';
    const kept = buildImage({ layers: [randomLayer(3000)] });
    const dropped = buildImage({ layers: [randomLayer(3000)] });
    const writable = await start(false);
    await pushImage(writable, repo, kept, 'v1');
    await pushImage(writable, repo, dropped, 'v2');
    assert.equal((await call(writable, 'DELETE', `/v2/${repo}/manifests/${dropped.digest}`, 'alice')).status, 202);
    const inFlight = await call(writable, 'POST', `/v2/${repo}/blobs/uploads/`, 'alice');
    assert.equal(inFlight.status, 202);
    const session = sessionPath(inFlight);
    await writable.stop();

    const window = [await start(true), await start(true)];
    for (const reg of window) {
      const refusals = [
        await call(reg, 'POST', `/v2/${repo}/blobs/uploads/`, 'alice'),
        await call(reg, 'PATCH', session, 'alice', 'bytes', OCTETS),
        await call(reg, 'PUT', `/v2/${repo}/manifests/v3`, 'alice', dropped.bytes, { 'Content-Type': dropped.mediaType }),
        await call(reg, 'DELETE', `/v2/${repo}/manifests/${kept.digest}`, 'alice'),
      ];
      for (const res of refusals) {
        assert.equal(res.status, 405);
        assert.match(await res.text(), /"code":"UNSUPPORTED".*read-only for maintenance \(storage\.readOnly\.enabled\)/);
      }
      assert.equal(await manifestDigest(reg, repo, 'v1'), kept.digest);
    }

    const config = join(dir, 'gc.yml');
    writeFileSync(config, stringify({ storage: { s3: s3ConfigSection(s3) } }));
    const gc = spawnSync(process.execPath, [REGISTRY_CLI, 'gc', '--config', config], { encoding: 'utf8', timeout: 120_000 });
    assert.equal(gc.status, 0, gc.stderr);
    assert.match(gc.stdout, /removed 0 manifests and 3 blobs .* and 0 abandoned uploads .*1 recent uploads kept/);
    for (const reg of window) {
      assert.equal(await manifestDigest(reg, repo, 'v1'), kept.digest);
      for (const blob of [kept.config, ...kept.layers]) assert.equal(await blobDigest(reg, repo, blob.descriptor.digest), blob.descriptor.digest);
      assert.equal(await blobDigest(reg, repo, dropped.layers[0]?.descriptor.digest ?? ''), 404);
    }

    for (const reg of window) await reg.stop();
    const reopened = await start(false);
    const resumed = await call(reopened, 'PATCH', session, 'alice', 'bytes', { ...OCTETS, 'Content-Range': '0-4' });
    assert.equal(resumed.status, 202, `the upload in flight outlived the window: ${await resumed.text()}`);
  });
});
