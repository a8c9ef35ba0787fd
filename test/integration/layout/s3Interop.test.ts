/**
 * One bucket, two registries: what Berth pushes to S3, distribution 2.8 configured with `storage: s3`
 * on the same bucket and root directory serves byte for byte, and the other way round; pushed and
 * pulled by HTTP, by skopeo and by docker as users do.
 */
import { strict as assert } from 'node:assert';
import { join } from 'node:path';
import { digestOf } from '../../../src/oci/digest';
import type { S3Config } from '../../../src/server/storage/s3Config';
import { distributionS3Config, freshBucket, startBerthOnS3 } from '../../support/ceph';
import { dockerBuildScratch, expectedScratchOutput, skopeoDigest, useDockerdAndTools } from '../../support/clients';
import { startDistribution } from '../../support/distribution';
import { buildImage, getBlob, getManifest, pushBuilt, randomLayer, writeOciLayout } from '../../support/ociImage';
import { removeDir, tempDir } from '../../support/proc';
import type { RunningRegistry } from '../clients/targets';

const MiB = 1024 * 1024;

describe('Berth and distribution on one S3 bucket', function () {
  let s3: S3Config;
  let berth: RunningRegistry;
  let dist: RunningRegistry;
  before(async function () {
    s3 = await freshBucket();
    berth = await startBerthOnS3(s3);
    dist = await startDistribution({ storageDriver: distributionS3Config(s3) });
  });
  after(async function () {
    await berth?.stop();
    await dist?.stop();
  });

  const engine = useDockerdAndTools();
  let work: string;
  before(function () {
    work = tempDir('s3-interop');
  });
  after(function () {
    if (work) removeDir(work);
  });

  const directions = [
    { name: 'Berth pushes, distribution serves', writer: () => berth, reader: () => dist },
    { name: 'distribution pushes, Berth serves', writer: () => dist, reader: () => berth },
  ];
  for (const d of directions) {
    it(`${d.name} the same manifest and blobs, digests equal`, async function () {
      const image = buildImage({ layers: [randomLayer(7 * 1024 * 1024), randomLayer(3000)] });
      const repo = `interop/${d.name.split(' ')[0]?.toLowerCase() ?? 'x'}`;
      await pushBuilt(d.writer().url, repo, image, 'v1');
      const m = await getManifest(d.reader().url, repo, 'v1');
      assert.equal(m.status, 200);
      assert.equal(digestOf(m.bytes), image.digest);
      for (const blob of [image.config, ...image.layers]) {
        const got = await getBlob(d.reader().url, repo, blob.descriptor.digest);
        assert.equal(got.status, 200, blob.descriptor.digest);
        assert.equal(digestOf(got.bytes), blob.descriptor.digest);
      }
    });
  }

  for (const d of directions) {
    const [writerName, readerName] = d.name.split(' ').filter((w) => w === 'Berth' || w === 'distribution');

    it(`${d.name} what skopeo copies in, to skopeo copying it out, digests equal`, async function () {
      const { tools } = engine();
      // A layer over S3's 5 MiB part size, so both registries store it as a multipart upload.
      const image = buildImage({ layers: [randomLayer(6 * MiB), randomLayer(2000, { gzip: true })], labels: { by: 'skopeo' } });
      const layout = join(work, `layout-${writerName}`);
      writeOciLayout(layout, image, 'v1');
      const repo = `interop/skopeo-${writerName?.toLowerCase()}`;
      await tools.skopeo(['copy', '--preserve-digests', '--dest-tls-verify=false', `oci:${layout}:v1`, `docker://${d.writer().host}/${repo}:v1`]);
      assert.equal(await skopeoDigest(tools, `${d.reader().host}/${repo}:v1`), image.digest, `${readerName} serves another manifest`);
      const pulled = join(work, `pulled-${writerName}`);
      await tools.skopeo(['copy', '--preserve-digests', '--src-tls-verify=false', `docker://${d.reader().host}/${repo}:v1`, `oci:${pulled}:v1`]);
      for (const blob of [image.config, ...image.layers]) {
        const got = await getBlob(d.reader().url, repo, blob.descriptor.digest);
        assert.equal(digestOf(got.bytes), blob.descriptor.digest);
      }
    });

    it(`${d.name} what docker pushes, to docker pull and run, digests equal`, async function () {
      const { dockerd } = engine();
      const repo = `interop/docker-${writerName?.toLowerCase()}`;
      const pushedRef = `${d.writer().host}/${repo}:v1`;
      const pulledRef = `${d.reader().host}/${repo}:v1`;
      const opts = { layers: 2, label: `interop-${writerName}`, bigFileBytes: 7 * MiB };
      await dockerBuildScratch(dockerd, pushedRef, opts);
      const pushed = /digest: (sha256:[a-f0-9]{64})/.exec((await dockerd.docker(['push', pushedRef])).stdout)?.[1];
      assert.ok(pushed, 'docker push printed no digest');
      await dockerd.docker(['rmi', pushedRef]);
      await dockerd.docker(['pull', pulledRef]);
      const repoDigests = (await dockerd.docker(['image', 'inspect', '--format', '{{json .RepoDigests}}', pulledRef])).stdout;
      assert.ok(repoDigests.includes(`@${pushed}`), `${readerName} served ${repoDigests}, not ${pushed}`);
      assert.equal((await dockerd.docker(['run', '--rm', '--network', 'none', pulledRef])).stdout, expectedScratchOutput(opts));
      await dockerd.docker(['rmi', pulledRef]);
    });
  }
});
