import { strict as assert } from 'node:assert';
import { containerTools, skopeoDigest, type ContainerTools } from '../../support/clients';
import { digestOf } from '../../../src/oci/digest';
import { MediaType } from '../../../src/oci/mediaTypes';
import { buildImage, buildIndex, getManifest, MULTI_PLATFORMS, pushBuilt, randomLayer, type BuiltIndex, type ManifestFormat } from '../../support/ociImage';
import { RunningTargets, TARGETS, targetPairs, type RunningRegistry } from './targets';

/**
 * Gzipped layers: copying to a registry, containers/image compresses layers it sees as uncompressed,
 * which would rewrite the manifests and change every digest this test checks.
 */
function multiPlatform(format: ManifestFormat): BuiltIndex {
  return buildIndex({
    format,
    images: MULTI_PLATFORMS.map((platform) => buildImage({ format, platform, layers: [randomLayer(2048, { format, gzip: true }), randomLayer(512, { format, gzip: true })] })),
  });
}

const FORMATS: { format: ManifestFormat; mediaType: string }[] = [
  { format: 'oci', mediaType: MediaType.ociIndex },
  { format: 'docker', mediaType: MediaType.dockerManifestList },
];

async function assertIndexServed(registry: RunningRegistry, repo: string, reference: string, index: BuiltIndex): Promise<void> {
  const top = await getManifest(registry.url, repo, reference);
  assert.equal(top.status, 200, `${repo}:${reference}`);
  assert.equal(top.headers.get('content-type'), index.mediaType);
  assert.ok(top.bytes.equals(index.bytes), 'index bytes changed');
  for (const image of index.images) {
    const child = await getManifest(registry.url, repo, image.digest);
    assert.equal(child.status, 200, `child ${image.digest}`);
    assert.equal(digestOf(child.bytes), image.digest);
    assert.equal(child.headers.get('content-type'), image.mediaType);
  }
}

describe('multi-platform images assembled in code', function () {
  let tools: ContainerTools;
  const registries = new RunningTargets();

  before(async function () {
    tools = containerTools();
    await registries.startAll();
  });
  after(async function () {
    await registries.stopAll();
    await tools?.cleanup();
  });

  for (const target of TARGETS) {
    for (const { format, mediaType } of FORMATS) {
      describe(`${format} index of ${MULTI_PLATFORMS.length} platforms on ${target.name}`, function () {
        const index = multiPlatform(format);

        it('is pushed over HTTP and served byte for byte with its media type, by tag and by digest', async function () {
          const registry = registries.get(target);
          const pushed = await pushBuilt(registry.url, `multi/${format}`, index, 'v1');
          assert.equal(pushed.digest, index.digest);
          assert.equal(index.mediaType, mediaType);
          await assertIndexServed(registry, `multi/${format}`, 'v1', index);
          await assertIndexServed(registry, `multi/${format}`, index.digest, index);
        });

        it('is copied whole with skopeo copy --all to another repository, keeping every digest', async function () {
          const registry = registries.get(target);
          await pushBuilt(registry.url, `multi/${format}-src`, index, 'v1');
          await tools.skopeo(['copy', '--all', '--preserve-digests', '--src-tls-verify=false', '--dest-tls-verify=false',
            `docker://${registry.host}/multi/${format}-src:v1`, `docker://${registry.host}/multi/${format}-all:v1`]);
          assert.equal(await skopeoDigest(tools, `${registry.host}/multi/${format}-all:v1`), index.digest);
          await assertIndexServed(registry, `multi/${format}-all`, 'v1', index);
        });

        it('yields the arm64 image alone when skopeo copies one platform', async function () {
          const registry = registries.get(target);
          await pushBuilt(registry.url, `multi/${format}-src`, index, 'v1');
          await tools.skopeo(['copy', '--override-os', 'linux', '--override-arch', 'arm64', '--override-variant', 'v8',
            '--src-tls-verify=false', '--dest-tls-verify=false',
            `docker://${registry.host}/multi/${format}-src:v1`, `docker://${registry.host}/multi/${format}-arm64:v1`]);
          const arm64 = index.images.find((i) => i.platform.architecture === 'arm64');
          assert.ok(arm64);
          assert.equal(await skopeoDigest(tools, `${registry.host}/multi/${format}-arm64:v1`), arm64.digest);
        });
      });
    }
  }

  for (const { source, dest } of targetPairs()) {
    it(`copies an OCI index with skopeo copy --all from ${source.name} to ${dest.name}, keeping every digest`, async function () {
      const src = registries.get(source);
      const dst = registries.get(dest);
      const index = multiPlatform('oci');
      const repo = `multi/from-${source.name}`;
      await pushBuilt(src.url, repo, index, 'v1');
      await tools.skopeo(['copy', '--all', '--preserve-digests', '--src-tls-verify=false', '--dest-tls-verify=false',
        `docker://${src.host}/${repo}:v1`, `docker://${dst.host}/${repo}:v1`]);
      await assertIndexServed(dst, repo, 'v1', index);
    });
  }
});
