/**
 * The repository row's menu (Delete Repository, Filter Tags, Pull and Copy asking which tag) and
 * emptied repositories leaving the tree, on the embedded registry and on distribution: the commands
 * run against the real tree data, as the extension wires them.
 */
import { strict as assert } from 'node:assert';
import { ClientRegistryApi } from '../../../src/app/clientRegistryApi';
import type { TreeControl } from '../../../src/app/ports';
import type { RegistryEntry } from '../../../src/app/registryEntry';
import { runCommand } from '../../../src/commands/command';
import { copyToRegistry } from '../../../src/commands/copyToRegistry';
import { deleteImage } from '../../../src/commands/deleteImage';
import { deleteRepository } from '../../../src/commands/deleteRepository';
import { filterTags } from '../../../src/commands/filterTags';
import type { RegistryNode, RegistryTreeNode, RepositoryNode, TagNode } from '../../../src/views/nodes';
import { RegistryTreeData } from '../../../src/views/registryTreeData';
import { startBerthRegistry } from '../../support/berthRegistry';
import { startDistribution } from '../../support/distribution';
import { buildImage, listTags, pushBuilt } from '../../support/ociImage';
import type { RunningRegistry } from '../../support/proc';
import { testDeps, type TestDeps } from '../../unit/fakes/deps';
import type { Answer } from '../../unit/fakes/ui';

const label = (n: RegistryTreeNode): string => (n.kind === 'repository' ? n.name : n.kind === 'tag' ? n.tag : n.kind === 'message' ? `[${n.message}]` : n.kind);

interface Setup {
  deps: TestDeps;
  tree: RegistryTreeData;
  registryNode(): Promise<RegistryNode>;
  /** The rows under the registry, as the view shows them. */
  rows(): Promise<string[]>;
  repository(name: string): Promise<RepositoryNode>;
}

/** Command deps whose tree is the real RegistryTreeData, wired the way extension.ts wires it. */
async function setup(reg: RunningRegistry, answers: Answer[], others: RunningRegistry[] = []): Promise<Setup> {
  const deps = testDeps(answers, { state: 'stopped' });
  const entryOf = (r: RunningRegistry): RegistryEntry => ({ id: r.host, label: r.host, server: r.host, preset: 'local', insecureHttp: true });
  for (const r of [reg, ...others]) await deps.store.save(entryOf(r));
  const api = new ClientRegistryApi({ store: deps.store, localEntry: () => deps.local.entry() });
  deps.registry = async () => api;
  const tree = new RegistryTreeData({ store: deps.store, local: deps.local, settings: { ...deps.settings, pageSize: () => 2 }, registry: async () => api });
  const control: TreeControl = {
    refresh: (n) => tree.refresh(n),
    loadMore: (n) => tree.loadMore(n as RegistryTreeNode),
    setFilter: (id, f, s) => tree.setFilter(id, f, s),
    filterOf: (id) => tree.filterOf(id),
    setTagFilter: (id, r, f) => tree.setTagFilter(id, r, f),
    tagFilterOf: (id, r) => tree.tagFilterOf(id, r),
    repositoryEmptied: (id, r) => tree.repositoryEmptied(id, r),
    refreshLocalImages: () => undefined,
  };
  deps.tree = Object.assign(deps.tree, control);
  const registryNode = async (): Promise<RegistryNode> => {
    const node = (await tree.getChildren()).find((n): n is RegistryNode => n.kind === 'registry' && n.registry.id === reg.host);
    assert.ok(node);
    return node;
  };
  /** Every row under the registry, "Load more…" followed to the end. */
  const rows = async (): Promise<string[]> => {
    const node = await registryNode();
    let children = await tree.getChildren(node);
    for (let i = 0; i < 20 && children.at(-1)?.kind === 'loadMore'; i++) {
      await tree.loadMore(children.at(-1) as RegistryTreeNode);
      children = await tree.getChildren(node);
    }
    // Let the tree settle what it learnt while listing.
    await new Promise((r) => setImmediate(r));
    return (await tree.getChildren(node)).map(label).filter((l) => l !== 'loadMore');
  };
  const repository = async (name: string): Promise<RepositoryNode> => {
    await rows();
    const found = (await tree.getChildren(await registryNode())).find((n): n is RepositoryNode => n.kind === 'repository' && n.name === name);
    assert.ok(found, `a row for ${name}`);
    return found;
  };
  return { deps, tree, registryNode, rows, repository };
}

const REGISTRIES: Array<{ name: string; start: () => Promise<RunningRegistry> }> = [
  { name: 'the embedded registry', start: () => startBerthRegistry() },
  { name: 'distribution (registry:2)', start: () => startDistribution({ deleteEnabled: true }) },
];

for (const target of REGISTRIES) {
  describe(`repository menu on ${target.name}`, () => {
    let reg: RunningRegistry;
    before(async () => {
      reg = await target.start();
    });
    after(async () => {
      await reg?.stop();
    });

    it('Delete Repository names how many tags and manifests it deletes, deletes them all, and the repository leaves the tree', async () => {
      const shared = buildImage();
      for (const tag of ['1.0', 'latest']) await pushBuilt(reg.url, 'doomed/app', shared, tag);
      await pushBuilt(reg.url, 'doomed/app', buildImage(), '2.0');
      await pushBuilt(reg.url, 'kept/app', buildImage(), '1.0');
      const s = await setup(reg, [{ button: 'Delete Repository' }]);
      assert.ok((await s.rows()).includes('doomed/app'));
      await runCommand(deleteRepository, s.deps, [await s.repository('doomed/app')]);
      assert.deepEqual(s.deps.ui.messages('error'), []);
      const [question] = s.deps.ui.messages('warn');
      assert.equal(question, `Delete the repository doomed/app from ${reg.host}? It has 3 tags (2 manifests).`);
      assert.deepEqual(await listTags(reg.url, 'doomed/app').catch(() => []), []);
      const rows = await s.rows();
      assert.ok(!rows.includes('doomed/app'), `gone from the tree: ${rows.join(', ')}`);
      assert.ok(rows.includes('kept/app'));
      assert.equal(s.deps.ui.messages('info')[0], `Deleted the repository doomed/app from ${reg.host}: 3 tags (2 manifests).`);
      s.tree.dispose();
    });

    it('deleting the last tag takes the repository out of the tree, and a later push brings it back on refresh', async () => {
      await pushBuilt(reg.url, 'single/app', buildImage(), 'only');
      // distribution deletes by digest only: its refusal of the tag leads to the manifest's delete.
      const s = await setup(reg, [{ button: 'Delete' }, { button: 'Delete Manifest' }]);
      const repo = await s.repository('single/app');
      const tag = (await s.tree.getChildren(repo)).find((n): n is TagNode => n.kind === 'tag' && n.tag === 'only');
      assert.ok(tag);
      await runCommand(deleteImage, s.deps, [tag]);
      assert.deepEqual(s.deps.ui.messages('error'), []);
      assert.match(s.deps.ui.messages('info')[0] ?? '', /single\/app has no tags left, so it is no longer listed\.$/);
      assert.ok(!(await s.rows()).includes('single/app'), 'gone from the tree');
      await pushBuilt(reg.url, 'single/app', buildImage(), 'again');
      s.tree.refresh(await s.registryNode());
      assert.ok((await s.rows()).includes('single/app'), 'listed again after a refresh');
      s.tree.dispose();
    });

    it('a hidden empty repository comes back when the registry reports a push to it, and stays hidden on other events', async () => {
      await pushBuilt(reg.url, 'evented/app', buildImage(), 'x');
      const s = await setup(reg, [{ button: 'Delete' }, { button: 'Delete Manifest' }]);
      const repo = await s.repository('evented/app');
      const tag = (await s.tree.getChildren(repo)).find((n): n is TagNode => n.kind === 'tag');
      await runCommand(deleteImage, s.deps, [tag]);
      assert.ok(!(await s.rows()).includes('evented/app'));
      const changed = (): Promise<void> => new Promise((resolve) => {
        const sub = s.tree.onDidChange(() => {
          sub.dispose();
          resolve();
        });
      });
      // An event with nothing pushed (the delete's own): still empty, still hidden.
      let next = changed();
      s.tree.refreshRepository(reg.host, 'evented/app');
      await next;
      assert.ok(!(await s.rows()).includes('evented/app'));
      await pushBuilt(reg.url, 'evented/app', buildImage(), 'y');
      next = changed();
      s.tree.refreshRepository(reg.host, 'evented/app');
      await next;
      assert.ok((await s.rows()).includes('evented/app'));
      s.tree.dispose();
    });

    it('a repository found empty when opened is not listed on the next look', async () => {
      await pushBuilt(reg.url, 'hollow/app', buildImage(), 'x');
      const s = await setup(reg, []);
      const repo = await s.repository('hollow/app');
      // Emptied behind Berth's back (another client), as distribution leaves it: still in the catalog.
      const digest = (await fetch(`${reg.url}/v2/hollow/app/manifests/x`, { method: 'HEAD', headers: { Accept: 'application/vnd.oci.image.manifest.v1+json' } })).headers.get('docker-content-digest');
      assert.equal((await fetch(`${reg.url}/v2/hollow/app/manifests/${digest}`, { method: 'DELETE' })).status, 202);
      s.tree.refresh(repo);
      assert.deepEqual((await s.tree.getChildren(repo)).map(label), ['[No tags]']);
      assert.ok(!(await s.rows()).includes('hollow/app'));
      s.tree.dispose();
    });

    it('Filter Tags shows the matching tags of the whole list (past the first page) with a count, and an empty answer shows all again', async () => {
      const img = buildImage();
      for (const tag of ['1.0', '1.1', '2.0', '2.1', 'latest']) await pushBuilt(reg.url, 'many/tags', img, tag);
      const s = await setup(reg, [{ input: '2.*' }, { input: '' }]);
      const repo = await s.repository('many/tags');
      await runCommand(filterTags, s.deps, [repo]);
      assert.deepEqual((await s.tree.getChildren(repo)).map(label), ['[2 of 5 tags match "2.*"]', '2.1', '2.0']);
      assert.equal(repo.tagFilter, '2.*', 'the repository row says it is filtered');
      // Clicking the count row asks again, with the current filter.
      const summary = (await s.tree.getChildren(repo))[0];
      assert.equal(summary?.kind === 'message' ? summary.action?.command : undefined, 'berth.repository.filterTags');
      await runCommand(filterTags, s.deps, [summary]);
      assert.equal((s.deps.ui.shown.at(-1)?.options as { value?: string }).value, '2.*', 'asks with the current filter');
      assert.equal(repo.tagFilter, undefined);
      const cleared = (await s.tree.getChildren(repo)).map(label);
      // distribution ignores `n` on tag lists and answers them whole; the embedded registry pages them.
      assert.ok(cleared.includes('1.0') || cleared.at(-1) === 'loadMore', `unfiltered: ${cleared.join(', ')}`);
      assert.ok(!cleared.some((l) => l.startsWith('[')), 'no filter summary once cleared');
      s.tree.dispose();
    });
  });
}

describe('repository menu: Delete Repository on a registry that refuses deletes', () => {
  let reg: RunningRegistry;
  before(async () => {
    reg = await startDistribution({ deleteEnabled: false });
    await pushBuilt(reg.url, 'locked/app', buildImage(), 'v1');
  });
  after(async () => {
    await reg?.stop();
  });

  it('says why (deletion disabled, and where to turn it on), and the repository and its tag stay', async () => {
    const s = await setup(reg, [{ button: 'Delete Repository' }]);
    await runCommand(deleteRepository, s.deps, [await s.repository('locked/app')]);
    assert.equal(s.deps.ui.messages('error')[0], `${reg.host} refuses deletes: deletion is disabled in its configuration (for registry:2, set storage.delete.enabled: true).`);
    assert.deepEqual(await listTags(reg.url, 'locked/app'), ['v1']);
    assert.ok((await s.rows()).includes('locked/app'));
    s.tree.dispose();
  });
});

describe('repository menu: Copy to Another Registry asks which tags, latest first', () => {
  let from: RunningRegistry;
  let to: RunningRegistry;
  before(async () => {
    from = await startBerthRegistry();
    to = await startDistribution();
    const img = buildImage();
    // With two tags per page, `latest` is on the second page.
    for (const tag of ['0.9', '1.0', 'latest']) await pushBuilt(from.url, 'src/app', img, tag);
  });
  after(async () => {
    await from?.stop();
    await to?.stop();
  });

  it('copies the picked tags of the repository to the other registry, each under its own name, digests unchanged', async () => {
    const s = await setup(from, [{ pickMany: ['latest', '1.0'] }, { pick: to.host }, { input: 'dst/app' }], [to]);
    await runCommand(copyToRegistry, s.deps, [await s.repository('src/app')]);
    assert.deepEqual(s.deps.ui.messages('error'), []);
    const tagPick = s.deps.ui.shown.find((x) => x.kind === 'pickMany');
    assert.equal(tagPick?.text, 'Copy to Another Registry: which tags of src/app?');
    assert.deepEqual(tagPick?.items, ['latest', '0.9', '1.0'], 'every tag offered, latest first though the registry lists it last');
    assert.deepEqual((await listTags(to.url, 'dst/app')).sort(), ['1.0', 'latest']);
    const digest = async (url: string, repo: string): Promise<string | null> =>
      (await fetch(`${url}/v2/${repo}/manifests/1.0`, { method: 'HEAD', headers: { Accept: 'application/vnd.oci.image.manifest.v1+json' } })).headers.get('docker-content-digest');
    assert.equal(await digest(to.url, 'dst/app'), await digest(from.url, 'src/app'));
    assert.equal(s.deps.ui.messages('info')[0], `Copied latest, 1.0 of src/app to ${to.host}/dst/app.`);
    assert.match(s.deps.ui.progress.map((p) => p.message).join('\n'), /tag 2 of 2 \(1\.0\) · \d+ blobs · /);
    s.tree.dispose();
  });
});
