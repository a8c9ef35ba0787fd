/**
 * Protocol behaviour Berth implements and distribution 2.8 does not, so these run against Berth only:
 *   - the referrers API (added in distribution spec 1.1; 2.8 answers 404);
 *   - single-POST monolithic uploads (2.8 answers 202 and ignores the body);
 *   - 416 for an out-of-order chunk (2.8 accepts it);
 *   - tags in lexical order and `n=0` (2.8 lists in directory order and ignores n=0);
 *   - DELETE of a tag (2.8 answers 400);
 *   - mount without `from` (2.8 answers 202);
 *   - spec JSON errors for invalid names (2.8 answers a plain-text 404).
 */
import * as assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { digestOf } from '../../../src/oci/digest';
import { MediaType } from '../../../src/oci/mediaTypes';
import { startBerthRegistry, type BerthRegistry } from '../../support/berthRegistry';
import { removeDir, sleep, tempDir } from '../../support/proc';
import { buildArtifact, buildImage, pushBlob, pushBuilt, pushManifest } from '../../support/ociImage';
import { assertError, call, locationOf, startUpload, withParams } from './http';

let counter = 0;
const freshRepo = (): string => `only/r${Date.now().toString(36)}x${counter++}`;

describe('registry protocol, Berth only', () => {
  let reg: BerthRegistry;
  let base: string;
  before(async () => {
    reg = await startBerthRegistry();
    base = reg.url;
  });
  after(async () => reg?.stop());

  describe('uploads', () => {
    it('answers a chunk out of order with 416 and a Range, and keeps the session usable', async () => {
      const repo = freshRepo();
      const bytes = randomBytes(2_000);
      let loc = await startUpload(base, repo);
      const first = await call(loc, { method: 'PATCH', body: bytes.subarray(0, 1000), headers: { 'Content-Range': '0-999', 'Content-Length': '1000' } });
      assert.equal(first.status, 202);
      loc = locationOf(base, first);
      const skipped = await call(loc, { method: 'PATCH', body: bytes.subarray(1500), headers: { 'Content-Range': '1500-1999', 'Content-Length': '500' } });
      assertError(skipped, 416, 'BLOB_UPLOAD_INVALID');
      assert.equal(skipped.headers.get('range'), '0-999');
      const status = await call(loc);
      assert.equal(status.status, 204);
      assert.equal(status.headers.get('range'), '0-999');
      const second = await call(locationOf(base, status), { method: 'PATCH', body: bytes.subarray(1000), headers: { 'Content-Range': '1000-1999', 'Content-Length': '1000' } });
      assert.equal(second.status, 202);
      const put = await call(locationOf(base, second, { digest: digestOf(bytes) }), { method: 'PUT' });
      assert.equal(put.status, 201, put.text);
    });

    it('rejects a Content-Range that disagrees with Content-Length with 400 SIZE_INVALID', async () => {
      const loc = await startUpload(base, freshRepo());
      assertError(await call(loc, { method: 'PATCH', body: randomBytes(10), headers: { 'Content-Range': '0-99', 'Content-Length': '10' } }), 400, 'SIZE_INVALID');
    });

    it('answers unknown and malformed session ids with 404 BLOB_UPLOAD_UNKNOWN', async () => {
      const repo = freshRepo();
      await startUpload(base, repo);
      for (const id of ['6c1c6a5e-2f49-4bb5-9d44-1f64cbd4f3a0', 'not-a-uuid', 'ABCDEF']) {
        for (const method of ['GET', 'PATCH', 'PUT', 'DELETE']) {
          const url = `${base}/v2/${repo}/blobs/uploads/${id}${method === 'PUT' ? `?digest=${digestOf('')}` : ''}`;
          assertError(await call(url, { method }), 404, 'BLOB_UPLOAD_UNKNOWN');
        }
      }
    });

    it('pushes a blob with a single POST ?digest= (201), and rejects a wrong digest without storing anything', async () => {
      const repo = freshRepo();
      const bytes = randomBytes(4096);
      const digest = digestOf(bytes);
      const r = await call(`${base}/v2/${repo}/blobs/uploads/?digest=${digest}`, { method: 'POST', body: bytes, headers: { 'Content-Type': 'application/octet-stream' } });
      assert.equal(r.status, 201, r.text);
      assert.equal(r.headers.get('docker-content-digest'), digest);
      assert.ok((await call(`${base}/v2/${repo}/blobs/${digest}`)).body.equals(bytes));
      const wrong = `sha256:${'1'.repeat(64)}`;
      assertError(await call(`${base}/v2/${repo}/blobs/uploads/?digest=${wrong}`, { method: 'POST', body: bytes }), 400, 'DIGEST_INVALID');
      assertError(await call(`${base}/v2/${repo}/blobs/${wrong}`), 404, 'BLOB_UNKNOWN');
    });

    it('verifies and serves sha512 blobs', async () => {
      const repo = freshRepo();
      const bytes = randomBytes(1234);
      const digest = `sha512:${createHash('sha512').update(bytes).digest('hex')}`;
      const loc = await startUpload(base, repo);
      const put = await call(withParams(loc, { digest }), { method: 'PUT', body: bytes });
      assert.equal(put.status, 201, put.text);
      const get = await call(`${base}/v2/${repo}/blobs/${digest}`);
      assert.equal(get.headers.get('docker-content-digest'), digest);
      assert.ok(get.body.equals(bytes));
      const other = randomBytes(999);
      const otherDigest = `sha512:${createHash('sha512').update(other).digest('hex')}`;
      const post = await call(`${base}/v2/${repo}/blobs/uploads/?digest=${otherDigest}`, { method: 'POST', body: other });
      assert.equal(post.status, 201, post.text);
      assert.ok((await call(`${base}/v2/${repo}/blobs/${otherDigest}`)).body.equals(other));
      const bad = await startUpload(base, repo);
      assertError(await call(withParams(bad, { digest: `sha512:${'a'.repeat(128)}` }), { method: 'PUT', body: bytes }), 400, 'DIGEST_INVALID');
    });

    it('mounts without from when the registry holds the blob (201)', async () => {
      const digest = await pushBlob(base, freshRepo(), randomBytes(77));
      const to = freshRepo();
      const r = await call(`${base}/v2/${to}/blobs/uploads/?mount=${digest}`, { method: 'POST' });
      assert.equal(r.status, 201);
      assert.equal((await call(`${base}/v2/${to}/blobs/${digest}`, { method: 'HEAD' })).headers.get('content-length'), '77');
    });
  });

  describe('discovery', () => {
    it('lists tags in lexical (case-insensitive) order, paged with n, last and Link', async () => {
      const repo = freshRepo();
      const image = buildImage();
      await pushBuilt(base, repo, image);
      for (const t of ['b', 'A', 'c', 'a', 'D', '_x', '1']) await pushManifest(base, repo, t, image);
      const all = JSON.parse((await call(`${base}/v2/${repo}/tags/list`)).text) as { tags: string[] };
      assert.deepEqual(all.tags, ['1', '_x', 'A', 'a', 'b', 'c', 'D']);
      const page = await call(`${base}/v2/${repo}/tags/list?n=2&last=a`);
      assert.deepEqual((JSON.parse(page.text) as { tags: string[] }).tags, ['b', 'c']);
      assert.equal(page.headers.get('link'), `</v2/${repo}/tags/list?n=2&last=c>; rel="next"`);
      const lastPage = await call(`${base}/v2/${repo}/tags/list?n=2&last=c`);
      assert.deepEqual((JSON.parse(lastPage.text) as { tags: string[] }).tags, ['D']);
      assert.equal(lastPage.headers.get('link'), null);
    });

    it('answers n=0 with an empty list and no Link', async () => {
      const repo = freshRepo();
      await pushBuilt(base, repo, buildImage(), 'v1');
      for (const url of [`${base}/v2/${repo}/tags/list?n=0`, `${base}/v2/_catalog?n=0`]) {
        const r = await call(url);
        assert.equal(r.status, 200);
        const body = JSON.parse(r.text) as { tags?: string[]; repositories?: string[] };
        assert.deepEqual(body.tags ?? body.repositories, []);
        assert.equal(r.headers.get('link'), null);
      }
    });

    it('rejects a non-numeric n with a 400 spec error', async () => {
      const r = await call(`${base}/v2/_catalog?n=ten`);
      assert.equal(r.status, 400);
      assert.equal(r.codes.length, 1);
    });
  });

  describe('manifests', () => {
    it('deletes a tag with 202 and keeps the manifest by digest', async () => {
      const repo = freshRepo();
      const built = buildImage();
      await pushBuilt(base, repo, built, 'v1');
      await pushManifest(base, repo, 'v2', built);
      assert.equal((await call(`${base}/v2/${repo}/manifests/v1`, { method: 'DELETE' })).status, 202);
      assertError(await call(`${base}/v2/${repo}/manifests/v1`), 404, 'MANIFEST_UNKNOWN');
      assert.equal((await call(`${base}/v2/${repo}/manifests/${built.digest}`)).status, 200);
      assert.equal((await call(`${base}/v2/${repo}/manifests/v2`)).status, 200);
      assert.deepEqual((JSON.parse((await call(`${base}/v2/${repo}/tags/list`)).text) as { tags: string[] }).tags, ['v2']);
      assertError(await call(`${base}/v2/${repo}/manifests/v1`, { method: 'DELETE' }), 404, 'MANIFEST_UNKNOWN');
    });

    it('accepts a manifest of 4.5 MiB and answers one beyond the limit with 413', async () => {
      const repo = freshRepo();
      const big = buildImage({ annotations: { filler: 'x'.repeat(4.5 * 1024 * 1024) } });
      await pushBuilt(base, repo, big, 'big');
      assert.ok((await call(`${base}/v2/${repo}/manifests/big`)).body.equals(big.bytes));
      const huge = buildImage({ annotations: { filler: 'x'.repeat(9 * 1024 * 1024) } });
      for (const blob of [huge.config, ...huge.layers]) await pushBlob(base, repo, blob.bytes);
      const r = await call(`${base}/v2/${repo}/manifests/huge`, { method: 'PUT', body: huge.bytes, headers: { 'Content-Type': huge.mediaType } });
      assertError(r, 413, 'MANIFEST_INVALID');
    });

    it('accepts a Content-Type with parameters', async () => {
      const repo = freshRepo();
      const built = buildImage();
      for (const blob of [built.config, ...built.layers]) await pushBlob(base, repo, blob.bytes);
      const r = await call(`${base}/v2/${repo}/manifests/v1`, { method: 'PUT', body: built.bytes, headers: { 'Content-Type': `${built.mediaType}; charset=utf-8` } });
      assert.equal(r.status, 201, r.text);
      assert.equal((await call(`${base}/v2/${repo}/manifests/v1`)).headers.get('content-type'), built.mediaType);
    });

    it('rejects a schema 1 manifest with 400 MANIFEST_INVALID', async () => {
      const body = JSON.stringify({ schemaVersion: 1, name: 'x', tag: 'v1', fsLayers: [], history: [] });
      assertError(await call(`${base}/v2/${freshRepo()}/manifests/v1`, { method: 'PUT', body, headers: { 'Content-Type': MediaType.dockerSchema1Signed } }), 400, 'MANIFEST_INVALID');
    });
  });

  describe('referrers', () => {
    it('lists referrers with artifactType, filters them, and names the subject on push', async () => {
      const repo = freshRepo();
      const image = buildImage();
      await pushBuilt(base, repo, image, 'v1');
      const sbom = buildArtifact({ subject: image.descriptor, artifactType: 'application/vnd.example.sbom', annotations: { 'org.example.kind': 'sbom' } });
      const sig = buildArtifact({ subject: image.descriptor, artifactType: 'application/vnd.example.sig' });
      for (const a of [sbom, sig]) {
        const pushed = await pushBuilt(base, repo, a);
        assert.equal(pushed.headers.get('oci-subject'), image.digest);
      }
      const all = await call(`${base}/v2/${repo}/referrers/${image.digest}`);
      assert.equal(all.status, 200);
      assert.equal(all.headers.get('content-type'), MediaType.ociIndex);
      const index = JSON.parse(all.text) as { schemaVersion: number; mediaType: string; manifests: { digest: string; artifactType?: string; annotations?: Record<string, string>; size: number }[] };
      assert.equal(index.schemaVersion, 2);
      assert.deepEqual(index.manifests.map((m) => m.digest).sort(), [sbom.digest, sig.digest].sort());
      const sbomEntry = index.manifests.find((m) => m.digest === sbom.digest);
      assert.equal(sbomEntry?.artifactType, 'application/vnd.example.sbom');
      assert.deepEqual(sbomEntry?.annotations, { 'org.example.kind': 'sbom' });
      assert.equal(sbomEntry?.size, sbom.bytes.length);
      assert.equal(all.headers.get('oci-filters-applied'), null);

      const filtered = await call(`${base}/v2/${repo}/referrers/${image.digest}?artifactType=${encodeURIComponent('application/vnd.example.sig')}`);
      assert.equal(filtered.headers.get('oci-filters-applied'), 'artifactType');
      assert.deepEqual((JSON.parse(filtered.text) as { manifests: { digest: string }[] }).manifests.map((m) => m.digest), [sig.digest]);
    });

    it("gives an artifact without artifactType its config's media type", async () => {
      const repo = freshRepo();
      const image = buildImage();
      await pushBuilt(base, repo, image, 'v1');
      const plain = buildImage({ subject: image.descriptor });
      await pushBuilt(base, repo, plain);
      const index = JSON.parse((await call(`${base}/v2/${repo}/referrers/${image.digest}`)).text) as { manifests: { artifactType?: string }[] };
      assert.deepEqual(index.manifests.map((m) => m.artifactType), [MediaType.ociConfig]);
    });

    it('accepts a referrer whose subject is absent and lists it', async () => {
      const repo = freshRepo();
      const absent = buildImage();
      const art = buildArtifact({ subject: absent.descriptor, artifactType: 'application/vnd.example.early' });
      await pushBuilt(base, repo, art);
      const index = JSON.parse((await call(`${base}/v2/${repo}/referrers/${absent.digest}`)).text) as { manifests: { digest: string }[] };
      assert.deepEqual(index.manifests.map((m) => m.digest), [art.digest]);
    });

    it('drops a deleted referrer from the list', async () => {
      const repo = freshRepo();
      const image = buildImage();
      await pushBuilt(base, repo, image, 'v1');
      const art = buildArtifact({ subject: image.descriptor, artifactType: 'application/vnd.example.gone' });
      await pushBuilt(base, repo, art);
      assert.equal((await call(`${base}/v2/${repo}/manifests/${art.digest}`, { method: 'DELETE' })).status, 202);
      const index = JSON.parse((await call(`${base}/v2/${repo}/referrers/${image.digest}`)).text) as { manifests: unknown[] };
      assert.deepEqual(index.manifests, []);
    });

    it('answers 200 with an empty index for a digest nobody refers to, and 400 for a malformed one', async () => {
      const repo = freshRepo();
      await pushBuilt(base, repo, buildImage(), 'v1');
      const r = await call(`${base}/v2/${repo}/referrers/sha256:${'5'.repeat(64)}`);
      assert.equal(r.status, 200);
      assert.deepEqual((JSON.parse(r.text) as { manifests: unknown[] }).manifests, []);
      assertError(await call(`${base}/v2/${repo}/referrers/sha256:zz`), 400, 'DIGEST_INVALID');
    });
  });

  describe('sessions across restarts and abandoned uploads', () => {
    it('keeps an upload session across a restart and completes it with the right digest', async () => {
      const dir = tempDir('restart');
      const root = join(dir, 'data');
      try {
        const first = await startBerthRegistry({ root });
        const bytes = randomBytes(50_000);
        const loc = await startUpload(first.url, 'restart/repo');
        const patch = await call(loc, { method: 'PATCH', body: bytes.subarray(0, 20_000), headers: { 'Content-Range': '0-19999', 'Content-Length': '20000' } });
        assert.equal(patch.status, 202);
        const path = new URL(loc).pathname;
        await first.stop();
        const second = await startBerthRegistry({ root });
        try {
          const status = await call(`${second.url}${path}`);
          assert.equal(status.status, 204);
          assert.equal(status.headers.get('range'), '0-19999');
          const put = await call(`${second.url}${path}?digest=${digestOf(bytes)}`, { method: 'PUT', body: bytes.subarray(20_000), headers: { 'Content-Range': '20000-49999', 'Content-Length': '30000' } });
          assert.equal(put.status, 201, put.text);
          assert.ok((await call(`${second.url}/v2/restart/repo/blobs/${digestOf(bytes)}`)).body.equals(bytes));
        } finally {
          await second.stop();
        }
      } finally {
        removeDir(dir);
      }
    });

    it('purges uploads older than storage.uploadPurging.maxAgeSeconds', async () => {
      const dir = tempDir('purge');
      const config = join(dir, 'config.yml');
      writeFileSync(config, 'storage:\n  uploadPurging:\n    enabled: true\n    maxAgeSeconds: 1\n    intervalSeconds: 1\n');
      const purging = await startBerthRegistry({ args: ['--config', config] });
      try {
        const loc = await startUpload(purging.url, 'purge/repo');
        assert.equal((await call(loc)).status, 204);
        let status = 204;
        for (let i = 0; i < 40 && status === 204; i++) {
          await sleep(250);
          status = (await call(loc)).status;
        }
        assert.equal(status, 404, 'the abandoned upload is gone');
      } finally {
        await purging.stop();
        removeDir(dir);
      }
    });
  });

  describe('deletion disabled', () => {
    let locked: BerthRegistry;
    let dir: string;
    before(async () => {
      dir = tempDir('nodelete');
      const config = join(dir, 'config.yml');
      writeFileSync(config, 'storage:\n  delete:\n    enabled: false\n');
      locked = await startBerthRegistry({ args: ['--config', config] });
    });
    after(async () => {
      await locked?.stop();
      removeDir(dir);
    });

    it('answers every DELETE with 405 UNSUPPORTED and keeps the content', async () => {
      const repo = freshRepo();
      const built = buildImage();
      await pushBuilt(locked.url, repo, built, 'v1');
      const layer = built.layers[0]?.descriptor.digest ?? '';
      for (const path of [`manifests/${built.digest}`, 'manifests/v1', `blobs/${layer}`]) {
        assertError(await call(`${locked.url}/v2/${repo}/${path}`, { method: 'DELETE' }), 405, 'UNSUPPORTED');
        assert.equal((await call(`${locked.url}/v2/${repo}/${path}`, { method: 'HEAD' })).status, 200);
      }
    });
  });
});
