import * as assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import * as v8 from 'node:v8';
import * as vm from 'node:vm';
import { RegistryClient, copyImage, type CopyEvent } from '../../../src/client';
import { startBerthRegistry, type BerthRegistry } from '../../support/berthRegistry';
import { startDistribution, type Distribution } from '../../support/distribution';
import { digestOf } from '../../../src/oci/digest';
import { buildImage, buildIndex, getBlob, getManifest, pushBuilt, randomLayer } from '../../support/ociImage';
import { removeDir, tempDir } from '../../support/proc';

const execFileAsync = promisify(execFile);

/** `skopeo inspect --raw` with a private, empty auth file, over plain HTTP to a loopback registry. */
async function skopeoRaw(reference: string): Promise<Buffer> {
  const dir = tempDir('skopeo');
  try {
    const authFile = join(dir, 'auth.json');
    writeFileSync(authFile, '{}');
    const { stdout } = await execFileAsync('skopeo', ['inspect', '--raw', '--tls-verify=false', '--authfile', authFile, `docker://${reference}`], {
      encoding: 'buffer', timeout: 60_000, env: { ...process.env, REGISTRY_AUTH_FILE: authFile },
    });
    return stdout;
  } finally {
    removeDir(dir);
  }
}

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

describe('copying images between registries', () => {
  let berth: BerthRegistry;
  let distribution: Distribution;
  let client: RegistryClient;

  before(async () => {
    [berth, distribution] = await Promise.all([startBerthRegistry(), startDistribution()]);
    client = new RegistryClient({ retry: { baseDelayMs: 10 } });
  });
  after(async () => {
    client?.close();
    await Promise.all([berth?.stop(), distribution?.stop()]);
  });

  it('copies a multi-platform index from the embedded registry to distribution, keeping every digest', async () => {
    const images = buildIndex({ format: 'oci' }).images.map((i) => buildImage({ platform: i.platform, layers: [randomLayer(300_000), randomLayer(1024)] }));
    const index = buildIndex({ images });
    await pushBuilt(berth.url, 'src/multi', index, 'v1');
    const events: CopyEvent[] = [];
    const result = await copyImage(client,
      { registry: berth.host, repository: 'src/multi', tag: 'v1' },
      { registry: distribution.host, repository: 'dst/multi', tag: 'release' },
      { onProgress: (e) => events.push(e) });

    assert.equal(result.digest, index.digest);
    assert.equal(result.reference, 'release');
    assert.equal(result.manifestsPushed, 4);
    assert.equal(result.blobsCopied, 9, 'three configs and six layers');
    const target = await getManifest(distribution.url, 'dst/multi', 'release');
    assert.equal(target.status, 200);
    assert.equal(target.headers.get('docker-content-digest'), index.digest);
    assert.ok(target.bytes.equals(index.bytes), 'the index bytes are unchanged');
    for (const image of images) {
      assert.equal((await getManifest(distribution.url, 'dst/multi', image.digest)).headers.get('docker-content-digest'), image.digest);
      for (const layer of image.layers) assert.ok((await getBlob(distribution.url, 'dst/multi', layer.descriptor.digest)).bytes.equals(layer.bytes));
    }
    // Progress: per blob, bytes climb to the blob's size and the blob then completes.
    const bigLayer = images[0]?.layers[0];
    assert.ok(bigLayer);
    const progress = events.filter((e): e is Extract<CopyEvent, { type: 'blob-progress' }> => e.type === 'blob-progress' && e.digest === bigLayer.descriptor.digest);
    assert.ok(progress.length > 1, 'a 300 kB blob reports progress more than once');
    assert.equal(progress[progress.length - 1]?.bytesSent, bigLayer.bytes.length);
    assert.ok(events.some((e) => e.type === 'blob-done' && e.digest === bigLayer.descriptor.digest));
    assert.equal(events.filter((e) => e.type === 'manifest-pushed').length, 4);
    // An independent client agrees: skopeo reads the same index bytes back.
    const raw = await skopeoRaw(`${distribution.host}/dst/multi:release`);
    assert.equal(digestOf(raw), index.digest);
  });

  it('skips blobs the target already has on a second copy', async () => {
    const image = buildImage({ format: 'docker' });
    await pushBuilt(distribution.url, 'again/src', image, 'v1');
    const source = { registry: distribution.host, repository: 'again/src', tag: 'v1' };
    const first = await copyImage(client, source, { registry: berth.host, repository: 'again/dst', tag: 'v1' });
    assert.equal(first.blobsCopied, 2);
    const second = await copyImage(client, source, { registry: berth.host, repository: 'again/dst', tag: 'v2' });
    assert.deepEqual({ copied: second.blobsCopied, skipped: second.blobsSkipped, digest: second.digest }, { copied: 0, skipped: 2, digest: image.digest });
  });

  it('mounts blobs when source and target are repositories of one registry', async () => {
    const image = buildImage();
    await pushBuilt(berth.url, 'mount/a', image, 'v1');
    const result = await copyImage(client, { registry: berth.host, repository: 'mount/a', tag: 'v1' }, { registry: berth.host, repository: 'mount/b', tag: 'v1' });
    assert.deepEqual({ mounted: result.blobsMounted, copied: result.blobsCopied }, { mounted: 2, copied: 0 });
    assert.equal((await getManifest(berth.url, 'mount/b', 'v1')).headers.get('docker-content-digest'), image.digest);
  });

  it('streams a large layer without holding it in memory', async () => {
    const layerBytes = 48 * 1024 * 1024;
    // Built and pushed in its own scope, so the test holds only the digest afterwards.
    const push = async (): Promise<string> => {
      const image = buildImage({ layers: [randomLayer(layerBytes)] });
      await pushBuilt(berth.url, 'large/src', image, 'v1');
      return image.digest;
    };
    const digest = await push();
    const memory = (): number => {
      gc();
      const m = process.memoryUsage();
      return m.heapUsed + m.arrayBuffers;
    };
    const baseline = memory();
    let peak = baseline;
    let nextSampleAt = 0;
    const result = await copyImage(client, { registry: berth.host, repository: 'large/src', tag: 'v1' }, { registry: distribution.host, repository: 'large/dst', tag: 'v1' }, {
      onProgress: (e) => {
        if (e.type === 'blob-progress' && e.bytesSent >= nextSampleAt) {
          nextSampleAt = e.bytesSent + 4 * 1024 * 1024;
          peak = Math.max(peak, memory());
        }
      },
    });
    assert.equal(result.digest, digest);
    assert.equal(result.bytesCopied > layerBytes, true);
    const growth = peak - baseline;
    console.log(`      copying a ${layerBytes / 1024 / 1024} MiB layer grew heap + buffers by ${(growth / 1024 / 1024).toFixed(1)} MiB at most`);
    assert.ok(growth < layerBytes / 2, `memory grew ${growth} bytes while streaming ${layerBytes}`);
  });

  it('stops a copy when its AbortSignal fires', async () => {
    const image = buildImage({ layers: [randomLayer(2_000_000)] });
    await pushBuilt(berth.url, 'abort/src', image, 'v1');
    const controller = new AbortController();
    const copy = copyImage(client, { registry: berth.host, repository: 'abort/src', tag: 'v1' }, { registry: distribution.host, repository: 'abort/dst', tag: 'v1' }, {
      signal: controller.signal,
      onProgress: (e) => {
        if (e.type === 'blob-progress') controller.abort();
      },
    });
    await assert.rejects(copy, (e: Error) => /Cancelled|abort/i.test(e.message));
    assert.equal((await getManifest(distribution.url, 'abort/dst', 'v1')).status, 404);
  });
});
