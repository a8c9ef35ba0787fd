import * as assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as v8 from 'node:v8';
import * as vm from 'node:vm';
import { RegistryClient, type Registry } from '../../../src/client';
import { digestOf } from '../../../src/oci/digest';
import { MediaType } from '../../../src/oci/mediaTypes';
import { startBerthRegistry } from '../../support/berthRegistry';
import { startDistribution } from '../../support/distribution';
import { removeDir, tempDir } from '../../support/proc';

const REPOSITORIES = 10_000;
const TAGS = 5_000;
const TAGGED_REPO = 'tags/many';

/**
 * Writes distribution's on-disk layout directly: one small manifest (and its config) that every tag
 * points at. A repository is a folder with `_layers` and `_manifests`, a tag a folder with a `current/link`, so
 * 10,000 repositories take a few directories each instead of 10,000 pushes.
 */
function writeLayout(root: string): void {
  const v2 = join(root, 'docker/registry/v2');
  const config = Buffer.from('{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}');
  const manifest = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.ociManifest, config: { mediaType: MediaType.ociConfig, digest: digestOf(config), size: config.length }, layers: [] }));
  const blob = (bytes: Buffer): string => {
    const digest = digestOf(bytes);
    const hex = digest.slice(7);
    mkdirSync(join(v2, 'blobs/sha256', hex.slice(0, 2), hex), { recursive: true });
    writeFileSync(join(v2, 'blobs/sha256', hex.slice(0, 2), hex, 'data'), bytes);
    return digest;
  };
  blob(config);
  const manifestDigest = blob(manifest);
  const repository = (name: string, tags: string[]): void => {
    const dir = join(v2, 'repositories', name);
    // distribution 2.8's catalog finds repositories by their `_layers` folder, Berth's by `_manifests`.
    mkdirSync(join(dir, '_layers'), { recursive: true });
    mkdirSync(join(dir, '_manifests'), { recursive: true });
    for (const tag of tags) {
      mkdirSync(join(dir, '_manifests/tags', tag, 'current'), { recursive: true });
      writeFileSync(join(dir, '_manifests/tags', tag, 'current', 'link'), manifestDigest);
    }
  };
  // Catalog entries need only their folders; tags are real links to the manifest.
  for (let i = 0; i < REPOSITORIES; i++) repository(`big/r${String(i).padStart(5, '0')}`, []);
  repository(TAGGED_REPO, Array.from({ length: TAGS }, (_, i) => `v${String(i).padStart(5, '0')}`));
}

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;
function heapUsedAfterGc(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

interface Walked {
  count: number;
  pages: number;
  sorted: boolean;
  heapGrowthBytes: number;
}

/** Walks every page, keeping only counts: checks order (so no duplicates) and samples the heap. */
async function walk(pages: AsyncGenerator<{ items: string[] }>): Promise<Walked> {
  let count = 0;
  let previous = '';
  let sorted = true;
  let pageCount = 0;
  let baseline = 0;
  let peak = 0;
  for await (const page of pages) {
    pageCount++;
    for (const item of page.items) {
      if (item <= previous) sorted = false;
      previous = item;
      count++;
    }
    if (pageCount === 1) baseline = heapUsedAfterGc();
    else if (pageCount % 5 === 0) peak = Math.max(peak, heapUsedAfterGc());
  }
  peak = Math.max(peak, heapUsedAfterGc());
  return { count, pages: pageCount, sorted, heapGrowthBytes: Math.max(0, peak - baseline) };
}

/** Generous: all 10,000 names held at once would still be only a few MB, so this only catches runaway growth. */
const MAX_HEAP_GROWTH_BYTES = 24 * 1024 * 1024;

const servers: Array<{ name: string; start: (root: string) => Promise<{ host: string; stop(): Promise<void> }>; pagesTags: boolean }> = [
  { name: 'distribution', start: (root) => startDistribution({ root }), pagesTags: false },
  { name: 'the embedded registry', start: (root) => startBerthRegistry({ root }), pagesTags: true },
];

describe('paging 10,000 repositories and 5,000 tags', () => {
  let dir: string;
  let root: string;

  // Written once and only read by both registries. Tens of thousands of directories are slow on a
  // busy disk, so the hooks get more time than a test.
  before(function () {
    this.timeout(900_000);
    dir = tempDir('paging');
    root = join(dir, 'data');
    writeLayout(root);
  });
  after(function () {
    this.timeout(900_000);
    if (dir) removeDir(dir);
  });

  for (const server of servers) {
    describe(`on ${server.name}`, () => {
      let stop: (() => Promise<void>) | undefined;
      let client: RegistryClient;
      let reg: Registry;
      let requests: string[] = [];

      before(async () => {
        const started = await server.start(root);
        stop = () => started.stop();
        client = new RegistryClient({ onRequest: (e) => requests.push(`${e.method} ${new URL(e.url).pathname} ${e.status}`) });
        reg = client.registry(started.host);
      });
      after(async () => {
        client?.close();
        await stop?.();
      });

      it('shows the first catalog page after exactly one request', async () => {
        requests = [];
        const first = await reg.catalogPage({ pageSize: 100 });
        assert.equal(first.kind, 'page');
        assert.ok(first.kind === 'page');
        assert.equal(first.page.items.length, 100);
        assert.equal(first.page.items[0], 'big/r00000');
        assert.ok(first.page.next, 'a cursor for "Load more…"');
        assert.deepEqual(requests, ['GET /v2/_catalog 200']);
        const second = await reg.catalogPage({ pageSize: 100, cursor: first.page.next });
        assert.ok(second.kind === 'page');
        assert.equal(second.page.items[0], 'big/r00100', 'the cursor continues where page one stopped');
      });

      it('walks every catalog page in order with flat memory', async () => {
        const result = await walk(reg.catalogPages({ pageSize: 250 }));
        console.log(`      ${server.name} catalog: ${result.count} repositories in ${result.pages} pages, heap growth ${(result.heapGrowthBytes / 1024 / 1024).toFixed(2)} MiB`);
        assert.equal(result.count, REPOSITORIES + 1);
        assert.ok(result.sorted, 'lexical order, no repository twice');
        assert.ok(result.pages >= 40);
        assert.ok(result.heapGrowthBytes < MAX_HEAP_GROWTH_BYTES, `heap grew ${result.heapGrowthBytes} bytes`);
      });

      it('lists 5,000 tags page by page where the registry pages them', async () => {
        requests = [];
        const first = await reg.tagsPage(TAGGED_REPO, { pageSize: 100 });
        assert.equal(requests.length, 1);
        if (server.pagesTags) {
          assert.equal(first.items.length, 100);
          assert.ok(first.next);
        } else {
          // distribution 2.8 ignores `n` on tags/list and sends every tag in one answer.
          assert.equal(first.items.length, TAGS);
          assert.equal(first.next, undefined);
        }
        const result = await walk(reg.tagsPages(TAGGED_REPO, { pageSize: 100 }));
        console.log(`      ${server.name} tags: ${result.count} tags in ${result.pages} pages, heap growth ${(result.heapGrowthBytes / 1024 / 1024).toFixed(2)} MiB`);
        assert.equal(result.count, TAGS);
        assert.equal(result.pages, server.pagesTags ? TAGS / 100 : 1);
        assert.ok(result.heapGrowthBytes < MAX_HEAP_GROWTH_BYTES, `heap grew ${result.heapGrowthBytes} bytes`);
        if (server.pagesTags) assert.ok(result.sorted);
      });
    });
  }
});
