/**
 * A filter finds any repository of a registry, not only those on pages already loaded: the catalog walk
 * on 50,000 repositories in the embedded registry (client, app layer and tree rows), cancelling it, and the
 * search APIs of Harbor and Docker Hub, which cannot be reached from here, against a loopback stand-in.
 */
import { strict as assert } from 'node:assert';
import { mkdirSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { ClientRegistryApi } from '../../../src/app/clientRegistryApi';
import type { LocalRegistryControl } from '../../../src/app/ports';
import { MementoRegistryStore } from '../../../src/app/registryStore';
import type { RegistryEntry } from '../../../src/app/registryEntry';
import { RegistryClient } from '../../../src/client';
import type { SearchProgress } from '../../../src/client/search';
import type { RegistryNode, RegistryTreeNode } from '../../../src/views/nodes';
import { RegistryTreeData } from '../../../src/views/registryTreeData';
import { startBerthRegistry, type BerthRegistry } from '../../support/berthRegistry';
import { removeDir, tempDir } from '../../support/proc';
import { FakeMemento, FakeSecretStorage } from '../../unit/fakes/storage';

const REPOSITORIES = 50_000;
const name = (i: number): string => `team/app-${String(i).padStart(5, '0')}`;

/** Writes repositories the way distribution's layout holds them (a `_manifests` folder makes one). */
function seedCatalog(root: string, count: number): void {
  for (let i = 0; i < count; i++) mkdirSync(join(root, 'docker', 'registry', 'v2', 'repositories', name(i), '_manifests', 'tags'), { recursive: true });
}

describe('searching a whole registry for a repository filter', function () {
  this.timeout(600_000);
  let dir: string;
  let registry: BerthRegistry;
  let client: RegistryClient;

  before(async () => {
    dir = tempDir('search');
    seedCatalog(join(dir, 'data'), REPOSITORIES);
    registry = await startBerthRegistry({ root: join(dir, 'data') });
    client = new RegistryClient();
  });
  after(async () => {
    client?.close();
    await registry?.stop();
    removeDir(dir);
  });

  it(`finds the last of ${REPOSITORIES.toLocaleString('en-US')} repositories by walking every catalog page, reporting progress`, async () => {
    const progress: SearchProgress[] = [];
    const r = await client.registry(registry.host).searchRepositories('app-49999', 'catalog', { onProgress: (p) => progress.push(p) });
    assert.deepEqual(r, { matches: ['team/app-49999'], searched: REPOSITORIES, complete: true, source: 'catalog' });
    // One report per page of 1,000, each further than the last.
    assert.equal(progress.length, REPOSITORIES / 1000);
    assert.ok(progress.every((p, i) => i === 0 || p.searched > (progress[i - 1]?.searched ?? 0)));
    assert.deepEqual(progress.at(-1), { searched: REPOSITORIES, matches: 1 });
  });

  const filters: Array<{ filter: string; expected: string[] }> = [
    { filter: 'APP-4999*', expected: Array.from({ length: 10 }, (_, i) => name(49_990 + i)) },
    { filter: 'team/*-00042', expected: [name(42)] },
    { filter: 'no-such-app', expected: [] },
  ];
  for (const { filter, expected } of filters) {
    it(`"${filter}" matches ${expected.length} of them, case-insensitive with * wildcards`, async () => {
      const r = await client.registry(registry.host).searchRepositories(filter, 'catalog');
      assert.deepEqual(r.matches, expected);
      assert.equal(r.complete, true);
    });
  }

  it('stops when cancelled and returns what it found so far, marked incomplete with how much it searched', async () => {
    const abort = new AbortController();
    const r = await client.registry(registry.host).searchRepositories('app-0', 'catalog', {
      signal: abort.signal,
      onProgress: (p) => {
        if (p.searched >= 3000) abort.abort();
      },
    });
    assert.equal(r.complete, false);
    assert.equal(r.searched, 3000);
    assert.equal(r.matches.length, 3000);
  });

  it('shows the match under the filtered registry in the tree, with a row saying all repositories were searched', async () => {
    const store = new MementoRegistryStore(new FakeMemento(), new FakeSecretStorage());
    const localEntry = (): RegistryEntry => ({ id: 'local', label: 'Local registry', server: registry.host, preset: 'local', insecureHttp: true });
    const local: LocalRegistryControl = {
      status: () => ({ state: 'running', port: registry.port }), entry: localEntry, start: async () => undefined, stop: async () => undefined,
      restart: async () => undefined, storagePath: () => registry.root, showLogs: () => undefined, gc: async () => '', onDidChangeState: () => ({ dispose: () => undefined }),
    };
    const api = new ClientRegistryApi({ store, localEntry });
    const tree = new RegistryTreeData({ store, local, settings: { tagOrder: () => 'semver', pageSize: () => 100, notifyOnPush: () => false, setLocalPort: async () => 'User settings' }, registry: async () => api });
    try {
      const [root] = await tree.getChildren() as RegistryNode[];
      assert.ok(root);
      // Unfiltered: the first page only.
      assert.equal((await tree.getChildren(root)).filter((n) => n.kind === 'repository').length, 100);
      tree.setFilter('local', 'app-49999');
      const rows = (await tree.getChildren(root)).map((n: RegistryTreeNode) => (n.kind === 'repository' ? n.name : n.kind === 'message' ? `[${n.message}]` : n.kind));
      assert.deepEqual(rows, ['[1 match for "app-49999" in all 50,000 repositories]', 'team/app-49999']);
    } finally {
      tree.dispose();
    }
  });
});

describe('searching through a registry search API (loopback stand-in for Harbor and Docker Hub)', () => {
  let server: Server;
  let base: string;
  const requests: Array<{ url: string; authorization?: string }> = [];
  const harborRepositories = ['library/nginx', 'team/nginx-proxy', 'team/api'];

  before(async () => {
    server = createServer((req: IncomingMessage, res) => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      requests.push({ url: url.pathname + url.search, ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}) });
      res.setHeader('Content-Type', 'application/json');
      if (url.pathname === '/v2/') return res.end('{}');
      if (url.pathname === '/api/v2.0/search') {
        const q = url.searchParams.get('q') ?? '';
        // Harbor's shape: projects and repositories whose name holds the term.
        return res.end(JSON.stringify({ project: [], repository: harborRepositories.filter((r) => r.includes(q)).map((r) => ({ repository_name: r, project_name: r.split('/')[0], pull_count: 1, tags_count: 1 })) }));
      }
      if (url.pathname === '/v2/search/repositories/') {
        // Docker Hub's shape, two pages; official images without a namespace.
        const page = url.searchParams.get('page') === '2' ? 2 : 1;
        const results = page === 1 ? [{ repo_name: 'nginx' }, { repo_name: 'bitnami/nginx' }] : [{ repo_name: 'someone/nginx-tools' }, { repo_name: 'someone/web', short_description: 'nginx inside' }];
        return res.end(JSON.stringify({ count: 4, next: page === 1 ? `${base}/v2/search/repositories/?query=nginx&page=2` : null, results }));
      }
      res.statusCode = 404;
      res.end('{}');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    await new Promise<void>((r) => server.close(() => r()));
  });

  it('a Harbor entry asks /api/v2.0/search once, signed in, and keeps the names the filter matches', async () => {
    const store = new MementoRegistryStore(new FakeMemento(), new FakeSecretStorage());
    const host = new URL(base).host;
    const entry: RegistryEntry = { id: host, label: host, server: host, preset: 'harbor', insecureHttp: true, username: 'robot' };
    await store.save(entry, { username: 'robot', password: 's3cret' });
    const api = new ClientRegistryApi({ store, localEntry: () => ({ id: 'local', label: 'Local registry', server: '127.0.0.1:1', preset: 'local' }) });
    requests.length = 0;
    const r = await api.searchRepositories(entry, 'nginx*');
    assert.deepEqual(r, { matches: ['library/nginx', 'team/nginx-proxy'], searched: 2, complete: true, source: 'harbor' });
    const searches = requests.filter((q) => q.url.startsWith('/api/v2.0/search'));
    assert.deepEqual(searches, [{ url: '/api/v2.0/search?q=nginx', authorization: `Basic ${Buffer.from('robot:s3cret').toString('base64')}` }]);
  });

  it("Docker Hub's search is paged, official images get library/, and only names the filter matches are kept", async () => {
    const client = new RegistryClient({ dockerHubApiUrl: base });
    try {
      requests.length = 0;
      const r = await client.registry('docker.io').searchRepositories('nginx', 'docker-hub');
      assert.deepEqual(r, { matches: ['library/nginx', 'bitnami/nginx', 'someone/nginx-tools'], searched: 4, complete: true, source: 'docker-hub' });
      assert.deepEqual(requests.map((q) => q.url), ['/v2/search/repositories/?query=nginx&page_size=100', '/v2/search/repositories/?query=nginx&page=2']);
    } finally {
      client.close();
    }
  });
});
