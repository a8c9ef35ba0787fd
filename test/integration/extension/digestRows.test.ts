/**
 * Digest and platform rows as the tree shows them, against the embedded registry behind a proxy that
 * counts requests: a short digest, and the image size (config + layers) rather than a manifest's bytes.
 */
import { strict as assert } from 'node:assert';
import type { ManifestNode, PlatformNode, RegistryTreeNode, TagNode } from '../../../src/views/nodes';
import { treeItemSpec } from '../../../src/views/treeItems';
import { startBerthRegistry, type BerthRegistry } from '../../support/berthRegistry';
import { buildImage, buildIndex, MULTI_PLATFORMS, pushBuilt, randomLayer, type BuiltImage } from '../../support/ociImage';
import { countedTree, type CountedTree } from './countedTree';

const NOW = Date.UTC(2026, 0, 1);
const imageBytes = (image: BuiltImage): number => image.config.bytes.length + image.layers.reduce((sum, l) => sum + l.bytes.length, 0);
const rowText = (n: RegistryTreeNode): string => {
  const spec = treeItemSpec(n, NOW);
  return spec.description ? `${spec.label} · ${spec.description}` : spec.label;
};

describe('digest and platform rows: short digest, image size', function () {
  this.timeout(180_000);
  let registry: BerthRegistry;
  let counted: CountedTree;
  // Layers of different sizes per platform, so each row's size is its own.
  const images = MULTI_PLATFORMS.map((platform, i) => buildImage({ platform, layers: [randomLayer(10_000 * (i + 1)), randomLayer(5_000)] }));
  const index = buildIndex({ images });
  const single = buildImage({ layers: [randomLayer(123_456)] });

  before(async () => {
    registry = await startBerthRegistry();
    await pushBuilt(registry.url, 'rows/multi', index, '1.0');
    await pushBuilt(registry.url, 'rows/single', single, '1.0');
    counted = await countedTree(registry.url, { tagOrder: () => 'semver', pageSize: () => 100 });
  });
  after(async () => {
    await counted?.stop();
    await registry?.stop();
  });

  async function digestRow(repository: string): Promise<ManifestNode> {
    const [tag] = await counted.tree.getChildren(await counted.repository(repository));
    assert.ok(tag?.kind === 'tag');
    const [manifest] = await counted.tree.getChildren(tag as TagNode);
    assert.ok(manifest?.kind === 'manifest');
    return manifest;
  }

  it('a single-platform image: the short digest and its config + layers, from the manifest already read for the row', async () => {
    counted.proxy.requests.length = 0;
    const row = await digestRow('rows/single');
    const spec = treeItemSpec(row, NOW);
    assert.equal(spec.label, single.digest.slice(0, 'sha256:'.length + 12));
    assert.equal(row.totalSize, imageBytes(single));
    assert.match(spec.description ?? '', /^1\d\d KB$/);
    assert.match(spec.tooltip ?? '', new RegExp(single.digest));
    assert.equal(counted.proxy.count('GET', /^\/v2\/rows\/single\/manifests\//), 1, 'one manifest read for the tag and its row');
    assert.equal(counted.proxy.count('GET', /^\/v2\/rows\/single\/blobs\//), 0);
  });

  it('an index: the row counts its platforms; each platform row shows its own image size, read once by digest', async () => {
    const row = await digestRow('rows/multi');
    assert.equal(rowText(row), `${index.digest.slice(0, 19)} · index · 3 platforms`);
    counted.proxy.requests.length = 0;
    const platforms = (await counted.tree.getChildren(row)).filter((c): c is PlatformNode => c.kind === 'platform');
    assert.deepEqual(platforms.map((p) => [p.platform, p.imageSize]), images.map((image, i) => [['linux/amd64', 'linux/arm64/v8', 'linux/arm/v7'][i], imageBytes(image)]));
    assert.deepEqual(platforms.map(rowText), [
      `linux/amd64 · ${images[0]?.digest.slice(0, 19)} · 15 KB`,
      `linux/arm64/v8 · ${images[1]?.digest.slice(0, 19)} · 25 KB`,
      `linux/arm/v7 · ${images[2]?.digest.slice(0, 19)} · 35 KB`,
    ]);
    assert.equal(counted.proxy.count('GET', /^\/v2\/rows\/multi\/manifests\/sha256:/), 3, 'each platform manifest read once');

    counted.proxy.requests.length = 0;
    counted.tree.refresh(row);
    await counted.tree.getChildren(row);
    assert.equal(counted.proxy.count('GET', /^\/v2\/rows\/multi\/manifests\//), 0, 'a platform manifest never changes under its digest: not read again');
  });
});
