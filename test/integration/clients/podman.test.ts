import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildahScratch, containerTools, expectedScratchOutput, skopeoDigest, type ContainerTools } from '../../support/clients';
import { digestOf } from '../../../src/oci/digest';
import { MediaType } from '../../../src/oci/mediaTypes';
import { getManifest } from '../../support/ociImage';
import { TARGETS, type RunningRegistry } from './targets';

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
