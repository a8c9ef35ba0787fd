import * as assert from 'node:assert/strict';
import { RegistryClient, isRegistryError } from '../../../src/client';
import { startBerthRegistry, type BerthRegistry } from '../../support/berthRegistry';
import { startDistribution, type Distribution } from '../../support/distribution';
import { buildArtifact, buildImage, getManifest, pushBuilt, pushManifest } from '../../support/ociImage';

describe('registry client against the embedded registry: referrers API and deleting tags', () => {
  let berth: BerthRegistry;
  let client: RegistryClient;

  before(async () => {
    berth = await startBerthRegistry();
    client = new RegistryClient();
  });
  after(async () => {
    client?.close();
    await berth?.stop();
  });

  it('lists referrers through the referrers API, filtered by artifact type', async () => {
    const image = buildImage();
    await pushBuilt(berth.url, 'refs/app', image, 'v1');
    const sbom = buildArtifact({ subject: image.descriptor, artifactType: 'application/vnd.example.sbom' });
    const signature = buildArtifact({ subject: image.descriptor, artifactType: 'application/vnd.example.sig' });
    await pushBuilt(berth.url, 'refs/app', sbom);
    await pushBuilt(berth.url, 'refs/app', signature);
    const reg = client.registry(berth.host);
    const all = await reg.referrers('refs/app', image.digest);
    assert.equal(all.source, 'api');
    assert.deepEqual(all.descriptors.map((d) => d.digest).sort(), [sbom.digest, signature.digest].sort());
    const sboms = await reg.referrers('refs/app', image.digest, { artifactType: 'application/vnd.example.sbom' });
    assert.deepEqual(sboms.descriptors.map((d) => d.digest), [sbom.digest]);
  });

  it('deletes one tag and leaves the other tags of the same manifest', async () => {
    const image = buildImage();
    await pushBuilt(berth.url, 'tags/app', image, 'v1');
    await pushManifest(berth.url, 'tags/app', 'v2', image);
    const reg = client.registry(berth.host);
    assert.deepEqual(await reg.deleteTag('tags/app', 'v1'), { deleted: 'tag' });
    assert.deepEqual((await reg.tagsPage('tags/app')).items, ['v2']);
    assert.equal((await reg.headManifest('tags/app', 'v2')).digest, image.digest);
  });
});

describe('registry client against a registry with deletion disabled', () => {
  let registry: Distribution;
  let client: RegistryClient;

  before(async () => {
    registry = await startDistribution({ deleteEnabled: false });
    client = new RegistryClient();
  });
  after(async () => {
    client?.close();
    await registry?.stop();
  });

  it('says this registry has deletion disabled, and deletes nothing', async () => {
    const image = buildImage();
    await pushBuilt(registry.url, 'keep/app', image, 'v1');
    await assert.rejects(client.registry(registry.host).deleteManifest('keep/app', 'v1'), (e) => isRegistryError(e, 'deletion-disabled') && /this registry has deletion disabled/i.test(e.message));
    assert.equal((await getManifest(registry.url, 'keep/app', 'v1')).status, 200);
  });
});
