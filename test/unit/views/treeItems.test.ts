import { strict as assert } from 'node:assert';
import type { TreeNode } from '../../../src/views/nodes';
import { treeItemSpec } from '../../../src/views/treeItems';
import { formatAge, formatBytes } from '../../../src/views/format';

const NOW = Date.UTC(2026, 0, 10);
const remote: TreeNode = { kind: 'registry', registry: { id: 'ghcr.io', label: 'GHCR', server: 'ghcr.io', preset: 'ghcr', username: 'me' } };

describe('tree items', () => {
  const table: Array<{ name: string; node: TreeNode; label: string; description?: string; collapsible: string; command?: string }> = [
    { name: 'running local registry shows its port', node: { kind: 'registry', registry: { id: 'local', label: 'Local registry', server: '127.0.0.1:5000', preset: 'local' }, local: { state: 'running', port: 5000 } }, label: 'Local registry', description: 'running on :5000', collapsible: 'collapsed' },
    { name: 'stopped local registry says so', node: { kind: 'registry', registry: { id: 'local', label: 'Local registry', server: '127.0.0.1:5000', preset: 'local' }, local: { state: 'stopped' } }, label: 'Local registry', description: 'stopped', collapsible: 'collapsed' },
    { name: 'remote registry shows the user', node: remote, label: 'GHCR', description: 'me', collapsible: 'collapsed' },
    { name: 'load more runs the load-more command', node: { kind: 'loadMore', parent: { kind: 'registry', registry: { id: 'x', label: 'x', server: 'x', preset: 'generic' } }, loaded: 100 }, label: 'Load more…', description: '100 shown', collapsible: 'none', command: 'berth.registries.loadMore' },
    { name: 'an error node runs its fix', node: { kind: 'message', parent: { kind: 'registry', registry: { id: 'x', label: 'x', server: 'x', preset: 'generic' } }, severity: 'error', message: 'Not signed in (401): Sign in again', action: { title: 'Sign in again', command: 'berth.registry.editCredentials' } }, label: 'Not signed in (401): Sign in again', collapsible: 'none', command: 'berth.registry.editCredentials' },
    { name: 'untagged local image', node: { kind: 'localImage', image: { id: 'sha256:' + 'ab'.repeat(32), repoTags: [], sizeBytes: 1_500_000, createdMs: NOW - 3 * 86_400_000 } }, label: '<none> sha256:abababababab', description: '1.5 MB · 3 days ago', collapsible: 'none' },
  ];
  for (const t of table) {
    it(t.name, () => {
      const spec = treeItemSpec(t.node, NOW);
      assert.equal(spec.label, t.label);
      if (t.description !== undefined) assert.equal(spec.description, t.description);
      assert.equal(spec.collapsible, t.collapsible);
      assert.equal(spec.command?.command, t.command);
      if (spec.command) assert.deepEqual(spec.command.arguments, [t.node]);
    });
  }

  it('gives every element a stable id that differs between siblings', () => {
    const repo: TreeNode = { kind: 'repository', parent: remote as Extract<TreeNode, { kind: 'registry' }>, name: 'a' };
    const t1: TreeNode = { kind: 'tag', parent: repo, tag: '1' };
    const t2: TreeNode = { kind: 'tag', parent: repo, tag: '2' };
    assert.equal(treeItemSpec(t1, NOW).id, treeItemSpec({ ...t1 }, NOW).id);
    assert.notEqual(treeItemSpec(t1, NOW).id, treeItemSpec(t2, NOW).id);
  });

  it('an index manifest expands to its platforms; an image manifest shows its total size', () => {
    const repo: TreeNode = { kind: 'repository', parent: remote as Extract<TreeNode, { kind: 'registry' }>, name: 'a' };
    const tag = { kind: 'tag' as const, parent: repo, tag: '1' };
    const index = treeItemSpec({ kind: 'manifest', parent: tag, digest: 'sha256:' + '1'.repeat(64), mediaType: 'application/vnd.oci.image.index.v1+json', size: 10, platforms: [] }, NOW);
    const image = treeItemSpec({ kind: 'manifest', parent: tag, digest: 'sha256:' + '2'.repeat(64), mediaType: 'application/vnd.oci.image.manifest.v1+json', size: 10, totalSize: 2_000_000 }, NOW);
    assert.equal(index.collapsible, 'collapsed');
    // Expanding an image manifest lists its referrers.
    assert.equal(image.collapsible, 'collapsed');
    assert.equal(image.description, '2.0 MB');
  });

  describe('digest and platform rows: a short digest, then the image size (config + layers)', () => {
    const digest = 'sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef';
    const repo = { kind: 'repository' as const, parent: remote as Extract<TreeNode, { kind: 'registry' }>, name: 'a' };
    const tag = { kind: 'tag' as const, parent: repo, tag: '1' };
    const indexNode = { kind: 'manifest' as const, parent: tag, digest, mediaType: 'application/vnd.oci.image.index.v1+json', size: 900, platforms: [] };
    const platform = { platform: 'linux/arm64/v8', digest: 'sha256:' + 'fe'.repeat(32), mediaType: 'application/vnd.oci.image.manifest.v1+json', size: 501 };
    const table: Array<{ name: string; node: TreeNode; label: string; description: string; tooltip: RegExp[] }> = [
      {
        name: 'an image: its size, with the full digest and what the size counts in the tooltip',
        node: { kind: 'manifest', parent: tag, digest, mediaType: 'application/vnd.oci.image.manifest.v1+json', size: 700, totalSize: 12_345_678 },
        label: 'sha256:0123456789ab', description: '12 MB', tooltip: [new RegExp(`^${digest}$`, 'm'), /Image size \(config \+ layers\): 12 MB \(12,345,678 bytes\)/],
      },
      {
        name: 'an index: how many platforms, each with its own size below',
        node: { ...indexNode, platforms: [platform, { ...platform, platform: 'linux/amd64' }] },
        label: 'sha256:0123456789ab', description: 'index · 2 platforms', tooltip: [new RegExp(`^${digest}$`, 'm'), /Each platform row shows its image size/],
      },
      { name: 'an index of one platform', node: { ...indexNode, platforms: [platform] }, label: 'sha256:0123456789ab', description: 'index · 1 platform', tooltip: [] },
      {
        name: 'a platform whose manifest was read: its image size, not its manifest\'s',
        node: { kind: 'platform', parent: indexNode, ...platform, imageSize: 3_100_000 },
        label: 'linux/arm64/v8', description: 'sha256:fefefefefefe · 3.1 MB', tooltip: [new RegExp(`^sha256:${'fe'.repeat(32)}$`, 'm'), /config \+ layers\): 3.1 MB/],
      },
      {
        name: 'a platform whose manifest could not be read: no size rather than the wrong one',
        node: { kind: 'platform', parent: indexNode, ...platform },
        label: 'linux/arm64/v8', description: 'sha256:fefefefefefe', tooltip: [/Manifest: 501 B/],
      },
    ];
    for (const t of table) {
      it(t.name, () => {
        const spec = treeItemSpec(t.node, NOW);
        assert.equal(spec.label, t.label);
        assert.equal(spec.description, t.description);
        for (const re of t.tooltip) assert.match(spec.tooltip ?? '', re);
      });
    }

    it('keeps the full digest in the row id, so two digests with the same first twelve digits stay two rows', () => {
      const other = `${digest.slice(0, -1)}0`;
      const a = treeItemSpec({ kind: 'manifest', parent: tag, digest, mediaType: 'application/vnd.oci.image.manifest.v1+json', size: 1 }, NOW);
      const b = treeItemSpec({ kind: 'manifest', parent: tag, digest: other, mediaType: 'application/vnd.oci.image.manifest.v1+json', size: 1 }, NOW);
      assert.equal(a.label, b.label);
      assert.notEqual(a.id, b.id);
    });
  });
});

describe('formats', () => {
  const bytes: Array<[number, string]> = [[0, '0 B'], [999, '999 B'], [1000, '1.0 KB'], [12_345_678, '12 MB'], [3e9, '3.0 GB']];
  for (const [input, expected] of bytes) it(`${input} bytes → ${expected}`, () => assert.equal(formatBytes(input), expected));
  const ages: Array<[number, string]> = [[1000, '1 second ago'], [120_000, '2 minutes ago'], [86_400_000, '1 day ago'], [400 * 86_400_000, '1 year ago']];
  for (const [ms, expected] of ages) it(`${ms} ms → ${expected}`, () => assert.equal(formatAge(NOW - ms, NOW), expected));
});
