import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startDockerd, type Dockerd } from '../../support/dockerd';
import { buildahScratch, containerTools, dockerBuildScratch, expectedScratchOutput, skopeoDigest, type ContainerTools } from '../../support/clients';
import { MediaType } from '../../../src/oci/mediaTypes';
import { digestOf } from '../../../src/oci/digest';
import type { ImageIndex, ImageManifest } from '../../../src/oci/types';
import { getManifest, headManifest, listTags } from '../../support/ociImage';
import { RunningTargets, TARGETS, targetPairs } from './targets';

describe('skopeo copy, inspect and delete', function () {
  let dockerd: Dockerd;
  let tools: ContainerTools;
  const registries = new RunningTargets();

  before(async function () {
    dockerd = await startDockerd();
    tools = containerTools();
    await dockerBuildScratch(dockerd, 'localhost/skopeo-src:v1', { layers: 2, label: 'skopeo-daemon' });
    await buildahScratch(tools, 'localhost/skopeo-oci:v1', { layers: 2, label: 'skopeo-oci' });
    await registries.startAll();
  });
  after(async function () {
    await registries.stopAll();
    await dockerd?.stop();
    await tools?.cleanup();
  });

  for (const target of TARGETS) {
    describe(`against ${target.name}`, function () {
      it('copies an image from the docker daemon and keeps its config as the image ID', async function () {
        const { host, url } = registries.get(target);
        const imageId = (await dockerd.docker(['image', 'inspect', '--format', '{{.Id}}', 'localhost/skopeo-src:v1'])).stdout.trim();
        await tools.skopeo(['copy', '--src-daemon-host', dockerd.host, '--dest-tls-verify=false',
          'docker-daemon:localhost/skopeo-src:v1', `docker://${host}/skopeo/daemon:v1`]);
        const got = await getManifest(url, 'skopeo/daemon', 'v1');
        assert.equal(got.status, 200);
        const manifest = JSON.parse(got.bytes.toString()) as ImageManifest;
        assert.equal(manifest.config.digest, imageId);
        // busybox, the applet links the RUN made, and one layer per file
        assert.equal(manifest.layers.length, 4);
        assert.equal(await skopeoDigest(tools, `${host}/skopeo/daemon:v1`), digestOf(got.bytes));
      });

      it('pushes zstd-compressed layers that a fresh podman store pulls and runs', async function () {
        const { host, url } = registries.get(target);
        // Content no registry has seen: skopeo, as root, keeps a machine-wide blob-info cache and would
        // otherwise reuse gzip layers it already pushed instead of compressing with zstd.
        const label = `skopeo-zstd-${target.name}`;
        await buildahScratch(tools, `localhost/${label}:v1`, { layers: 2, label });
        await tools.skopeo(['copy', '--dest-tls-verify=false', '--dest-compress-format', 'zstd', '--format', 'oci',
          `${tools.storageTransport}localhost/${label}:v1`, `docker://${host}/skopeo/zstd:v1`]);
        const manifest = JSON.parse((await getManifest(url, 'skopeo/zstd', 'v1')).bytes.toString()) as ImageManifest;
        assert.deepEqual([...new Set(manifest.layers.map((l) => l.mediaType))], [MediaType.ociLayerZstd]);
        const puller = containerTools();
        try {
          await puller.podman(['pull', '--tls-verify=false', `${host}/skopeo/zstd:v1`]);
          const run = await puller.podman(['run', '--rm', '--network', 'none', `${host}/skopeo/zstd:v1`]);
          assert.equal(run.stdout, expectedScratchOutput({ layers: 2, label }));
        } finally {
          await puller.cleanup();
        }
      });

      it('copies an OCI layout directory without changing the manifest digest', async function () {
        const { host } = registries.get(target);
        const dir = join(tools.dir, `oci-${target.name}`);
        await tools.buildah(['push', 'localhost/skopeo-oci:v1', `oci:${dir}:v1`]);
        const index = JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8')) as ImageIndex;
        const layoutDigest = index.manifests[0]?.digest;
        assert.ok(layoutDigest);
        await tools.skopeo(['copy', '--dest-tls-verify=false', `oci:${dir}:v1`, `docker://${host}/skopeo/oci:v1`]);
        assert.equal(await skopeoDigest(tools, `${host}/skopeo/oci:v1`), layoutDigest);
      });

      it('inspects tags and deletes a manifest by digest so that it and its tag are gone', async function () {
        const { host, url } = registries.get(target);
        await tools.skopeo(['copy', '--dest-tls-verify=false', `${tools.storageTransport}localhost/skopeo-oci:v1`, `docker://${host}/skopeo/delete-me:v1`]);
        const digest = await skopeoDigest(tools, `${host}/skopeo/delete-me:v1`);
        const tags = JSON.parse((await tools.skopeo(['list-tags', '--tls-verify=false', `docker://${host}/skopeo/delete-me`])).stdout) as { Tags: string[] };
        assert.deepEqual(tags.Tags, ['v1']);

        await tools.skopeo(['delete', '--tls-verify=false', `docker://${host}/skopeo/delete-me@${digest}`]);
        assert.equal((await headManifest(url, 'skopeo/delete-me', digest)).status, 404);
        assert.equal((await headManifest(url, 'skopeo/delete-me', 'v1')).status, 404);
        const inspect = await skopeoDigest(tools, `${host}/skopeo/delete-me:v1`).then(() => 'found', (e: Error) => e.message);
        assert.match(inspect, /manifest unknown|not found/i);
      });
    });
  }

  for (const { source, dest } of targetPairs()) {
    it(`copies from ${source.name} to ${dest.name} keeping digest and tags`, async function () {
      const src = registries.get(source);
      const dst = registries.get(dest);
      const repo = `skopeo/from-${source.name}`;
      await tools.skopeo(['copy', '--dest-tls-verify=false', `${tools.storageTransport}localhost/skopeo-oci:v1`, `docker://${src.host}/${repo}:v1`]);
      const srcDigest = await skopeoDigest(tools, `${src.host}/${repo}:v1`);
      await tools.skopeo(['copy', '--src-tls-verify=false', '--dest-tls-verify=false', '--preserve-digests',
        `docker://${src.host}/${repo}:v1`, `docker://${dst.host}/${repo}:v1`]);
      assert.equal(await skopeoDigest(tools, `${dst.host}/${repo}:v1`), srcDigest);
      assert.deepEqual(await listTags(dst.url, repo), ['v1']);
      const a = await getManifest(src.url, repo, srcDigest);
      const b = await getManifest(dst.url, repo, srcDigest);
      assert.ok(a.bytes.equals(b.bytes), 'manifest bytes differ between registries');
      assert.equal(b.headers.get('content-type'), a.headers.get('content-type'));
    });
  }
});
