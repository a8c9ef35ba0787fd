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
import { berth, distribution, storageOf, useRegistryRoot, type RegistryTarget } from '../clients/targets';
import { storedBlobs } from '../crash/streaming';
import { populate, toolsWithSourceImage, verify } from './scenario';

const run = promisify(execFile);

async function distributionGc(root: string, dir: string): Promise<string> {
  const config = join(dir, 'gc.yml');
  writeFileSync(config, stringify({ version: 0.1, storage: { filesystem: { rootdirectory: root }, delete: { enabled: true } } }));
  const { stdout, stderr } = await run('docker-registry', ['garbage-collect', config], { timeout: 120_000, maxBuffer: 16 * 1024 * 1024 });
  return stdout + stderr;
}

async function berthGc(root: string): Promise<string> {
  const { stdout, stderr } = await run(process.execPath, [REGISTRY_CLI, 'gc', '--root', root], { timeout: 120_000, maxBuffer: 16 * 1024 * 1024 });
  return stdout + stderr;
}

const CASES: { writer: RegistryTarget; collector: string; collect: (root: string, dir: string) => Promise<string> }[] = [
  { writer: berth, collector: 'distribution garbage-collect', collect: distributionGc },
  { writer: distribution, collector: 'berth-registry gc', collect: (root) => berthGc(root) },
];

describe('garbage collection on a root the other registry wrote', function () {
  const tools = toolsWithSourceImage();

  for (const { writer, collector, collect } of CASES) {
    describe(`${writer.name} writes, ${collector} collects`, function () {
      const fixture = useRegistryRoot(`gc-${writer.name}`);

      it('removes only the blobs of deleted manifests, and the writer still serves everything else', async function () {
        const { root, dir } = fixture;
        const written = await populate(await fixture.start(writer), tools(), writer === berth);
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
