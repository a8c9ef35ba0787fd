/**
 * Berth and distribution share one storage layout: a root written by either is served by the other.
 * Each direction writes with real clients (skopeo, podman, plain HTTP), stops the writer, starts the
 * other registry on the same folder and reads everything back with skopeo and podman.
 */
import { strict as assert } from 'node:assert';
import { skopeoDigest } from '../../support/clients';
import { buildArtifact, buildImage, deleteManifest, getReferrers, pushBuilt, randomLayer } from '../../support/ociImage';
import { berth, distribution, useRegistryRoot, type RegistryTarget } from '../clients/targets';
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
      const fixture = useRegistryRoot(`layout-${writer.name}`);

      it('serves every tag, repository, index and referrer with the same digests, and keeps deletions', async function () {
        const written = await populate(await fixture.start(writer), tools(), deletesTags);
        await verify(await fixture.start(reader), reader, tools(), written);
      });

      it('accepts new pushes into the root the other registry wrote, and the writer serves them back', async function () {
        // Runs on the root the previous test left; start from it or from scratch so the order does not matter.
        const image = buildImage({ layers: [randomLayer(2048, { gzip: true })] });
        await pushBuilt((await fixture.start(reader)).url, 'layout/after-swap', image, 'v1');
        const back = await fixture.start(writer);
        assert.equal(await skopeoDigest(tools(), `${back.host}/layout/after-swap:v1`), image.digest);
      });
    });
  }
});

describe('referrers after the other registry changed the root', function () {
  const fixture = useRegistryRoot('layout-referrers');

  it('lists referrers distribution added, and drops ones it deleted, after Berth had already answered for the subject', async function () {
    const subject = buildImage();
    const first = buildArtifact({ subject: subject.descriptor, artifactType: 'application/vnd.example.first' });
    const second = buildArtifact({ subject: subject.descriptor, artifactType: 'application/vnd.example.second' });
    const ours = await fixture.start(berth);
    await pushBuilt(ours.url, 'layout/refs', subject, 'v1');
    await pushBuilt(ours.url, 'layout/refs', first);
    assert.deepEqual((await getReferrers(ours.url, 'layout/refs', subject.digest)).index?.manifests.map((d) => d.digest), [first.digest]);

    const theirs = await fixture.start(distribution);
    await pushBuilt(theirs.url, 'layout/refs', second);
    assert.equal(await deleteManifest(theirs.url, 'layout/refs', first.digest), 202);

    const again = await fixture.start(berth);
    const listed = await getReferrers(again.url, 'layout/refs', subject.digest);
    assert.deepEqual(listed.index?.manifests.map((d) => d.digest), [second.digest]);
  });
});
