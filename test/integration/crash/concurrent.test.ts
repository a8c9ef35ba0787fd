/** Several clients pushing the same blob or the same tag at once must leave a consistent registry. */
import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { digestOf } from '../../../src/oci/digest';
import { containerTools, skopeoDigest, type ContainerTools } from '../../support/clients';
import {
  buildImage, getBlob, getManifest, headBlob, listTags, pushBlob, pushBuilt, randomLayer, writeOciLayout, type UploadMode,
} from '../../support/ociImage';
import { STORAGE_TARGETS, storageOf, useRegistryRoot, type RunningRegistry } from '../clients/targets';
import { corruptBlobs } from './streaming';

const MODES: UploadMode[] = ['post-put', 'single-post', 'chunked', 'streamed'];
const CLIENTS_PER_MODE = 3;
/** The first layer of every image the skopeo processes push, so that they also race on one blob. */
const sharedLayer = randomLayer(512 * 1024, { gzip: true });

for (const target of STORAGE_TARGETS) {
  describe(`concurrent pushes on ${target.name}`, function () {
    const fixture = useRegistryRoot(`concurrent-${target.name}`);
    let registry: RunningRegistry;
    let tools: ContainerTools;
    before(async function () {
      registry = await fixture.start(target);
      tools = containerTools();
    });
    after(async function () {
      await tools?.cleanup();
    });

    it(`stores one blob pushed by ${MODES.length * CLIENTS_PER_MODE} clients at once in every upload mode`, async function () {
      const bytes = randomBytes(4 * 1024 * 1024);
      const digest = digestOf(bytes);
      const pushes = MODES.flatMap((mode) => Array.from({ length: CLIENTS_PER_MODE }, () => pushBlob(registry.url, 'concurrent/blob', bytes, mode)));
      assert.deepEqual(await Promise.all(pushes), pushes.map(() => digest));
      const got = await getBlob(registry.url, 'concurrent/blob', digest);
      assert.equal(got.status, 200);
      assert.equal(digestOf(got.bytes), digest);
      assert.deepEqual(await corruptBlobs(storageOf(fixture.root)), []);
    });

    it('links one blob pushed into eight repositories at once in each of them', async function () {
      const bytes = randomBytes(1024 * 1024);
      const repos = Array.from({ length: 8 }, (_, i) => `concurrent/repo-${i}`);
      await Promise.all(repos.map((repo, i) => pushBlob(registry.url, repo, bytes, MODES[i % MODES.length])));
      for (const repo of repos) {
        const head = await headBlob(registry.url, repo, digestOf(bytes));
        assert.equal(head.status, 200, repo);
        assert.equal(head.headers.get('content-length'), String(bytes.length));
      }
    });

    it('leaves a tag pushed by ten clients at once on one of their manifests, and keeps every manifest', async function () {
      const images = Array.from({ length: 10 }, () => buildImage({ layers: [randomLayer(4096, { gzip: true })] }));
      await Promise.all(images.map((image) => pushBuilt(registry.url, 'concurrent/tag', image, 'latest')));
      const digests = images.map((i) => i.digest);

      const tagged = await getManifest(registry.url, 'concurrent/tag', 'latest');
      assert.equal(tagged.status, 200);
      const winner = digestOf(tagged.bytes);
      assert.ok(digests.includes(winner), `tag points at ${winner}, which nobody pushed`);
      assert.equal(tagged.headers.get('docker-content-digest'), winner);
      assert.deepEqual(await listTags(registry.url, 'concurrent/tag'), ['latest']);
      for (const d of digests) assert.equal((await getManifest(registry.url, 'concurrent/tag', d)).status, 200, d);

      // The same answer after a restart: what was acknowledged is what is on disk.
      registry = await fixture.start(target);
      assert.equal(digestOf((await getManifest(registry.url, 'concurrent/tag', 'latest')).bytes), winner);
    });

    it('ends consistent when four skopeo processes copy different images to one tag at once', async function () {
      const layouts = Array.from({ length: 4 }, (_, i) => {
        const image = buildImage({ layers: [sharedLayer, randomLayer(2048, { gzip: true })] });
        const layout = join(fixture.dir, `layout-${i}`);
        writeOciLayout(layout, image, 'v1');
        return { image, layout };
      });
      await Promise.all(layouts.map(({ layout }) => tools.skopeo(['copy', '--preserve-digests', '--dest-tls-verify=false',
        `oci:${layout}:v1`, `docker://${registry.host}/concurrent/skopeo:shared`])));
      const winner = await skopeoDigest(tools, `${registry.host}/concurrent/skopeo:shared`);
      assert.ok(layouts.some(({ image }) => image.digest === winner), `tag points at ${winner}, which nobody pushed`);
      for (const { image } of layouts) {
        assert.equal((await getManifest(registry.url, 'concurrent/skopeo', image.digest)).status, 200);
        for (const layer of image.layers) assert.equal((await headBlob(registry.url, 'concurrent/skopeo', layer.descriptor.digest)).status, 200);
      }
      assert.deepEqual(await corruptBlobs(storageOf(fixture.root)), []);
    });
  });
}
