import { strict as assert } from 'node:assert';
import pkg from '../../../package.json';
import { contextValue, parseContextValue } from '../../../src/views/contextValue';
import type { TreeNode } from '../../../src/views/nodes';
import { treeItemSpec } from '../../../src/views/treeItems';

interface MenuItem {
  command: string;
  when?: string;
}

/** Evaluates the `viewItem =~ /re/` clauses of a when-expression (all must hold) against a contextValue. */
function viewItemMatches(when: string, value: string): boolean {
  const clauses = [...when.matchAll(/viewItem =~ \/(.+?)\/(?=\s*(?:&&|$))/g)].map((m) => new RegExp(m[1] as string));
  return clauses.every((re) => re.test(value));
}

const menus = (pkg.contributes.menus as Record<string, MenuItem[]>)['view/item/context'] ?? [];
const commandsFor = (view: string, value: string): string[] =>
  [...new Set(menus.filter((m) => m.when?.includes(`view == ${view}`) && viewItemMatches(m.when, value)).map((m) => m.command))].sort();

describe('contextValue', () => {
  const table: Array<{ kind: string; flags: Record<string, boolean> | string[]; expected: string }> = [
    { kind: 'registry', flags: { running: true, local: true, remote: false }, expected: 'registry;local;running' },
    { kind: 'registry', flags: ['remote', 'nocatalog', 'connected'], expected: 'registry;connected;nocatalog;remote' },
    { kind: 'tag', flags: {}, expected: 'tag' },
    { kind: 'manifest', flags: { index: true, image: false }, expected: 'manifest;index' },
  ];
  for (const { kind, flags, expected } of table) {
    it(`builds ${expected} (kind first, set flags sorted, joined with ;)`, () => {
      assert.equal(contextValue(kind, flags), expected);
      assert.equal(parseContextValue(expected).kind, kind);
    });
  }

  it('rejects parts that would break the menus\' regexes', () => {
    assert.throws(() => contextValue('registry', ['a;b']));
    assert.throws(() => contextValue('re gistry'));
  });
});

describe('menus match the contextValues the tree builds', () => {
  const registry = { id: 'ghcr.io', label: 'GHCR', server: 'ghcr.io', preset: 'ghcr' as const };
  const localRunning: TreeNode = { kind: 'registry', registry: { ...registry, id: 'local', preset: 'local' }, local: { state: 'running', port: 5000 } };
  const localStopped: TreeNode = { kind: 'registry', registry: { ...registry, id: 'local', preset: 'local' }, local: { state: 'stopped' } };
  const remote: TreeNode = { kind: 'registry', registry };
  const repo: TreeNode = { kind: 'repository', parent: remote, name: 'a' };
  const tag: TreeNode = { kind: 'tag', parent: repo, tag: '1' };
  const manifest: TreeNode = { kind: 'manifest', parent: tag, digest: 'sha256:' + 'a'.repeat(64), mediaType: 'application/vnd.oci.image.manifest.v1+json', size: 1 };
  const platform: TreeNode = { kind: 'platform', parent: manifest, platform: 'linux/amd64', digest: 'sha256:' + 'b'.repeat(64), mediaType: 'x', size: 1 };
  const image: TreeNode = { kind: 'localImage', image: { id: 'sha256:' + 'c'.repeat(64), reference: 'app:1', repoTags: ['app:1'], sizeBytes: 1, createdMs: 0 } };
  const cv = (n: TreeNode): string => treeItemSpec(n, 0).contextValue;

  const table: Array<{ name: string; node: TreeNode; view: string; includes: string[]; excludes: string[] }> = [
    { name: 'running local registry', node: localRunning, view: 'berth.registries', includes: ['berth.local.stop', 'berth.local.restart', 'berth.local.gc', 'berth.local.openStorage', 'berth.registries.filter'], excludes: ['berth.local.start', 'berth.registry.disconnect', 'berth.registry.editCredentials'] },
    { name: 'stopped local registry', node: localStopped, view: 'berth.registries', includes: ['berth.local.start'], excludes: ['berth.local.stop'] },
    { name: 'remote registry', node: remote, view: 'berth.registries', includes: ['berth.registry.editCredentials', 'berth.registry.disconnect', 'berth.registry.configureTls', 'berth.registry.dockerLogin', 'berth.registry.copyPullSecret', 'berth.registry.addRepository'], excludes: ['berth.local.start', 'berth.local.gc'] },
    { name: 'repository', node: repo, view: 'berth.registries', includes: ['berth.tag.pull', 'berth.repository.filterTags', 'berth.tag.copyToRegistry', 'berth.repository.delete', 'berth.registries.refresh'], excludes: ['berth.tag.delete', 'berth.tag.copyDigest', 'berth.registry.disconnect'] },
    { name: 'tag', node: tag, view: 'berth.registries', includes: ['berth.tag.pull', 'berth.tag.delete', 'berth.tag.retag', 'berth.tag.inspect', 'berth.tag.copyReference', 'berth.tag.copyDigest', 'berth.tag.copyPullCommand', 'berth.tag.copyToRegistry'], excludes: ['berth.registry.disconnect', 'berth.repository.delete', 'berth.repository.filterTags'] },
    { name: 'manifest', node: manifest, view: 'berth.registries', includes: ['berth.tag.delete', 'berth.tag.inspect'], excludes: [] },
    { name: 'platform', node: platform, view: 'berth.registries', includes: ['berth.tag.inspect', 'berth.tag.pull'], excludes: ['berth.tag.delete', 'berth.tag.retag'] },
    { name: 'local image', node: image, view: 'berth.localImages', includes: ['berth.localImage.retagAndPush', 'berth.localImage.push', 'berth.localImage.tag', 'berth.localImage.remove'], excludes: ['berth.tag.pull', 'berth.repository.delete'] },
  ];
  for (const { name, node, view, includes, excludes } of table) {
    it(`${name} (${cv(node)}) gets exactly its actions`, () => {
      const got = commandsFor(view, cv(node));
      for (const c of includes) assert.ok(got.includes(c), `${c} missing from ${got.join(', ')}`);
      for (const c of excludes) assert.ok(!got.includes(c), `${c} should not be offered`);
    });
  }
});
