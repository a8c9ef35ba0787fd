/**
 * One bucket, two registries: what Berth pushes to S3, distribution 2.8 configured with `storage: s3`
 * on the same bucket and root directory serves byte for byte, and the other way round.
 */
import { strict as assert } from 'node:assert';
import { digestOf } from '../../../src/oci/digest';
import type { S3Config } from '../../../src/server/storage/s3Config';
import { distributionS3Config, freshBucket, startBerthOnS3 } from '../../support/ceph';
import { startDistribution } from '../../support/distribution';
import { buildImage, getBlob, getManifest, pushBuilt, randomLayer } from '../../support/ociImage';
import type { RunningRegistry } from '../clients/targets';

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
});
