import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildahScratch, containerTools, skopeoDigest, type ContainerTools } from '../../support/clients';
import { digestOf } from '../../../src/oci/digest';
import { MediaType } from '../../../src/oci/mediaTypes';
import type { ImageManifest } from '../../../src/oci/types';
import { getBlob, getManifest, listTags } from '../../support/ociImage';
import { TARGETS, type RunningRegistry } from './targets';

const FORMATS = [
  { format: 'oci', mediaType: MediaType.ociManifest },
  { format: 'v2s2', mediaType: MediaType.dockerManifest },
] as const;

for (const target of TARGETS) {
  describe(`buildah push against ${target.name}`, function () {
    let registry: RunningRegistry;
    let tools: ContainerTools;
    before(async function () {
      registry = await target.start();
      tools = containerTools();
      await buildahScratch(tools, 'localhost/buildah-src:v1', { layers: 3, label: `buildah-${target.name}` });
    });
    after(async function () {
      await registry?.stop();
      await tools?.cleanup();
    });

    for (const { format, mediaType } of FORMATS) {
      it(`pushes a FROM-scratch image in ${format} format whose manifest, config and layers read back intact`, async function () {
        const repo = `buildah/${format}`;
        const digestFile = join(tools.dir, `digest-${format}`);
        await tools.buildah(['push', '--tls-verify=false', '--format', format, '--digestfile', digestFile, 'localhost/buildah-src:v1', `docker://${registry.host}/${repo}:v1`]);
        const pushed = readFileSync(digestFile, 'utf8').trim();

        const got = await getManifest(registry.url, repo, pushed);
        assert.equal(got.status, 200);
        assert.equal(got.headers.get('content-type'), mediaType);
        assert.equal(got.headers.get('docker-content-digest'), pushed);
        assert.equal(digestOf(got.bytes), pushed);
        const manifest = JSON.parse(got.bytes.toString()) as ImageManifest;
        for (const d of [manifest.config, ...manifest.layers]) {
          const blob = await getBlob(registry.url, repo, d.digest);
          assert.equal(blob.status, 200, `blob ${d.digest}`);
          assert.equal(blob.bytes.length, d.size);
          assert.equal(digestOf(blob.bytes), d.digest);
        }
        assert.deepEqual(await listTags(registry.url, repo), ['v1']);
        assert.equal(await skopeoDigest(tools, `${registry.host}/${repo}:v1`), pushed);
      });
    }
  });
}
