/**
 * `storage.filesystem.fsync`: the registry as a user runs it, on a real root. By default every blob
 * (layers, configs, manifests, however uploaded) is fsynced before it is acknowledged; with
 * `fsync: false` none is, and the blobs are stored and served just the same. A large upload is also
 * synced in the background while it arrives (fsync on only). The counts are the registry's own
 * `/metrics` figures, read before and after the pushes.
 */
import * as assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { digestOf } from '../../../src/oci/digest';
import { corruptBlobs, storedBlobs } from '../crash/streaming';
import { berth, berthNoFsync, storageOf, type RegistryTarget, type RunningRegistry } from '../clients/targets';
import { buildImage, getBlob, layerOf, pushBlob, pushBuilt, type UploadMode } from '../../support/ociImage';

async function counter(registry: RunningRegistry, name: string): Promise<number> {
  const res = await fetch(`${registry.url}/metrics`);
  assert.equal(res.status, 200);
  const line = (await res.text()).split('\n').find((l) => l.startsWith(`${name} `));
  assert.ok(line, `/metrics reports ${name}`);
  return Number(line.split(' ')[1]);
}

const fsyncs = (registry: RunningRegistry): Promise<number> => counter(registry, 'berth_storage_fsyncs_total');
const writebackSyncs = (registry: RunningRegistry): Promise<number> => counter(registry, 'berth_storage_writeback_syncs_total');

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

    it(`${c.fsyncsPerBlob ? 'syncs' : 'does not sync'} a large upload in the background while its bytes arrive, and serves it whole`, async function () {
      // 8 MiB of unsynced bytes start a background sync (fsDriver WRITEBACK_BYTES): 24 MiB starts at least one per upload.
      const before = await writebackSyncs(registry);
      const blobs = (['streamed', 'post-put'] as const).map((mode) => ({ mode, bytes: randomBytes(24 * 1024 * 1024) }));
      for (const b of blobs) await pushBlob(registry.url, 'durable/large', b.bytes, b.mode);
      const started = await writebackSyncs(registry) - before;
      if (c.fsyncsPerBlob) assert.ok(started >= blobs.length, `background syncs started: ${started}, expected at least ${blobs.length}`);
      else assert.equal(started, 0);
      for (const b of blobs) {
        const got = await getBlob(registry.url, 'durable/large', digestOf(b.bytes));
        assert.equal(got.status, 200);
        assert.ok(got.bytes.equals(b.bytes), `the ${b.mode} upload reads back whole`);
      }
      assert.deepEqual(await corruptBlobs(storageOf(registry.root)), []);
    });
  });
}
