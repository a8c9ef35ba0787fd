import { strict as assert } from 'node:assert';
import type { ImageIndex, ImageManifest } from '../../../src/oci/types';
import type { LocalStatus } from '../../../src/app/ports';
import type { RegistryNode, RepositoryNode, TagNode } from '../../../src/views/nodes';
import {
  appendPage,
  errorNode,
  failListing,
  Fix,
  localStateChildren,
  manifestNode,
  matchesFilter,
  platformChildren,
  repositoryChildren,
  revealMore,
  shownTags,
  tagChildren,
  tagListing,
} from '../../../src/views/treeModel';
import { sortTags, type TagOrder } from '../../../src/views/tagOrder';
import { RegistryError } from '../../../src/client/errors';

const remote = (): RegistryNode => ({ kind: 'registry', registry: { id: 'ghcr.io', label: 'GHCR', server: 'ghcr.io', preset: 'ghcr' } });
const local = (status: LocalStatus): RegistryNode => ({ kind: 'registry', registry: { id: 'local', label: 'Local registry', server: '127.0.0.1:5000', preset: 'local' }, local: status });
const repo = (r = remote()): RepositoryNode => ({ kind: 'repository', parent: r, name: 'team/app' });
const labels = (nodes: Array<{ kind: string; name?: string; tag?: string; message?: string }>): string[] =>
  nodes.map((n) => (n.kind === 'repository' ? n.name : n.kind === 'tag' ? n.tag : n.kind === 'loadMore' ? 'Load more…' : `[${n.message}]`) ?? '');

describe('registry tree model', () => {
  describe('paging', () => {
    it('shows the first page at once with a "Load more…" node while the registry has a next page', () => {
      const listing = appendPage(undefined, { items: ['a', 'b'], next: 'cursor-2' });
      const children = repositoryChildren(remote(), listing, []);
      assert.deepEqual(labels(children), ['a', 'b', 'Load more…']);
      const more = children[2];
      assert.equal(more?.kind === 'loadMore' && more.loaded, 2);
    });

    it('appends the next page after the loaded items and drops "Load more…" on the last page', () => {
      const first = appendPage(undefined, { items: ['a', 'b'], next: 'c2' });
      const all = appendPage(first, { items: ['c', 'd'] });
      assert.deepEqual(labels(repositoryChildren(remote(), all, [])), ['a', 'b', 'c', 'd']);
    });

    it('shows an item repeated across a page boundary once', () => {
      const l = appendPage(appendPage(undefined, { items: ['a', 'b'], next: 'x' }), { items: ['b', 'c'] });
      assert.deepEqual(l.items, ['a', 'b', 'c']);
    });

    it('keeps loaded items and shows the failure of "Load more" as an error node with its fix (no second Load more)', () => {
      const first = appendPage(undefined, { items: ['a'], next: 'c2' });
      const failed = failListing(first, new RegistryError({ kind: 'unauthorized', message: 'ghcr.io refused the credentials' }));
      const children = repositoryChildren(remote(), failed, []);
      assert.deepEqual(children.map((c) => c.kind), ['repository', 'message']);
      const err = children[1];
      assert.ok(err?.kind === 'message');
      assert.equal(err.severity, 'error');
      assert.equal(err.action?.command, 'berth.registry.editCredentials');
      assert.match(err.message, /Sign in again/);
      assert.equal(err.detail, 'ghcr.io refused the credentials');
      assert.equal(failed.next, 'c2', 'the cursor is kept so a refresh can retry');
    });

    it('shows a page of tags at a time, with "Load more…" saying how many of all are shown', () => {
      const l = tagListing(['1.0', '2.0', '3.0'], 'name', 2);
      const children = tagChildren(repo(), l);
      assert.deepEqual(labels(children), ['1.0', '2.0', 'Load more…']);
      const more = children[2];
      assert.ok(more?.kind === 'loadMore');
      assert.deepEqual([more.loaded, more.total], [2, 3]);
      assert.deepEqual(labels(tagChildren(repo(), revealMore(l, 2))), ['1.0', '2.0', '3.0']);
    });
  });

  describe('error nodes offer the fix', () => {
    const cases: Array<{ name: string; err: unknown; registry: RegistryNode; command: string; title: string }> = [
      { name: '401 → sign in again', err: new RegistryError({ kind: 'unauthorized', message: 'x' }), registry: remote(), command: 'berth.registry.editCredentials', title: 'Sign in again' },
      { name: '403 → sign in again', err: new RegistryError({ kind: 'denied', message: 'x' }), registry: remote(), command: 'berth.registry.editCredentials', title: 'Sign in again' },
      { name: 'untrusted certificate → trust it', err: new RegistryError({ kind: 'tls', message: 'x' }), registry: remote(), command: 'berth.registry.configureTls', title: 'Trust this certificate…' },
      { name: 'TLS error code from node → trust it', err: Object.assign(new Error('self-signed'), { code: 'DEPTH_ZERO_SELF_SIGNED_CERT' }), registry: remote(), command: 'berth.registry.configureTls', title: 'Trust this certificate…' },
      { name: 'local registry unreachable → start it', err: Object.assign(new Error('refused'), { code: 'ECONNREFUSED' }), registry: local({ state: 'running', port: 5000 }), command: 'berth.local.start', title: 'Start the local registry' },
      { name: 'remote unreachable → retry', err: new RegistryError({ kind: 'unreachable', message: 'x' }), registry: remote(), command: 'berth.registries.refresh', title: 'Retry' },
      { name: 'anything else → retry', err: new Error('boom'), registry: remote(), command: 'berth.registries.refresh', title: 'Retry' },
    ];
    for (const c of cases) {
      it(c.name, () => {
        const node = errorNode(c.registry, c.registry, c.err);
        assert.equal(node.action?.command, c.command);
        assert.equal(node.action?.title, c.title);
        assert.ok(node.message.endsWith(c.title), node.message);
      });
    }
  });

  describe('registries without a catalog', () => {
    it('says so, lists the repositories added by name, and offers "Add Repository…" last', () => {
      const children = repositoryChildren(remote(), { items: [], noCatalog: 'ghcr.io does not list its repositories' }, ['z/app', 'a/app']);
      assert.deepEqual(labels(children), ['[This registry does not list its repositories]', 'a/app', 'z/app', '[Add Repository…]']);
      const add = children[3];
      assert.ok(add?.kind === 'message');
      assert.equal(add.action?.command, Fix.addRepository.command);
      assert.ok(children.slice(1, 3).every((c) => c.kind === 'repository' && c.remembered));
    });

    it('keeps names added by hand next to a catalog that omits them', () => {
      const children = repositoryChildren(remote(), { items: ['a'] }, ['a', 'hidden/app']);
      assert.deepEqual(labels(children), ['a', 'hidden/app']);
    });
  });

  describe('filter', () => {
    const table: Array<{ filter: string | undefined; expected: string[] }> = [
      { filter: undefined, expected: ['team-a/api', 'team-a/web', 'team-b/api'] },
      { filter: 'api', expected: ['team-a/api', 'team-b/api'] },
      { filter: 'TEAM-A', expected: ['team-a/api', 'team-a/web'] },
      { filter: 'team-*/api', expected: ['team-a/api', 'team-b/api'] },
      { filter: 'nothing', expected: ['[No repository matches "nothing"]'] },
    ];
    for (const { filter, expected } of table) {
      it(`filter ${JSON.stringify(filter)} shows ${expected.join(', ')}`, () => {
        const r = { ...remote(), ...(filter ? { filter } : {}) };
        assert.deepEqual(labels(repositoryChildren(r, { items: ['team-a/api', 'team-a/web', 'team-b/api'] }, [])), expected);
      });
    }

    it('treats regex characters in a filter literally', () => {
      assert.equal(matchesFilter('a.b', 'a.b'), true);
      assert.equal(matchesFilter('axb', 'a.*b'), false);
    });

    it('still offers "Load more…" when the loaded pages have no match', () => {
      const r = { ...remote(), filter: 'zzz' };
      assert.deepEqual(labels(repositoryChildren(r, { items: ['a'], next: 'n' }, [])), ['Load more…']);
    });
  });

  describe('tags', () => {
    it('orders tags by the setting', () => {
      const names = ['1.2.0', 'latest', 'dev', '1.10.0', 'v2.0.0'];
      assert.deepEqual(labels(tagChildren(repo(), tagListing(names, 'semver', 100))), ['latest', 'v2.0.0', '1.10.0', '1.2.0', 'dev']);
      assert.deepEqual(labels(tagChildren(repo(), tagListing(names, 'name', 100))), ['1.10.0', '1.2.0', 'dev', 'latest', 'v2.0.0']);
    });

    it('puts a release above its pre-releases, and orders pre-releases by semver precedence (rc.10 above rc.9)', () => {
      const names = ['1.0.0-rc.9', '1.0.0-alpha', '1.0.0', '1.0.0-rc.10', '1.0.0-alpha.beta', '0.9.0', '1.0.0-1'];
      assert.deepEqual(sortTags(names, 'semver'), ['1.0.0', '1.0.0-rc.10', '1.0.0-rc.9', '1.0.0-alpha.beta', '1.0.0-alpha', '1.0.0-1', '0.9.0']);
    });

    // The registry lists tags lexically: 1.0.188 comes after 1.0.1000 and before 1.0.249.
    const versions = Array.from({ length: 250 }, (_, i) => `1.0.${i}`).sort();
    const table: Array<{ order: TagOrder; first: string[]; afterLoadMore: string[] }> = [
      { order: 'semver', first: ['1.0.249', '1.0.248', '1.0.247'], afterLoadMore: ['1.0.249', '1.0.248', '1.0.247', '1.0.246', '1.0.245', '1.0.244'] },
      { order: 'name', first: ['1.0.0', '1.0.1', '1.0.10'], afterLoadMore: ['1.0.0', '1.0.1', '1.0.10', '1.0.100', '1.0.101', '1.0.102'] },
    ];
    for (const t of table) {
      it(`orders "${t.order}" across the whole list, so "Load more…" only adds rows below`, () => {
        const l = tagListing(versions, t.order, 3);
        assert.deepEqual(labels(tagChildren(repo(), l)), [...t.first, 'Load more…']);
        assert.deepEqual(labels(tagChildren(repo(), revealMore(l, 3))), [...t.afterLoadMore, 'Load more…']);
      });
    }

    it('reveals tags for "newest" in version order and sorts the shown ones by created time, with the date on the node', () => {
      const l = tagListing(['old', '1.0', '2.0', 'new', 'undated'], 'newest', 4);
      assert.deepEqual(shownTags(l), ['2.0', '1.0', 'new', 'old'], 'what gets dated: the most recent versions first');
      const created = new Map([['old', 1000], ['new', 3000], ['1.0', 2000]]);
      const children = tagChildren(repo(), l, created);
      assert.deepEqual(labels(children), ['new', '1.0', 'old', '2.0', 'Load more…']);
      assert.equal(children[0]?.kind === 'tag' && children[0].createdMs, 3000);
    });

    it('shows each tag once when the registry repeats one across pages', () => {
      assert.deepEqual(shownTags(tagListing(['a', 'b', 'b', 'c'], 'name', 10)), ['a', 'b', 'c']);
    });

    it('keeps the tags read before a failure, sorted, with the failure and its fix below them', () => {
      const children = tagChildren(repo(), tagListing(['1.0', '2.0'], 'semver', 10, new RegistryError({ kind: 'unauthorized', message: 'x' })));
      assert.deepEqual(children.map((c) => c.kind), ['tag', 'tag', 'message']);
      assert.deepEqual(labels(children).slice(0, 2), ['2.0', '1.0']);
    });

    it('says "No tags" for an empty repository', () => {
      assert.deepEqual(labels(tagChildren(repo(), tagListing([], 'semver', 100))), ['[No tags]']);
    });

    it('sorts 10,000 tags by version', () => {
      const many = Array.from({ length: 10_000 }, (_, i) => `1.${i % 10}.${i}`).sort();
      const sorted = sortTags(many, 'semver');
      assert.deepEqual([sorted[0], sorted[1], sorted.at(-1), sorted.length], ['1.9.9999', '1.9.9989', '1.0.0', 10_000]);
    });
  });

  describe('manifests and platforms', () => {
    const tag = (): TagNode => ({ kind: 'tag', parent: repo(), tag: '1.0' });
    const index: ImageIndex = {
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: [
        { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: 'sha256:' + 'a'.repeat(64), size: 500, platform: { os: 'linux', architecture: 'amd64' } },
        { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: 'sha256:' + 'b'.repeat(64), size: 501, platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } },
        { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: 'sha256:' + 'c'.repeat(64), size: 300, artifactType: 'application/vnd.in-toto+json' },
      ],
    };

    it('gives an index one child per platform, named os/arch[/variant]', () => {
      const m = manifestNode(tag(), { digest: 'sha256:' + 'f'.repeat(64), mediaType: index.mediaType as string, size: 900, manifest: index });
      const children = platformChildren(m);
      assert.deepEqual(children.map((c) => c.platform), ['linux/amd64', 'linux/arm64/v8', 'application/vnd.in-toto+json']);
      assert.equal(children[1]?.digest, 'sha256:' + 'b'.repeat(64));
      assert.ok(children.every((c) => c.parent === m));
    });

    it('gives an image manifest its total size and no children', () => {
      const image: ImageManifest = {
        schemaVersion: 2,
        config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: 'sha256:' + '1'.repeat(64), size: 100 },
        layers: [
          { mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: 'sha256:' + '2'.repeat(64), size: 1000 },
          { mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: 'sha256:' + '3'.repeat(64), size: 2000 },
        ],
      };
      const m = manifestNode(tag(), { digest: 'sha256:' + 'e'.repeat(64), mediaType: 'application/vnd.oci.image.manifest.v1+json', size: 400, manifest: image });
      assert.equal(m.totalSize, 3100);
      assert.deepEqual(platformChildren(m), []);
    });
  });

  describe('the local registry', () => {
    const table: Array<{ status: LocalStatus; expected: string[] | undefined; command?: string }> = [
      { status: { state: 'running', port: 5000 }, expected: undefined },
      { status: { state: 'stopped' }, expected: ['Stopped: Start the local registry'], command: 'berth.local.start' },
      { status: { state: 'starting' }, expected: ['Starting…'] },
      { status: { state: 'failed', message: 'port in use' }, expected: ['Failed to start: Start the local registry', 'Show the local registry logs'], command: 'berth.local.start' },
    ];
    for (const { status, expected, command } of table) {
      it(`${status.state}: ${expected ? expected.join(' / ') : 'lists repositories'}`, () => {
        const children = localStateChildren(local(status));
        assert.deepEqual(children?.map((c) => c.message), expected);
        if (command) assert.equal(children?.[0]?.action?.command, command);
      });
    }

    it('is never asked for its state on a remote registry', () => {
      assert.equal(localStateChildren(remote()), undefined);
    });
  });
});
