/**
 * Berth and distribution share one storage layout: a root written by either is served by the other.
 * Each direction writes with real clients (skopeo, podman, plain HTTP), stops the writer, starts the
 * other registry on the same folder and reads everything back with skopeo and podman.
 */
import { strict as assert } from 'node:assert';
import { join } from 'node:path';
import { skopeoDigest } from '../../support/clients';
import { removeDir, tempDir } from '../../support/proc';
import { buildArtifact, buildImage, deleteManifest, getReferrers, pushBuilt, randomLayer } from '../../support/ociImage';
import { berth, distribution, type RegistryTarget, type RunningRegistry } from '../clients/targets';
import { populate, toolsWithSourceImage, verify } from './scenario';

const DIRECTIONS: { writer: RegistryTarget; reader: RegistryTarget; deletesTags: boolean }[] = [
  // Tag deletion (DELETE /v2/<name>/manifests/<tag>) is optional in the spec; distribution 2.8 refuses it.
  { writer: berth, reader: distribution, deletesTags: true },
  { writer: distribution, reader: berth, deletesTags: false },
];

describe('storage layout shared with distribution', function () {
  const tools = toolsWithSourceImage();

  for (const { writer, reader, deletesTags } of DIRECTIONS) {
    describe(`${writer.name} writes, ${reader.name} serves`, function () {
      const root = join(tempDir(`layout-${writer.name}`), 'data');
      let running: RunningRegistry | undefined;
      after(async function () {
        await running?.stop();
        removeDir(join(root, '..'));
      });

      it('serves every tag, repository, index and referrer with the same digests, and keeps deletions', async function () {
        running = await writer.start(root);
        const written = await populate(running, tools(), deletesTags);
        await running.stop();
        running = await reader.start(root);
        await verify(running, reader, tools(), written);
      });

      it('accepts new pushes into the root the other registry wrote, and the writer serves them back', async function () {
        // Runs on the root the previous test left; start from it or from scratch so the order does not matter.
        await running?.stop();
        running = await reader.start(root);
        const image = buildImage({ layers: [randomLayer(2048, { gzip: true })] });
        await pushBuilt(running.url, 'layout/after-swap', image, 'v1');
        await running.stop();
        running = await writer.start(root);
        assert.equal(await skopeoDigest(tools(), `${running.host}/layout/after-swap:v1`), image.digest);
      });
    });
  }
});

describe('referrers after the other registry changed the root', function () {
  const dir = tempDir('layout-referrers');
  const root = join(dir, 'data');
  let running: RunningRegistry | undefined;
  after(async function () {
    await running?.stop();
    removeDir(dir);
  });

  it('lists referrers distribution added, and drops ones it deleted, after Berth had already answered for the subject', async function () {
    const subject = buildImage();
    const first = buildArtifact({ subject: subject.descriptor, artifactType: 'application/vnd.example.first' });
    const second = buildArtifact({ subject: subject.descriptor, artifactType: 'application/vnd.example.second' });
    running = await berth.start(root);
    await pushBuilt(running.url, 'layout/refs', subject, 'v1');
    await pushBuilt(running.url, 'layout/refs', first);
    assert.deepEqual((await getReferrers(running.url, 'layout/refs', subject.digest)).index?.manifests.map((d) => d.digest), [first.digest]);
    await running.stop();

    running = await distribution.start(root);
    await pushBuilt(running.url, 'layout/refs', second);
    assert.equal(await deleteManifest(running.url, 'layout/refs', first.digest), 202);
    await running.stop();

    running = await berth.start(root);
    const listed = await getReferrers(running.url, 'layout/refs', subject.digest);
    assert.deepEqual(listed.index?.manifests.map((d) => d.digest), [second.digest]);
  });
});
