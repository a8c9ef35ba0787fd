/**
 * Garbage collection across implementations: each registry's collector runs on a root the other one
 * wrote. It must remove exactly the blobs only deleted manifests used, and leave everything else
 * serving, which it can only do if it reads the writer's links and deletions the same way.
 */
import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { stringify } from 'yaml';
import { REGISTRY_CLI } from '../../support/berthRegistry';
import { distributionS3Config, s3ConfigSection } from '../../support/ceph';
import { berth, berthS3, bucketOf, distribution, distributionS3, storageOf, useRegistryRoot, type RegistryTarget } from '../clients/targets';
import { storedBlobs } from '../crash/streaming';
import { populate, toolsWithSourceImage, verify } from './scenario';

const run = promisify(execFile);

/** The collectors read the storage a target wrote: the root folder, or the bucket an S3 target gave it. */
async function distributionGc(root: string, dir: string): Promise<string> {
  const config = join(dir, 'gc.yml');
  const s3 = bucketOf(root);
  const driver = s3 ? distributionS3Config(s3) : { filesystem: { rootdirectory: root } };
  writeFileSync(config, stringify({ version: 0.1, storage: { ...driver, delete: { enabled: true } } }));
  // Its s3 driver crashes on AWS_CA_BUNDLE.
  const env = { ...process.env };
  delete env['AWS_CA_BUNDLE'];
  const { stdout, stderr } = await run('docker-registry', ['garbage-collect', config], { timeout: 120_000, maxBuffer: 16 * 1024 * 1024, env });
  return stdout + stderr;
}

async function berthGc(root: string, dir: string): Promise<string> {
  const s3 = bucketOf(root);
  const config = join(dir, 'berth-gc.yml');
  if (s3) writeFileSync(config, stringify({ storage: { s3: s3ConfigSection(s3) } }));
  const { stdout, stderr } = await run(process.execPath, [REGISTRY_CLI, 'gc', '--root', root, ...(s3 ? ['--config', config] : [])], { timeout: 120_000, maxBuffer: 16 * 1024 * 1024 });
  return stdout + stderr;
}

const CASES: { writer: RegistryTarget; collector: string; collect: (root: string, dir: string) => Promise<string> }[] = [
  { writer: berth, collector: 'distribution garbage-collect', collect: distributionGc },
  { writer: distribution, collector: 'berth-registry gc', collect: berthGc },
  { writer: berthS3, collector: 'distribution garbage-collect on S3', collect: distributionGc },
  { writer: distributionS3, collector: 'berth-registry gc on S3', collect: berthGc },
];

describe('garbage collection on a root the other registry wrote', function () {
  const tools = toolsWithSourceImage();

  for (const { writer, collector, collect } of CASES) {
    describe(`${writer.name} writes, ${collector} collects`, function () {
      const fixture = useRegistryRoot(`gc-${writer.name}`);

      it('removes only the blobs of deleted manifests, and the writer still serves everything else', async function () {
        const { root, dir } = fixture;
        const written = await populate(await fixture.start(writer), tools(), writer === berth || writer === berthS3);
        await fixture.stop();
        const before = await storedBlobs(storageOf(root));
        for (const orphan of written.orphans) assert.ok(before.includes(orphan), `orphan ${orphan} was never stored`);

        const output = await collect(root, dir);
        const after = await storedBlobs(storageOf(root));
        assert.deepEqual(after.filter((d) => written.orphans.includes(d)), [], `orphans left behind; collector said:\n${output}`);
        assert.deepEqual(before.filter((d) => !after.includes(d)).sort(), [...written.orphans].sort(), `collector removed more than the orphans:\n${output}`);

        await verify(await fixture.start(writer), writer, tools(), written);
      });
    });
  }
});
