import * as assert from 'node:assert/strict';
import { RegistryClient, isRegistryError, type Registry } from '../../../src/client';
import { MediaType } from '../../../src/oci/mediaTypes';
import { startBerthRegistry } from '../../support/berthRegistry';
import { startDistribution } from '../../support/distribution';
import { buildArtifact, buildImage, buildIndex, pushBuilt, pushManifest } from '../../support/ociImage';

interface Server {
  url: string;
  host: string;
  stop(): Promise<void>;
}

const servers: Array<{ name: string; start: () => Promise<Server>; berth: boolean }> = [
  { name: 'distribution', start: () => startDistribution(), berth: false },
  { name: 'the embedded registry', start: () => startBerthRegistry(), berth: true },
];

for (const server of servers) describe(`registry client against ${server.name} without auth`, () => {
  let registry: Server;
  let client: RegistryClient;
  let reg: Registry;

  before(async () => {
    registry = await server.start();
    client = new RegistryClient({ retry: { baseDelayMs: 10 } });
    reg = client.registry(registry.host);
  });
  after(async () => {
    client?.close();
    await registry?.stop();
  });

  it('checks access to an open registry as anonymous over plain HTTP on loopback', async () => {
    const check = await reg.checkCredentials();
    assert.equal(check.auth, 'anonymous');
    assert.equal(check.signedIn, false);
    if (!server.berth) assert.equal(check.apiVersion, 'registry/2.0');
  });

  it('reads digest, type and size by HEAD and the exact bytes by GET', async () => {
    const image = buildImage();
    await pushBuilt(registry.url, 'heads/app', image, 'v1');
    const head = await reg.headManifest('heads/app', 'v1');
    assert.deepEqual(head, { digest: image.digest, mediaType: MediaType.ociManifest, size: image.bytes.length });
    const got = await reg.getManifest('heads/app', 'v1');
    assert.ok(got.bytes.equals(image.bytes));
    assert.equal(got.digest, image.digest);
  });

  it('lists the platforms of an index, reads a platform config and the total size', async () => {
    const index = buildIndex({ format: 'docker' });
    await pushBuilt(registry.url, 'multi/app', index, 'v1');
    const platforms = await reg.platforms('multi/app', 'v1');
    assert.deepEqual(platforms.map((p) => `${p.platform?.os}/${p.platform?.architecture}${p.platform?.variant ? `/${p.platform.variant}` : ''}`), ['linux/amd64', 'linux/arm64/v8', 'linux/arm/v7']);
    const config = await reg.imageConfig('multi/app', 'v1', { platform: 'linux/arm64' });
    assert.equal(config.architecture, 'arm64');
    assert.equal(config.created, '2024-01-01T00:00:00Z');
    assert.equal(config.manifestDigest, index.images[1]?.digest);
    const size = await reg.imageSize('multi/app', 'v1');
    const expected = index.bytes.length + index.images.reduce((sum, i) => sum + i.bytes.length + i.config.bytes.length + i.layers.reduce((s, l) => s + l.bytes.length, 0), 0);
    assert.equal(size.totalBytes, expected);
    assert.equal(size.platforms.length, 3);
  });

  it('reads the platform of a single image from its config', async () => {
    const image = buildImage({ platform: { os: 'linux', architecture: 's390x' } });
    await pushBuilt(registry.url, 'single/app', image, 'v1');
    const platforms = await reg.platforms('single/app', 'v1');
    assert.deepEqual(platforms.map((p) => p.platform), [{ os: 'linux', architecture: 's390x' }]);
  });

  it('pages the catalog and the tags with n and Link', async () => {
    const image = buildImage();
    for (const repo of ['page/a', 'page/b', 'page/c']) await pushBuilt(registry.url, repo, image, 'v1');
    for (const tag of ['t1', 't2', 't3', 't4', 't5']) await pushManifest(registry.url, 'page/a', tag, image);
    const first = await reg.catalogPage({ pageSize: 2 });
    assert.equal(first.kind, 'page');
    assert.equal(first.kind === 'page' && first.page.items.length, 2);
    const all: string[] = [];
    for await (const page of reg.catalogPages({ pageSize: 2 })) all.push(...page.items);
    assert.ok(['page/a', 'page/b', 'page/c'].every((r) => all.includes(r)), all.join(','));
    assert.equal(new Set(all).size, all.length, 'no repository twice');
    // distribution 2.8 ignores n for tags and answers them all at once, unsorted: one page, no next.
    const tags: string[] = [];
    let pages = 0;
    for await (const page of reg.tagsPages('page/a', { pageSize: 2 })) {
      pages++;
      tags.push(...page.items);
    }
    if (server.berth) assert.deepEqual({ tags, pages }, { tags: ['t1', 't2', 't3', 't4', 't5', 'v1'], pages: 3 });
    else assert.deepEqual({ tags: tags.sort(), pages }, { tags: ['t1', 't2', 't3', 't4', 't5', 'v1'], pages: 1 });
  });

  it('retags remotely with the same bytes and digest', async () => {
    const image = buildImage();
    await pushBuilt(registry.url, 'retag/app', image, 'v1');
    const digest = await reg.retag('retag/app', 'v1', 'stable');
    assert.equal(digest, image.digest);
    assert.equal((await reg.headManifest('retag/app', 'stable')).digest, image.digest);
  });

  it('deletes a manifest by resolving its tag to the digest', async () => {
    const image = buildImage();
    await pushBuilt(registry.url, 'del/app', image, 'v1');
    const r = await reg.deleteManifest('del/app', 'v1');
    assert.deepEqual(r, { deleted: 'manifest', digest: image.digest });
    await assert.rejects(reg.headManifest('del/app', image.digest), (e) => isRegistryError(e, 'not-found'));
  });

  if (!server.berth) it('reports that distribution deletes tags only through their manifest', async () => {
    const image = buildImage();
    await pushBuilt(registry.url, 'deltag/app', image, 'v1');
    await assert.rejects(reg.deleteTag('deltag/app', 'v1'), (e) => isRegistryError(e, 'unsupported') && /Delete the manifest instead/.test(e.message));
    assert.equal((await reg.headManifest('deltag/app', 'v1')).digest, image.digest, 'the tag is still there');
  });

  if (!server.berth) it('finds referrers through the sha256-<hex> tag when the API is absent', async () => {
    const image = buildImage();
    await pushBuilt(registry.url, 'refs/app', image, 'v1');
    const sbom = buildArtifact({ subject: image.descriptor, artifactType: 'application/vnd.example.sbom' });
    await pushBuilt(registry.url, 'refs/app', sbom);
    assert.deepEqual(await reg.referrers('refs/app', image.digest), { descriptors: [], source: 'none' });
    const fallback = buildIndex({ images: [] });
    const fallbackIndex = { ...fallback.manifest, manifests: [{ ...sbom.descriptor, artifactType: 'application/vnd.example.sbom' }] };
    const bytes = Buffer.from(JSON.stringify(fallbackIndex));
    await reg.putManifest('refs/app', `sha256-${image.digest.slice(7)}`, bytes, MediaType.ociIndex);
    const found = await reg.referrers('refs/app', image.digest, { artifactType: 'application/vnd.example.sbom' });
    assert.equal(found.source, 'tag');
    assert.deepEqual(found.descriptors.map((d) => d.digest), [sbom.digest]);
  });

  it('answers not-found for a missing tag and repository with an actionable message', async () => {
    await assert.rejects(reg.headManifest('nope/app', 'v1'), (e) => isRegistryError(e, 'not-found') && /Check the repository name/.test(e.message));
    await assert.rejects(reg.tagsPage('nope/app'), (e) => isRegistryError(e, 'not-found') && e.code === 'NAME_UNKNOWN');
  });

  it('reports an unreachable registry as unreachable', async () => {
    const gone = new RegistryClient({ retry: { maxRetries: 0 } });
    await assert.rejects(gone.registry('127.0.0.1:1').checkCredentials(), (e) => isRegistryError(e, 'unreachable') && /127\.0\.0\.1:1/.test(e.message));
  });

  it('stops a call when its AbortSignal fires', async () => {
    const controller = new AbortController();
    controller.abort();
    await assert.rejects(reg.tagsPage('page/a', { signal: controller.signal }), (e) => isRegistryError(e, 'aborted'));
  });
});
