import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildahScratch, containerTools, expectedScratchOutput, skopeoDigest, type ContainerTools } from '../../support/clients';
import { digestOf } from '../../../src/oci/digest';
import { MediaType } from '../../../src/oci/mediaTypes';
import { buildImage, getManifest, layerOf, pushBuilt, tarArchive } from '../../support/ociImage';
import { BUSYBOX } from '../../support/images';
import { TARGETS, useRegistry, type RunningRegistry } from './targets';

const FORMATS = [
  { format: 'oci', mediaType: MediaType.ociManifest },
  { format: 'v2s2', mediaType: MediaType.dockerManifest },
] as const;

for (const target of TARGETS) {
  describe(`podman push and pull against ${target.name}`, function () {
    let registry: RunningRegistry;
    let builder: ContainerTools;
    before(async function () {
      registry = await target.start();
      builder = containerTools();
      await buildahScratch(builder, 'localhost/podman-src:v1', { layers: 2, label: `podman-${target.name}` });
    });
    after(async function () {
      await registry?.stop();
      await builder?.cleanup();
    });

    for (const { format, mediaType } of FORMATS) {
      it(`pushes in ${format} format and a fresh store pulls and runs the same digest`, async function () {
        const ref = `${registry.host}/podman/${format}:v1`;
        const digestFile = join(builder.dir, `digest-${format}`);
        await builder.podman(['push', '--tls-verify=false', '--format', format, '--digestfile', digestFile, 'localhost/podman-src:v1', `docker://${ref}`]);
        const pushed = readFileSync(digestFile, 'utf8').trim();

        const manifest = await getManifest(registry.url, `podman/${format}`, 'v1');
        assert.equal(manifest.status, 200);
        assert.equal(manifest.headers.get('content-type'), mediaType);
        assert.equal(digestOf(manifest.bytes), pushed);
        assert.equal(await skopeoDigest(builder, ref), pushed);

        const puller = containerTools();
        try {
          await puller.podman(['pull', '--tls-verify=false', ref]);
          const repoDigests = (await puller.podman(['image', 'inspect', '--format', '{{json .RepoDigests}}', ref])).stdout;
          assert.ok(repoDigests.includes(pushed), `RepoDigests ${repoDigests} lack ${pushed}`);
          const run = await puller.podman(['run', '--rm', '--network', 'none', ref]);
          assert.equal(run.stdout, expectedScratchOutput({ layers: 2, label: `podman-${target.name}` }));
        } finally {
          await puller.cleanup();
        }
      });
    }
  });
}

/** The engine's own platform, so that the assembled image runs here. */
const HOST_PLATFORM = { os: 'linux', architecture: process.arch === 'x64' ? 'amd64' : process.arch };

for (const target of TARGETS) {
  describe(`an image assembled in code, run by podman from ${target.name}`, function () {
    const registry = useRegistry(target);

    it('pushes over HTTP a busybox tar layer and a config, and podman pulls and runs it', async function () {
      const layer = layerOf(tarArchive({ 'bin/busybox': readFileSync(BUSYBOX), 'etc/greeting': `assembled for ${target.name}\n` }, { exec: ['bin/busybox'] }), { gzip: true });
      const image = buildImage({ layers: [layer], platform: HOST_PLATFORM, cmd: ['/bin/busybox', 'cat', '/etc/greeting'] });
      await pushBuilt(registry().url, 'podman/assembled', image, 'v1');
      const puller = containerTools();
      try {
        const ref = `${registry().host}/podman/assembled:v1`;
        await puller.podman(['pull', '--tls-verify=false', ref]);
        assert.equal((await puller.podman(['run', '--rm', '--network', 'none', ref])).stdout, `assembled for ${target.name}\n`);
      } finally {
        await puller.cleanup();
      }
    });
  });
}
