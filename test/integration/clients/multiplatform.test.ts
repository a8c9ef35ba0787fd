import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildahScratch, containerTools, expectedScratchOutput, skopeoDigest, type ContainerTools } from '../../support/clients';
import type { ImageIndex } from '../../../src/oci/types';
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

describe('multi-platform images', function () {
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

  for (const target of TARGETS) {
    it(`takes a two-platform list made by podman manifest push --all on ${target.name}, and podman pulls each platform's image`, async function () {
      const registry = registries.get(target);
      const platforms = [
        { arch: 'amd64', variant: undefined, image: `localhost/pm-amd64-${target.name}:v1` },
        { arch: 'arm64', variant: 'v8', image: `localhost/pm-arm64-${target.name}:v1` },
      ];
      const list = `localhost/pm-list-${target.name}:v1`;
      await tools.podman(['manifest', 'create', list]);
      for (const p of platforms) {
        // The busybox inside is the host's, so either image runs here; the label tells them apart.
        await buildahScratch(tools, p.image, { layers: 1, label: `${target.name}-${p.arch}` });
        await tools.podman(['manifest', 'add', '--os', 'linux', '--arch', p.arch, ...(p.variant ? ['--variant', p.variant] : []), list, `containers-storage:${p.image}`]);
      }
      const ref = `${registry.host}/multi/podman-list:v1`;
      const digestFile = join(tools.dir, `list-digest-${target.name}`);
      await tools.podman(['manifest', 'push', '--all', '--tls-verify=false', '--digestfile', digestFile, list, `docker://${ref}`]);
      const pushed = readFileSync(digestFile, 'utf8').trim();
      assert.equal(await skopeoDigest(tools, ref), pushed);
      const index = JSON.parse((await getManifest(registry.url, 'multi/podman-list', 'v1')).bytes.toString()) as ImageIndex;
      assert.deepEqual(index.manifests.map((m) => m.platform?.architecture), ['amd64', 'arm64']);

      for (const p of platforms) {
        const puller = containerTools();
        try {
          await puller.podman(['pull', '--tls-verify=false', '--os', 'linux', '--arch', p.arch, ...(p.variant ? ['--variant', p.variant] : []), ref]);
          const run = await puller.podman(['run', '--rm', '--network', 'none', ref]);
          assert.equal(run.stdout, expectedScratchOutput({ layers: 1, label: `${target.name}-${p.arch}` }));
        } finally {
          await puller.cleanup();
        }
      }
    });
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
