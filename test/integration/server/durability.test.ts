/**
 * `storage.filesystem.fsync`: the registry as a user runs it, on a real root. By default every blob
 * (layers, configs, manifests, however uploaded) is fsynced before it is acknowledged; with
 * `fsync: false` none is, and the blobs are stored and served just the same. The count of fsyncs is
 * the registry's own `/metrics` figure, read before and after the pushes.
 */
import * as assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { digestOf } from '../../../src/oci/digest';
import { corruptBlobs, storedBlobs } from '../crash/streaming';
import { berth, berthNoFsync, storageOf, type RegistryTarget, type RunningRegistry } from '../clients/targets';
import { buildImage, getBlob, layerOf, pushBlob, pushBuilt, type UploadMode } from '../../support/ociImage';

async function fsyncs(registry: RunningRegistry): Promise<number> {
  const res = await fetch(`${registry.url}/metrics`);
  assert.equal(res.status, 200);
  const line = (await res.text()).split('\n').find((l) => l.startsWith('berth_storage_fsyncs_total '));
  assert.ok(line, '/metrics reports berth_storage_fsyncs_total');
  return Number(line.split(' ')[1]);
}

const UPLOADS: readonly UploadMode[] = ['post-put', 'single-post', 'chunked', 'streamed'];

const CASES: Array<{ target: RegistryTarget; setting: string; fsyncsPerBlob: number }> = [
  { target: berth, setting: 'by default', fsyncsPerBlob: 1 },
  { target: berthNoFsync, setting: 'with storage.filesystem.fsync: false', fsyncsPerBlob: 0 },
];

for (const c of CASES) {
  describe(`blob durability ${c.setting}`, function () {
    this.timeout(120_000);
    let registry: RunningRegistry;
    before(async function () {
      registry = await c.target.start();
    });
    after(async function () {
      await registry?.stop();
    });

    it(`${c.fsyncsPerBlob ? 'fsyncs' : 'does not fsync'} each blob before acknowledging it, whichever way it is uploaded, and serves every one whole`, async function () {
      const before = await fsyncs(registry);
      const blobs = UPLOADS.map(() => randomBytes(300 * 1024));
      for (const [i, mode] of UPLOADS.entries()) await pushBlob(registry.url, 'durable/blobs', blobs[i] as Buffer, mode);
      // An image: its config, its layer and its manifest are three more blobs.
      const image = buildImage({ layers: [layerOf(randomBytes(4096))] });
      await pushBuilt(registry.url, 'durable/image', image, 'v1');
      assert.equal(await fsyncs(registry) - before, (UPLOADS.length + 3) * c.fsyncsPerBlob);

      for (const bytes of blobs) {
        const got = await getBlob(registry.url, 'durable/blobs', digestOf(bytes));
        assert.equal(got.status, 200);
        assert.ok(got.bytes.equals(bytes));
      }
      const driver = storageOf(registry.root);
      assert.deepEqual(await corruptBlobs(driver), []);
      assert.ok((await storedBlobs(driver)).includes(image.digest));
    });
  });
}
