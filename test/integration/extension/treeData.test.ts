/**
 * The Registries tree's data against the real local registry process and a real client:
 * welcome when empty, paging, platforms, targeted refresh after a push, state changes, errors.
 */
import { strict as assert } from 'node:assert';
import { ClientRegistryApi } from '../../../src/app/clientRegistryApi';
import { MementoRegistryStore } from '../../../src/app/registryStore';
import type { LocalRegistryControl } from '../../../src/app/ports';
import type { LocalRegistry } from '../../../src/local/localRegistry';
import type { RegistryNode, RegistryTreeNode } from '../../../src/views/nodes';
import type { RegistryEntry } from '../../../src/app/registryEntry';
import { RegistryTreeData } from '../../../src/views/registryTreeData';
import { buildImage, buildIndex, pushBuilt } from '../../support/ociImage';
import { freePort, removeDir, tempDir, waitFor } from '../../support/proc';
import { FakeMemento, FakeSecretStorage } from '../../unit/fakes/storage';
import { localManager } from '../local/manager';

const label = (n: RegistryTreeNode): string => {
  switch (n.kind) {
    case 'registry': return n.registry.label;
    case 'repository': return n.name;
    case 'tag': return n.tag;
    case 'manifest': return n.digest;
    case 'platform': return n.platform;
    case 'referrers': return 'Referrers';
    case 'artifact': return n.artifact.label;
    case 'loadMore': return 'Load more…';
    case 'message': return `[${n.message}]`;
  }
};

describe('registry tree data on the real local registry', () => {
  let dir: string;
  let port: number;
  let registry: LocalRegistry;
  let tree: RegistryTreeData;
  let store: MementoRegistryStore;
  const changes: Array<RegistryTreeNode | undefined> = [];
  const url = (): string => `http://127.0.0.1:${port}`;

  before(async () => {
    dir = tempDir('tree-data');
    port = await freePort();
    registry = localManager({ dir, port });
    store = new MementoRegistryStore(new FakeMemento(), new FakeSecretStorage());
    const localEntry = (): RegistryEntry => ({ id: 'local', label: 'Local registry', server: `127.0.0.1:${port}`, preset: 'local', insecureHttp: true });
    const local: LocalRegistryControl = {
      status: () => registry.status(), entry: localEntry, start: () => registry.start(), stop: () => registry.stop(), restart: () => registry.restart(),
      storagePath: () => dir, showLogs: () => undefined, gc: (d) => registry.gc(d), onDidChangeState: (l) => registry.onDidChangeState(l),
    };
    const api = new ClientRegistryApi({ store, localEntry });
    tree = new RegistryTreeData({ store, local, settings: { tagOrder: () => 'semver', pageSize: () => 2, notifyOnPush: () => false, setLocalPort: async () => 'User settings' }, registry: async () => api });
    tree.onDidChange((n) => changes.push(n));
  });
  after(async () => {
    tree.dispose();
    await registry.stop();
    registry.dispose();
    removeDir(dir);
  });

  it('is empty (the welcome shows) while nothing is connected and the local registry is stopped', async () => {
    assert.deepEqual(await tree.getChildren(), []);
  });

  it('shows the local registry first once it runs, its repositories a page at a time with "Load more…"', async () => {
    await registry.start();
    for (const name of ['a/one', 'b/two', 'c/three']) await pushBuilt(url(), name, buildImage(), '1.0');
    const [local] = await tree.getChildren();
    assert.ok(local?.kind === 'registry' && local.local?.state === 'running');
    assert.deepEqual((await tree.getChildren(local)).map(label), ['a/one', 'b/two', 'Load more…']);
    changes.length = 0;
    await tree.loadMore((await tree.getChildren(local)).at(-1) as RegistryTreeNode);
    assert.equal(changes[0], local, 'the registry element itself is refreshed');
    assert.deepEqual((await tree.getChildren(local)).map(label), ['a/one', 'b/two', 'c/three']);
  });

  it('goes repository → tag → digest → one node per platform', async () => {
    const index = buildIndex();
    await pushBuilt(url(), 'multi/app', index, '2.0');
    const [local] = await tree.getChildren();
    tree.refresh(local);
    let repo: RegistryTreeNode | undefined;
    for (let i = 0; i < 5 && !repo; i++) {
      const children = await tree.getChildren(local);
      repo = children.find((c) => c.kind === 'repository' && c.name === 'multi/app');
      const more = children.find((c) => c.kind === 'loadMore');
      if (!repo && more) await tree.loadMore(more);
    }
    assert.ok(repo);
    const [tag] = await tree.getChildren(repo);
    assert.equal(tag && label(tag), '2.0');
    const [manifest] = await tree.getChildren(tag);
    assert.ok(manifest?.kind === 'manifest');
    assert.equal(manifest.digest, index.digest);
    assert.deepEqual((await tree.getChildren(manifest)).map(label), ['linux/amd64', 'linux/arm64/v8', 'linux/arm/v7']);
  });

  it('a registry event refreshes just that repository node, which then shows the new tag', async () => {
    const [local] = await tree.getChildren();
    const repo = (await tree.getChildren(local)).find((c) => c.kind === 'repository' && c.name === 'a/one');
    assert.ok(repo);
    assert.deepEqual((await tree.getChildren(repo)).map(label), ['1.0']);
    await pushBuilt(url(), 'a/one', buildImage(), '1.1');
    changes.length = 0;
    tree.refreshRepository('local', 'a/one');
    tree.refreshRepository('local', 'a/one');
    await waitFor('the debounced refresh', async () => (changes.length ? true : undefined), 5_000, 50);
    assert.deepEqual(changes, [repo], 'one refresh, for the repository element');
    // A full page may end with "Load more…" (the registry sends a next link when it filled the page).
    assert.deepEqual((await tree.getChildren(repo)).map(label).slice(0, 2), ['1.1', '1.0']);
  });

  it('an event older than the last listing changes nothing on screen (no row moves under the pointer)', async () => {
    const [local] = await tree.getChildren();
    const repo = (await tree.getChildren(local)).find((c) => c.kind === 'repository' && c.name === 'b/two');
    assert.ok(repo);
    const before = Date.now() - 1000;
    tree.refresh(repo);
    await tree.getChildren(repo);
    changes.length = 0;
    tree.refreshRepository('local', 'b/two', before);
    await new Promise((r) => setTimeout(r, 800));
    assert.deepEqual(changes, []);
    tree.refreshRepository('local', 'b/two', Date.now() + 1000);
    await waitFor('the refresh for a newer change', async () => (changes.length ? true : undefined), 5_000, 50);
    assert.deepEqual(changes, [repo]);
  });

  it('stopping the registry refreshes its node, which offers to start it again', async () => {
    const [local] = await tree.getChildren();
    changes.length = 0;
    await registry.stop();
    assert.ok(changes.includes(local), 'the local registry element was refreshed');
    assert.equal((local as RegistryNode).local?.state, 'stopped');
    const children = await tree.getChildren(local);
    assert.deepEqual(children.map(label), ['[Stopped: Start the local registry]']);
    assert.equal(children[0]?.kind === 'message' && children[0].action?.command, 'berth.local.start');
  });

  it('a remote registry that does not answer becomes an error node with Retry, below the local registry', async () => {
    const dead = `127.0.0.1:${await freePort()}`;
    await store.save({ id: dead, label: dead, server: dead, preset: 'generic', insecureHttp: true });
    const roots = await tree.getChildren();
    assert.deepEqual(roots.map(label), ['Local registry', dead]);
    const [err] = await tree.getChildren(roots[1]);
    assert.ok(err?.kind === 'message' && err.severity === 'error', JSON.stringify(err && label(err)));
    assert.match(err.message, /unreachable: Retry$/);
    assert.equal(err.action?.command, 'berth.registries.refresh');
  });
});
