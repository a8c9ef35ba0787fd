/**
 * The local registry as the extension starts it with `berth.localRegistry.s3.*` set: its images go to the
 * bucket (a real Ceph RADOS gateway), its keys come from the AWS environment variables it inherits.
 */
import { strict as assert } from 'node:assert';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { registryConfig } from '../../../src/local/events';
import type { LocalRegistry } from '../../../src/local/localRegistry';
import { localManager } from './manager';
import { digestOf } from '../../../src/oci/digest';
import { cephGateway, freshBucket } from '../../support/ceph';
import { buildImage, pushBuilt } from '../../support/ociImage';
import { freePort, removeDir, tempDir } from '../../support/proc';

async function keysUnder(bucket: string, prefix: string): Promise<string[]> {
  const gw = cephGateway();
  const client = new S3Client({ endpoint: gw.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: gw.accessKey, secretAccessKey: gw.secretKey } });
  const keys: string[] = [];
  try {
    let token: string | undefined;
    for (let page = 0; page < 100; page++) {
      const res = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ...(token ? { ContinuationToken: token } : {}) }));
      keys.push(...(res.Contents ?? []).map((o) => o.Key ?? ''));
      token = res.NextContinuationToken;
      if (!token) break;
    }
  } finally {
    client.destroy();
  }
  return keys;
}

describe('local registry on S3 settings', () => {
  let dir: string;
  let registry: LocalRegistry;
  let bucket: string;
  let base: string;

  before(async function () {
    this.timeout(300_000);
    const s3 = await freshBucket('local');
    bucket = s3.bucket;
    dir = tempDir('local-s3');
    const port = await freePort();
    const env: NodeJS.ProcessEnv = { ...process.env, AWS_ACCESS_KEY_ID: s3.accessKey, AWS_SECRET_ACCESS_KEY: s3.secretKey };
    delete env['AWS_SESSION_TOKEN'];
    registry = localManager({
      dir,
      port,
      env,
      configPath: async () => {
        const path = join(dir, 'registry-config.yml');
        writeFileSync(path, registryConfig(undefined, { endpoint: s3.endpoint, bucket, region: 'us-east-1', rootDirectory: 'team/local', forcePathStyle: true }), { mode: 0o600 });
        return path;
      },
    });
    await registry.start();
    base = `http://127.0.0.1:${port}`;
  });

  after(async () => {
    await registry?.stop();
    registry?.dispose();
    if (dir) removeDir(dir);
  });

  it('accepts a push and keeps the blobs, manifest and tag in the bucket under <rootDirectory>/docker/registry/v2/, with nothing in the local folder', async () => {
    const pushed = await pushBuilt(base, 'team-a/api', buildImage(), '1.0');
    const keys = await keysUnder(bucket, 'team/local/docker/registry/v2/');
    const hex = pushed.digest.replace(/^sha256:/, '');
    assert.ok(keys.includes(`team/local/docker/registry/v2/blobs/sha256/${hex.slice(0, 2)}/${hex}/data`), `manifest blob in the bucket; keys: ${keys.join(', ')}`);
    assert.ok(keys.includes('team/local/docker/registry/v2/repositories/team-a/api/_manifests/tags/1.0/current/link'), 'tag link in the bucket');
    assert.equal((await keysUnder(bucket, '')).filter((k) => !k.startsWith('team/local/')).length, 0, 'nothing outside the root directory');
    assert.equal(existsSync(join(dir, 'data', 'docker')), false, 'nothing written to the local storage folder');
    const res = await fetch(`${base}/v2/team-a/api/manifests/1.0`, { headers: { Accept: 'application/vnd.oci.image.manifest.v1+json' } });
    assert.equal(res.headers.get('docker-content-digest'), pushed.digest);
  });

  it('Collect Garbage sweeps the bucket: a blob no manifest references is deleted from S3, the pushed image stays', async () => {
    const pushed = await pushBuilt(base, 'team-a/api', buildImage(), '1.0');
    const orphan = Buffer.from(`orphan ${Date.now()}`);
    const orphanHex = digestOf(orphan).replace(/^sha256:/, '');
    const put = await fetch(`${base}/v2/team-a/api/blobs/uploads/?digest=sha256:${orphanHex}`, { method: 'POST', body: orphan, headers: { 'Content-Type': 'application/octet-stream' } });
    assert.equal(put.status, 201);
    const blobKey = (hex: string): string => `team/local/docker/registry/v2/blobs/sha256/${hex.slice(0, 2)}/${hex}/data`;
    assert.ok((await keysUnder(bucket, blobKey(orphanHex))).length === 1, 'the orphan blob is in the bucket before gc');
    await registry.stop();
    await registry.gc(false);
    assert.deepEqual(await keysUnder(bucket, blobKey(orphanHex)), [], 'the orphan blob is gone from the bucket');
    const manifestHex = pushed.digest.replace(/^sha256:/, '');
    assert.deepEqual(await keysUnder(bucket, blobKey(manifestHex)), [blobKey(manifestHex)], 'the tagged manifest stays');
    await registry.start();
  });
});
