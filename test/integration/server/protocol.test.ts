/**
 * The distribution spec's endpoints over raw HTTP, each test run against Berth and against
 * distribution 2.8 with the same body: a test that passes on both checks the protocol, not our
 * reading of it. Behaviour distribution 2.8 lacks is in berthOnly.test.ts, each with the reason.
 */
import * as assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { digestOf } from '../../../src/oci/digest';
import { MediaType } from '../../../src/oci/mediaTypes';
import { buildImage, buildIndex, pushBlob, pushBuilt, pushManifest, randomLayer } from '../../support/ociImage';
import { STORAGE_TARGETS, type RunningRegistry } from '../clients/targets';
import { assertError, call, chunkedBody, locationOf, startUpload, withParams } from './http';

const API_VERSION = 'registry/2.0';
const unknownDigest = `sha256:${'0'.repeat(64)}`;
let repoCounter = 0;
const freshRepo = (): string => `proto/r${Date.now().toString(36)}x${repoCounter++}`;

for (const target of STORAGE_TARGETS) {
  describe(`registry protocol against ${target.name}`, function () {
    let reg: RunningRegistry;
    let base: string;
    before(async () => {
      reg = await target.start();
      base = reg.url;
    });
    after(async () => reg?.stop());

    describe('end-1: version check', () => {
      it('answers GET /v2/ with 200 and the API version header', async () => {
        const r = await call(`${base}/v2/`);
        assert.equal(r.status, 200);
        assert.equal(r.headers.get('docker-distribution-api-version'), API_VERSION);
      });

      it('sends the API version header on errors too', async () => {
        const r = await call(`${base}/v2/none/here/manifests/latest`);
        assert.equal(r.status, 404);
        assert.equal(r.headers.get('docker-distribution-api-version'), API_VERSION);
      });
    });

    describe('blobs: push and pull', () => {
      it('pushes with POST then PUT, and answers HEAD with size and digest', async () => {
        const repo = freshRepo();
        const bytes = randomBytes(3000);
        const digest = digestOf(bytes);
        const loc = await startUpload(base, repo);
        const put = await call(withParams(loc, { digest }), { method: 'PUT', body: bytes, headers: { 'Content-Type': 'application/octet-stream' } });
        assert.equal(put.status, 201, put.text);
        assert.equal(put.headers.get('docker-content-digest'), digest);
        assert.match(put.headers.get('location') ?? '', new RegExp(`/v2/${repo}/blobs/${digest}$`));
        const head = await call(`${base}/v2/${repo}/blobs/${digest}`, { method: 'HEAD' });
        assert.equal(head.status, 200);
        assert.equal(head.headers.get('content-length'), '3000');
        assert.equal(head.headers.get('docker-content-digest'), digest);
        const get = await call(`${base}/v2/${repo}/blobs/${digest}`);
        assert.equal(get.status, 200);
        assert.ok(get.body.equals(bytes));
      });

      it('serves a Range with 206 so that pulls resume', async () => {
        const repo = freshRepo();
        const bytes = randomBytes(10_000);
        const digest = await pushBlob(base, repo, bytes);
        const first = await call(`${base}/v2/${repo}/blobs/${digest}`, { headers: { Range: 'bytes=0-4095' } });
        assert.equal(first.status, 206);
        assert.equal(first.headers.get('content-range'), 'bytes 0-4095/10000');
        const rest = await call(`${base}/v2/${repo}/blobs/${digest}`, { headers: { Range: 'bytes=4096-' } });
        assert.equal(rest.status, 206);
        assert.equal(rest.headers.get('content-length'), String(10_000 - 4096));
        assert.ok(Buffer.concat([first.body, rest.body]).equals(bytes));
      });

      it('answers a Range beyond the end with 416', async () => {
        const repo = freshRepo();
        const digest = await pushBlob(base, repo, randomBytes(100));
        // Headers only: distribution 2.8 announces a body on this 416 that it never sends.
        const res = await fetch(`${base}/v2/${repo}/blobs/${digest}`, { headers: { Range: 'bytes=200-300' } });
        await res.body?.cancel();
        assert.equal(res.status, 416);
        assert.equal(res.headers.get('content-range'), 'bytes */100');
      });

      it('answers an unknown blob with 404 BLOB_UNKNOWN', async () => {
        const repo = freshRepo();
        await pushBlob(base, repo, randomBytes(10));
        assertError(await call(`${base}/v2/${repo}/blobs/${unknownDigest}`), 404, 'BLOB_UNKNOWN');
        const head = await call(`${base}/v2/${repo}/blobs/${unknownDigest}`, { method: 'HEAD' });
        assert.equal(head.status, 404);
      });

      it('does not serve a blob through a repository it was never pushed to', async () => {
        const digest = await pushBlob(base, freshRepo(), randomBytes(50));
        const other = freshRepo();
        await pushBlob(base, other, randomBytes(10));
        assertError(await call(`${base}/v2/${other}/blobs/${digest}`), 404, 'BLOB_UNKNOWN');
      });

      it('rejects a malformed digest in the path with 400 DIGEST_INVALID', async () => {
        assertError(await call(`${base}/v2/${freshRepo()}/blobs/sha256:abc`), 400, 'DIGEST_INVALID');
      });

      it('rejects a PUT whose digest does not match the bytes with 400 DIGEST_INVALID', async () => {
        const repo = freshRepo();
        const loc = await startUpload(base, repo);
        assertError(await call(withParams(loc, { digest: unknownDigest }), { method: 'PUT', body: randomBytes(20), headers: { 'Content-Type': 'application/octet-stream' } }), 400, 'DIGEST_INVALID');
        assertError(await call(`${base}/v2/${repo}/blobs/${unknownDigest}`), 404, 'BLOB_UNKNOWN');
      });
    });

    describe('blobs: chunked uploads', () => {
      it('takes chunks with Content-Range in order, reports the range, and closes with PUT', async () => {
        const repo = freshRepo();
        const bytes = randomBytes(30_000);
        const digest = digestOf(bytes);
        let loc = await startUpload(base, repo);
        for (const [start, end] of [[0, 9_999], [10_000, 19_999]] as const) {
          const r = await call(loc, {
            method: 'PATCH', body: bytes.subarray(start, end + 1),
            headers: { 'Content-Type': 'application/octet-stream', 'Content-Range': `${start}-${end}`, 'Content-Length': String(end - start + 1) },
          });
          assert.equal(r.status, 202, r.text);
          assert.equal(r.headers.get('range'), `0-${end}`);
          loc = locationOf(base, r);
        }
        const status = await call(loc);
        assert.equal(status.status, 204);
        assert.equal(status.headers.get('range'), '0-19999');
        assert.ok(status.headers.get('location'));
        assert.ok(status.headers.get('docker-upload-uuid'));
        const put = await call(locationOf(base, status, { digest }), {
          method: 'PUT', body: bytes.subarray(20_000),
          headers: { 'Content-Type': 'application/octet-stream', 'Content-Range': '20000-29999', 'Content-Length': '10000' },
        });
        assert.equal(put.status, 201, put.text);
        const get = await call(`${base}/v2/${repo}/blobs/${digest}`);
        assert.ok(get.body.equals(bytes));
      });

      it('streams a PATCH without Content-Range in chunked transfer encoding, as docker does', async () => {
        const repo = freshRepo();
        const parts = [randomBytes(70_000), randomBytes(1), randomBytes(100_000)];
        const bytes = Buffer.concat(parts);
        const loc = await startUpload(base, repo);
        const patch = await call(loc, { method: 'PATCH', body: chunkedBody(parts), duplex: 'half', headers: { 'Content-Type': 'application/octet-stream' } });
        assert.equal(patch.status, 202, patch.text);
        assert.equal(patch.headers.get('range'), `0-${bytes.length - 1}`);
        const put = await call(locationOf(base, patch, { digest: digestOf(bytes) }), { method: 'PUT' });
        assert.equal(put.status, 201, put.text);
        assert.ok((await call(`${base}/v2/${repo}/blobs/${digestOf(bytes)}`)).body.equals(bytes));
      });

      it('cancels an upload with DELETE, after which the session is unknown', async () => {
        const repo = freshRepo();
        const loc = await startUpload(base, repo);
        const del = await call(loc, { method: 'DELETE' });
        assert.equal(del.status, 204);
        assertError(await call(loc), 404, 'BLOB_UPLOAD_UNKNOWN');
      });

      it('answers the status of an unknown session with 404', async () => {
        const repo = freshRepo();
        await startUpload(base, repo);
        // The code differs: distribution 2.8 says BLOB_UPLOAD_INVALID (berthOnly checks BLOB_UPLOAD_UNKNOWN).
        assert.equal((await call(`${base}/v2/${repo}/blobs/uploads/6c1c6a5e-2f49-4bb5-9d44-1f64cbd4f3a0`)).status, 404);
      });
    });

    describe('blobs: cross-repository mount', () => {
      it('mounts a blob from another repository with 201, Location and digest', async () => {
        const from = freshRepo();
        const to = freshRepo();
        const bytes = randomBytes(500);
        const digest = await pushBlob(base, from, bytes);
        const r = await call(`${base}/v2/${to}/blobs/uploads/?mount=${digest}&from=${from}`, { method: 'POST' });
        assert.equal(r.status, 201, r.text);
        assert.equal(r.headers.get('docker-content-digest'), digest);
        assert.match(r.headers.get('location') ?? '', new RegExp(`/v2/${to}/blobs/${digest}$`));
        assert.ok((await call(`${base}/v2/${to}/blobs/${digest}`)).body.equals(bytes));
      });

      it('answers a mount it cannot make with 202 and an upload session', async () => {
        const from = freshRepo();
        await pushBlob(base, from, randomBytes(10));
        const r = await call(`${base}/v2/${freshRepo()}/blobs/uploads/?mount=${unknownDigest}&from=${from}`, { method: 'POST' });
        assert.equal(r.status, 202);
        assert.ok(r.headers.get('location'));
      });

      it('answers a mount without from with 201 or 202 (the spec lets the registry choose)', async () => {
        const digest = await pushBlob(base, freshRepo(), randomBytes(64));
        const to = freshRepo();
        const r = await call(`${base}/v2/${to}/blobs/uploads/?mount=${digest}`, { method: 'POST' });
        assert.ok(r.status === 201 || r.status === 202, `got ${r.status}`);
        if (r.status === 201) assert.equal((await call(`${base}/v2/${to}/blobs/${digest}`, { method: 'HEAD' })).status, 200);
        else assert.ok(r.headers.get('location'));
      });
    });

    describe('manifests', () => {
      const kinds = [
        { what: 'an OCI image manifest', build: () => buildImage({ format: 'oci' }) },
        { what: 'a Docker schema 2 manifest', build: () => buildImage({ format: 'docker' }) },
        { what: 'an OCI index', build: () => buildIndex({ format: 'oci' }) },
        { what: 'a Docker manifest list', build: () => buildIndex({ format: 'docker' }) },
      ];
      for (const kind of kinds) {
        it(`stores ${kind.what} byte for byte and serves it with its media type and digest`, async () => {
          const repo = freshRepo();
          const built = kind.build();
          const pushed = await pushBuilt(base, repo, built, 'v1');
          assert.equal(pushed.digest, built.digest);
          assert.match(pushed.headers.get('location') ?? '', new RegExp(`/v2/${repo}/manifests/`));
          for (const ref of ['v1', built.digest]) {
            const get = await call(`${base}/v2/${repo}/manifests/${ref}`, { headers: { Accept: built.mediaType } });
            assert.equal(get.status, 200);
            assert.ok(get.body.equals(built.bytes), 'same bytes');
            assert.equal(get.headers.get('content-type'), built.mediaType);
            assert.equal(get.headers.get('docker-content-digest'), built.digest);
            const head = await call(`${base}/v2/${repo}/manifests/${ref}`, { method: 'HEAD', headers: { Accept: built.mediaType } });
            assert.equal(head.status, 200);
            assert.equal(head.headers.get('content-length'), String(built.bytes.length));
            assert.equal(head.headers.get('docker-content-digest'), built.digest);
          }
        });
      }

      it('answers If-None-Match with the ETag by 304', async () => {
        const repo = freshRepo();
        const built = buildImage();
        await pushBuilt(base, repo, built, 'v1');
        const get = await call(`${base}/v2/${repo}/manifests/v1`, { headers: { Accept: built.mediaType } });
        const etag = get.headers.get('etag');
        assert.ok(etag, 'ETag');
        const again = await call(`${base}/v2/${repo}/manifests/v1`, { headers: { Accept: built.mediaType, 'If-None-Match': etag } });
        assert.equal(again.status, 304);
        assert.equal(again.body.length, 0);
      });

      it('rejects a manifest whose layer is missing with 400 MANIFEST_BLOB_UNKNOWN', async () => {
        const repo = freshRepo();
        const built = buildImage({ layers: [randomLayer(100), randomLayer(100)] });
        await pushBlob(base, repo, built.config.bytes);
        await pushBlob(base, repo, built.layers[0]?.bytes ?? Buffer.alloc(0));
        const r = await call(`${base}/v2/${repo}/manifests/v1`, { method: 'PUT', body: built.bytes, headers: { 'Content-Type': built.mediaType } });
        assertError(r, 400, 'MANIFEST_BLOB_UNKNOWN');
      });

      it('rejects an index naming an unknown manifest with 400 MANIFEST_BLOB_UNKNOWN', async () => {
        const repo = freshRepo();
        const index = buildIndex();
        const [first] = index.images;
        if (first) await pushBuilt(base, repo, first);
        const r = await call(`${base}/v2/${repo}/manifests/multi`, { method: 'PUT', body: index.bytes, headers: { 'Content-Type': index.mediaType } });
        assertError(r, 400, 'MANIFEST_BLOB_UNKNOWN');
      });

      it('rejects a manifest pushed under a digest that does not match with 400 DIGEST_INVALID', async () => {
        const repo = freshRepo();
        const built = buildImage();
        await pushBuilt(base, repo, built);
        const r = await call(`${base}/v2/${repo}/manifests/${unknownDigest}`, { method: 'PUT', body: built.bytes, headers: { 'Content-Type': built.mediaType } });
        assertError(r, 400, 'DIGEST_INVALID');
      });

      it('rejects malformed JSON with 400 MANIFEST_INVALID', async () => {
        const r = await call(`${base}/v2/${freshRepo()}/manifests/v1`, { method: 'PUT', body: '{"schemaVersion":2,', headers: { 'Content-Type': MediaType.ociManifest } });
        assertError(r, 400, 'MANIFEST_INVALID');
      });

      it('answers an unknown manifest with 404 MANIFEST_UNKNOWN', async () => {
        const repo = freshRepo();
        await pushBuilt(base, repo, buildImage(), 'v1');
        assertError(await call(`${base}/v2/${repo}/manifests/nope`), 404, 'MANIFEST_UNKNOWN');
        assertError(await call(`${base}/v2/${repo}/manifests/${unknownDigest}`), 404, 'MANIFEST_UNKNOWN');
      });

      it('moves a tag to the manifest pushed last', async () => {
        const repo = freshRepo();
        await pushBuilt(base, repo, buildImage(), 'v1');
        const second = buildImage();
        await pushBuilt(base, repo, second, 'v1');
        const get = await call(`${base}/v2/${repo}/manifests/v1`, { headers: { Accept: second.mediaType } });
        assert.equal(get.headers.get('docker-content-digest'), second.digest);
      });
    });

    describe('discovery', () => {
      it('lists every tag of a repository', async () => {
        const repo = freshRepo();
        const image = buildImage();
        await pushBuilt(base, repo, image);
        const tags = ['b', 'a', 'd', 'c', 'e'];
        for (const t of tags) await pushManifest(base, repo, t, image);
        // Order and paging are checked in berthOnly.test.ts: distribution 2.8 lists tags in directory order and ignores n.
        const all = await call(`${base}/v2/${repo}/tags/list`);
        const body = JSON.parse(all.text) as { name: string; tags: string[] };
        assert.equal(body.name, repo);
        assert.deepEqual([...body.tags].sort(), ['a', 'b', 'c', 'd', 'e']);
      });

      it('answers tags of an unknown repository with 404 NAME_UNKNOWN', async () => {
        assertError(await call(`${base}/v2/${freshRepo()}/tags/list`), 404, 'NAME_UNKNOWN');
      });

      it('lists repositories in the catalog, paged with Link', async () => {
        const repos = [freshRepo(), freshRepo(), freshRepo()];
        for (const r of repos) await pushBuilt(base, r, buildImage(), 'v1');
        const seen: string[] = [];
        let next: string | undefined = `${base}/v2/_catalog?n=2`;
        for (let page = 0; next && page < 200; page++) {
          const r = await call(next);
          assert.equal(r.status, 200);
          const body = JSON.parse(r.text) as { repositories: string[] };
          assert.ok(body.repositories.length <= 2);
          seen.push(...body.repositories);
          const link = r.headers.get('link');
          next = link ? new URL(/<([^>]+)>;\s*rel="next"/.exec(link)?.[1] ?? '', base).toString() : undefined;
        }
        for (const r of repos) assert.ok(seen.includes(r), `${r} listed`);
        assert.deepEqual(seen, [...seen].sort(), 'sorted');
      });
    });

    describe('concurrency', () => {
      it('accepts the same blob pushed by eight clients at once, and serves it intact', async () => {
        const repo = freshRepo();
        const bytes = randomBytes(1024 * 1024);
        const digests = await Promise.all(Array.from({ length: 8 }, () => pushBlob(base, repo, bytes)));
        assert.deepEqual(new Set(digests), new Set([digestOf(bytes)]));
        assert.ok((await call(`${base}/v2/${repo}/blobs/${digestOf(bytes)}`)).body.equals(bytes));
      });

      it('leaves a tag pushed by eight clients at once pointing at one of their manifests', async () => {
        const repo = freshRepo();
        const images = Array.from({ length: 8 }, (_, i) => buildImage({ labels: { n: String(i) } }));
        for (const image of images) await pushBuilt(base, repo, image);
        await Promise.all(images.map((image) => pushManifest(base, repo, 'race', image)));
        const got = await call(`${base}/v2/${repo}/manifests/race`, { headers: { Accept: MediaType.ociManifest } });
        assert.equal(got.status, 200);
        const winner = images.find((i) => i.digest === got.headers.get('docker-content-digest'));
        assert.ok(winner, 'the tag names one of the pushed manifests');
        assert.ok(got.body.equals(winner.bytes));
        assert.deepEqual((JSON.parse((await call(`${base}/v2/${repo}/tags/list`)).text) as { tags: string[] }).tags, ['race']);
      });
    });

    describe('deletion', () => {
      it('deletes a manifest by digest with 202, after which it and its tag are gone', async () => {
        const repo = freshRepo();
        const built = buildImage();
        await pushBuilt(base, repo, built, 'v1');
        assert.equal((await call(`${base}/v2/${repo}/manifests/${built.digest}`, { method: 'DELETE' })).status, 202);
        assertError(await call(`${base}/v2/${repo}/manifests/${built.digest}`), 404, 'MANIFEST_UNKNOWN');
        assertError(await call(`${base}/v2/${repo}/manifests/v1`), 404, 'MANIFEST_UNKNOWN');
      });

      it('answers DELETE of an unknown manifest with 404 MANIFEST_UNKNOWN', async () => {
        const repo = freshRepo();
        await pushBuilt(base, repo, buildImage(), 'v1');
        assertError(await call(`${base}/v2/${repo}/manifests/${unknownDigest}`, { method: 'DELETE' }), 404, 'MANIFEST_UNKNOWN');
      });

      it('deletes a blob with 202, after which it is 404 BLOB_UNKNOWN', async () => {
        const repo = freshRepo();
        const digest = await pushBlob(base, repo, randomBytes(99));
        assert.equal((await call(`${base}/v2/${repo}/blobs/${digest}`, { method: 'DELETE' })).status, 202);
        assertError(await call(`${base}/v2/${repo}/blobs/${digest}`), 404, 'BLOB_UNKNOWN');
        assertError(await call(`${base}/v2/${repo}/blobs/${digest}`, { method: 'DELETE' }), 404, 'BLOB_UNKNOWN');
      });
    });
  });
}
