/**
 * kill -9 in the middle of a large upload: the blob must not appear (the bytes stream to an upload
 * folder and are renamed into place only once verified), the server must start again on the same
 * root, and the same image must push cleanly afterwards.
 */
import { strict as assert } from 'node:assert';
import { join } from 'node:path';
import { containerTools, dockerBuildScratch, expectedScratchOutput, skopeoDigest, useDockerdAndTools, type ContainerTools } from '../../support/clients';
import { sleep, waitFor } from '../../support/proc';
import { digestOf } from '../../../src/oci/digest';
import { buildImage, getManifest, headBlob, headManifest, layerOf, listTags, pushBuilt, randomLayer, uploadUrl } from '../../support/ociImage';
import { berth, berthNoFsync, storageOf, STORAGE_TARGETS, useRegistryRoot, type RunningRegistry } from '../clients/targets';
import { bytesInUploads, corruptBlobs, openUpload, RepeatedBlob, storedBlobs } from './streaming';

const MiB = 1024 * 1024;
const BLOB_CHUNKS = 64;
/** Sent before the kill: well under the blob's size, well over what a socket buffers. */
const SENT_BEFORE_KILL = 24 * MiB;
/** Seen in the upload folder before the kill, proving the server was mid-write. */
const ON_DISK_BEFORE_KILL = 4 * MiB;

const MODES = [
  { name: 'a streamed PATCH (chunked encoding, no Content-Range)', method: 'PATCH' },
  { name: 'a monolithic PUT with its digest', method: 'PUT' },
] as const;

/** Bytes in the root's upload folders, read with a driver of its own that is closed after (it keeps files it opened). */
async function uploadBytesUnder(root: string): Promise<number> {
  const driver = storageOf(root);
  try {
    return await bytesInUploads(driver);
  } finally {
    await driver.close?.();
  }
}

/** After a restart an old session either resumes from the offset it reports, or is refused as unknown/invalid. */
async function finishOrForget(registry: RunningRegistry, location: string, blob: RepeatedBlob): Promise<string> {
  const status = await fetch(uploadUrl(registry.url, location));
  const body = await status.text();
  if (status.status !== 204) {
    assert.ok([400, 404].includes(status.status), `upload status after restart: ${status.status} ${body}`);
    const code = (JSON.parse(body) as { errors: { code: string }[] }).errors[0]?.code;
    assert.ok(code === 'BLOB_UPLOAD_UNKNOWN' || code === 'BLOB_UPLOAD_INVALID', `upload status error code ${code}`);
    return `forgotten (${code})`;
  }
  const range = /^0-(\d+)$/.exec(status.headers.get('range') ?? '');
  assert.ok(range?.[1], `204 without a Range: ${status.headers.get('range')}`);
  const next = Number(range[1]) + 1;
  const rest = blob.bytes().subarray(next);
  const patch = await fetch(uploadUrl(registry.url, status.headers.get('location') ?? location), {
    method: 'PATCH', body: rest,
    headers: { 'Content-Type': 'application/octet-stream', 'Content-Range': `${next}-${blob.size - 1}`, 'Content-Length': String(rest.length) },
  });
  assert.equal(patch.status, 202, await patch.text());
  const put = await fetch(uploadUrl(registry.url, patch.headers.get('location') ?? location, { digest: blob.digest }), { method: 'PUT' });
  assert.equal(put.status, 201, await put.text());
  return `resumed at ${next}`;
}

// berth-nofsync: without an fsync a blob is renamed into place from the page cache, which a killed
// process leaves to the kernel, so the same guarantees hold.
for (const target of [...STORAGE_TARGETS, berthNoFsync]) {
  describe(`kill -9 mid-push on ${target.name}`, function () {
    let tools: ContainerTools;
    before(function () {
      tools = containerTools();
    });
    after(async function () {
      await tools?.cleanup();
    });

    for (const mode of MODES) {
      describe(`during ${mode.name}`, function () {
        const fixture = useRegistryRoot(`crash-${target.name}`);

        it('leaves no partial blob, restarts on the same root, and takes the same image again', async function () {
          const { root } = fixture;
          let registry = await fixture.start(target);
          const blob = new RepeatedBlob(MiB, BLOB_CHUNKS);
          const post = await fetch(`${registry.url}/v2/crash/big/blobs/uploads/`, { method: 'POST' });
          assert.equal(post.status, 202);
          // Path and query only: the restarted registry listens on another port.
          const absolute = new URL(post.headers.get('location') ?? '', registry.url);
          const location = absolute.pathname + absolute.search;
          const upload = await openUpload(registry.url, location, mode.method, blob, SENT_BEFORE_KILL);
          await waitFor('upload bytes on disk', async () => ((await uploadBytesUnder(root)) >= ON_DISK_BEFORE_KILL ? true : undefined), 30_000);

          await fixture.kill();
          upload.abort();
          assert.ok((await upload.response) instanceof Error, 'the upload must not have completed');
          assert.deepEqual(await corruptBlobs(storageOf(root)), []);
          assert.ok(!(await storedBlobs(storageOf(root))).includes(blob.digest), 'the half-sent blob is in the served tree');

          registry = await fixture.start(target);
          assert.equal((await fetch(`${registry.url}/v2/`)).status, 200);
          assert.equal((await headBlob(registry.url, 'crash/big', blob.digest)).status, 404);

          const image = buildImage({ layers: [layerOf(blob.bytes())] });
          const pushed = await pushBuilt(registry.url, 'crash/big', image, 'v1');
          assert.equal(pushed.digest, image.digest);
          const head = await headBlob(registry.url, 'crash/big', blob.digest);
          assert.equal(head.status, 200);
          assert.equal(head.headers.get('content-length'), String(blob.size));

          // The interrupted session must not spoil the blob whichever way the registry handles it.
          await finishOrForget(registry, location, blob);
          assert.deepEqual(await corruptBlobs(storageOf(root)), []);
          await tools.skopeo(['copy', '--src-tls-verify=false', `docker://${registry.host}/crash/big:v1`, `dir:${join(fixture.dir, 'pulled')}`]);
          assert.equal(await skopeoDigest(tools, `${registry.host}/crash/big:v1`), image.digest);
        });
      });
    }
  });
}

describe('kill -9 during a docker push', function () {
  const engine = useDockerdAndTools();

  for (const target of STORAGE_TARGETS) {
    describe(`of ${target.name}`, function () {
      const fixture = useRegistryRoot(`crash-docker-${target.name}`);

      it('fails that push only; after a restart the same image pushes, pulls and runs', async function () {
        const { dockerd } = engine();
        let registry = await fixture.start(target);
        const opts = { layers: 1, label: `docker-crash-${target.name}`, bigFileBytes: 48 * MiB };
        const first = `${registry.host}/crash/docker:v1`;
        await dockerBuildScratch(dockerd, first, opts);
        const pushing = dockerd.docker(['push', first], { timeoutMs: 120_000 });
        const push = pushing.then(() => 'completed', (e: Error) => e.message);
        let pushOutput = '';
        pushing.child.stdout?.on('data', (chunk: Buffer) => { pushOutput += chunk.toString(); });
        await waitFor('docker upload bytes on disk', async () => ((await uploadBytesUnder(fixture.root)) >= ON_DISK_BEFORE_KILL ? true : undefined), 60_000, 10);
        await fixture.kill();
        // docker retries a failed layer for about a minute: once it says it will retry, the layer has failed,
        // and stopping the CLI cancels the push.
        const beforeKill = pushOutput.length;
        const outcome = await Promise.race([
          push,
          waitFor('docker to report the failed layer', async () => (/Retrying in \d+ seconds?/.test(pushOutput.slice(beforeKill)) ? 'retrying' : undefined), 60_000, 50),
        ]);
        pushing.child.kill();
        assert.notEqual(outcome, 'completed');
        assert.notEqual(await push, 'completed');
        assert.deepEqual(await corruptBlobs(storageOf(fixture.root)), []);

        registry = await fixture.start(target);
        const again = `${registry.host}/crash/docker:v1`;
        await dockerd.docker(['tag', first, again]);
        await dockerd.docker(['push', again]);
        await dockerd.docker(['rmi', first, again]);
        await dockerd.docker(['pull', again]);
        assert.equal((await dockerd.docker(['run', '--rm', '--network', 'none', again])).stdout, expectedScratchOutput(opts));
        assert.deepEqual(await corruptBlobs(storageOf(fixture.root)), []);
      });
    });
  }
});

for (const target of [berth, berthNoFsync]) describe(`kill -9 during a burst of manifest and tag writes on ${target.name}`, function () {
  const fixture = useRegistryRoot(`crash-burst-${target.name}`);
  const WORKERS = 8;

  it('keeps every acknowledged manifest, and every tag readable and no older than its last acknowledged value', async function () {
    let registry = await fixture.start(target);
    const repo = 'crash/burst';
    /** Per tag: every manifest digest a worker tried to put there, in order, and how many were acknowledged. */
    const history = Array.from({ length: WORKERS }, () => ({ attempted: [] as string[], acknowledged: 0 }));
    const acknowledgedManifests: string[] = [];
    let stop = false;
    const workers = history.map(async (h, w) => {
      for (let i = 0; i < 10_000 && !stop; i++) {
        const image = buildImage({ layers: [randomLayer(512, { gzip: true })] });
        h.attempted.push(image.digest);
        try {
          await pushBuilt(registry.url, repo, image, `t${w}`);
        } catch {
          return; // the server is gone
        }
        h.acknowledged = h.attempted.length;
        acknowledgedManifests.push(image.digest);
      }
    });
    // Kill once the burst is well under way, at a moment unrelated to any one request.
    await waitFor('acknowledged pushes', async () => (acknowledgedManifests.length >= 2 * WORKERS ? true : undefined), 60_000, 10);
    await sleep(Math.floor(Math.random() * 100));
    await fixture.kill();
    stop = true;
    await Promise.all(workers);

    registry = await fixture.start(target);
    for (const d of acknowledgedManifests) assert.equal((await headManifest(registry.url, repo, d)).status, 200, `acknowledged manifest ${d} lost`);
    const tags = await listTags(registry.url, repo);
    for (const [w, h] of history.entries()) {
      if (h.acknowledged === 0) continue;
      assert.ok(tags.includes(`t${w}`), `acknowledged tag t${w} missing from ${JSON.stringify(tags)}`);
    }
    for (const tag of tags) {
      const h = history[Number(tag.slice(1))];
      assert.ok(h, `unexpected tag ${tag}`);
      const got = await getManifest(registry.url, repo, tag);
      assert.equal(got.status, 200, `tag ${tag} is listed but unreadable: ${got.bytes.toString()}`);
      const position = h.attempted.indexOf(digestOf(got.bytes));
      assert.ok(position >= 0, `tag ${tag} points at a manifest never put there`);
      assert.ok(position + 1 >= h.acknowledged, `tag ${tag} went back to an older manifest than its last acknowledged one`);
    }
    assert.deepEqual(await corruptBlobs(storageOf(fixture.root)), []);
  });
});
