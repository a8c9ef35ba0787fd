/**
 * `berth-registry gc`: mark and sweep as distribution documents it, checked against distribution's own
 * `garbage-collect` on a copy of the same storage, plus --dry-run, --delete-untagged, abandoned uploads
 * and the root lock; on a folder and on an S3 bucket (a Ceph RADOS gateway).
 */
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { Layout } from '../../../src/server/layout';
import { listNames, type StorageDriver } from '../../../src/server/storage/driver';
import { FsDriver } from '../../../src/server/storage';
import { S3Driver } from '../../../src/server/storage/s3Driver';
import type { S3Config } from '../../../src/server/storage/s3Config';
import { startBerthRegistry, type BerthRegistry } from '../../support/berthRegistry';
import { copyBucket, distributionS3Config, freshBucket, s3ConfigSection, startBerthOnS3 } from '../../support/ceph';
import { removeDir, sleep, tempDir } from '../../support/proc';
import { buildArtifact, buildImage, buildIndex, layerOf, pushBuilt, type BuiltImage } from '../../support/ociImage';
import { REGISTRY_CLI } from '../../support/berthRegistry';
import { storedBlobs } from '../crash/streaming';
import { call } from './http';

interface GcResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Where a case's registry keeps its data, and how Berth, distribution and the test reach it. */
interface Store {
  readonly name: string;
  /** A registry serving the store; `limits` goes into its config. */
  start(limits?: Record<string, unknown>): Promise<BerthRegistry>;
  /** `berth-registry gc` on the store with `limits` in its config. */
  gc(flags: string[], limits?: Record<string, unknown>): GcResult;
  driver(): StorageDriver;
  /** distribution's `garbage-collect` on a copy of the store; the copy's blobs. */
  distributionGcOfCopy(): Promise<string[]>;
  dispose(): Promise<void>;
}

function runGc(args: string[]): GcResult {
  const r = spawnSync(process.execPath, [REGISTRY_CLI, 'gc', ...args], { encoding: 'utf8', timeout: 120_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function writeConfig(dir: string, config: Record<string, unknown>): string {
  const file = join(dir, `config-${Math.random().toString(36).slice(2)}.yml`);
  writeFileSync(file, stringify(config));
  return file;
}

function distributionGc(dir: string, storage: Record<string, unknown>): void {
  const env = { ...process.env };
  // Its s3 driver crashes on AWS_CA_BUNDLE.
  delete env['AWS_CA_BUNDLE'];
  const r = spawnSync('docker-registry', ['garbage-collect', writeConfig(dir, { version: 0.1, storage })], { encoding: 'utf8', timeout: 120_000, env });
  assert.equal(r.status, 0, r.stderr);
}

class FolderStore implements Store {
  readonly name = 'a folder';
  readonly root: string;
  constructor(private readonly dir: string) {
    this.root = join(dir, 'data');
  }
  start(limits?: Record<string, unknown>): Promise<BerthRegistry> {
    return startBerthRegistry({ root: this.root, args: limits ? ['--config', writeConfig(this.dir, { limits })] : [] });
  }
  gc(flags: string[], limits?: Record<string, unknown>): GcResult {
    return runGc(['--root', this.root, ...(limits ? ['--config', writeConfig(this.dir, { limits })] : []), ...flags]);
  }
  driver(): StorageDriver {
    return new FsDriver(this.root);
  }
  async distributionGcOfCopy(): Promise<string[]> {
    const theirs = join(this.dir, 'distribution-copy');
    cpSync(this.root, theirs, { recursive: true });
    distributionGc(this.dir, { filesystem: { rootdirectory: theirs } });
    return (await storedBlobs(new FsDriver(theirs))).sort();
  }
  async dispose(): Promise<void> {
    removeDir(this.dir);
  }
}

class BucketStore implements Store {
  readonly name = 'an S3 bucket';
  private readonly drivers: S3Driver[] = [];
  constructor(private readonly dir: string, private readonly s3: S3Config) {}
  static async create(dir: string): Promise<BucketStore> {
    return new BucketStore(dir, await freshBucket());
  }
  private config(limits?: Record<string, unknown>): string {
    return writeConfig(this.dir, { storage: { s3: s3ConfigSection(this.s3) }, ...(limits ? { limits } : {}) });
  }
  start(limits?: Record<string, unknown>): Promise<BerthRegistry> {
    return startBerthOnS3(this.s3, { root: join(this.dir, 'unused'), ...(limits ? { config: { limits } } : {}) });
  }
  gc(flags: string[], limits?: Record<string, unknown>): GcResult {
    return runGc(['--config', this.config(limits), ...flags]);
  }
  driver(): StorageDriver {
    const d = new S3Driver(this.s3);
    this.drivers.push(d);
    return d;
  }
  async distributionGcOfCopy(): Promise<string[]> {
    const theirs = await copyBucket(this.s3);
    distributionGc(this.dir, distributionS3Config(theirs));
    const driver = new S3Driver(theirs);
    try {
      return (await storedBlobs(driver)).sort();
    } finally {
      await driver.close();
    }
  }
  async dispose(): Promise<void> {
    for (const d of this.drivers) await d.close();
    removeDir(this.dir);
  }
}

function digestsOf(image: BuiltImage): string[] {
  return [image.digest, image.config.descriptor.digest, ...image.layers.map((l) => l.descriptor.digest)];
}

const STORES: { name: string; create(dir: string): Promise<Store> }[] = [
  { name: 'a folder', create: async (dir) => new FolderStore(dir) },
  { name: 'an S3 bucket', create: (dir) => BucketStore.create(dir) },
];

/** Short enough to wait out in a test: an upload untouched this long is abandoned. */
const UPLOAD_IDLE = { uploadIdleTimeout: '6s' };
const UPLOAD_IDLE_MS = 6000;

for (const kind of STORES) {
  describe(`garbage collection on ${kind.name}`, () => {
    const stores: Store[] = [];
    const freshStore = async (label: string): Promise<Store> => {
      const store = await kind.create(tempDir(`gc-${label}`));
      stores.push(store);
      return store;
    };
    after(async () => {
      for (const store of stores) await store.dispose();
    });

    const blobsIn = async (store: Store): Promise<string[]> => (await storedBlobs(store.driver())).sort();

    /**
     * Image A has layers a, b; image B has a, c. B is deleted by digest, so B's manifest, config and
     * layer c are garbage and A's content is not.
     */
    async function twoImagesOneDeleted(store: Store): Promise<{ a: BuiltImage; b: BuiltImage }> {
      const unique = Math.random().toString(36);
      const shared = layerOf(`shared layer ${unique}`);
      const a = buildImage({ layers: [shared, layerOf(`only in a ${unique}`)], labels: { name: 'a' } });
      const b = buildImage({ layers: [shared, layerOf(`only in b ${unique}`)], labels: { name: 'b' } });
      const reg = await store.start();
      try {
        await pushBuilt(reg.url, 'gc/app', a, 'a');
        await pushBuilt(reg.url, 'gc/app', b, 'b');
        assert.equal((await call(`${reg.url}/v2/gc/app/manifests/${b.digest}`, { method: 'DELETE' })).status, 202);
      } finally {
        await reg.stop();
      }
      return { a, b };
    }

    it('--dry-run prints what it would remove, with count and bytes, and removes nothing', async () => {
      const store = await freshStore('dry');
      const { b } = await twoImagesOneDeleted(store);
      const before = await blobsIn(store);
      const r = store.gc(['--dry-run']);
      assert.equal(r.status, 0, r.stderr);
      const garbage = [b.digest, b.config.descriptor.digest, b.layers[1]?.descriptor.digest ?? ''];
      for (const d of garbage) assert.match(r.stdout, new RegExp(`would remove blob ${d} \\(\\d+ bytes\\)`));
      const bytes = b.bytes.length + b.config.bytes.length + (b.layers[1]?.bytes.length ?? 0);
      assert.match(r.stdout, new RegExp(`dry run: would remove 0 manifests and 3 blobs \\(${bytes} bytes\\)`));
      assert.deepEqual(await blobsIn(store), before);
    });

    it('removes exactly the blobs distribution garbage-collect removes, and the rest still serves', async () => {
      const store = await freshStore('real');
      const { a, b } = await twoImagesOneDeleted(store);
      const theirs = await store.distributionGcOfCopy();

      const r = store.gc([]);
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, /removed 0 manifests and 3 blobs/);
      const left = await blobsIn(store);
      assert.deepEqual(left, theirs, 'same blobs left as distribution leaves');
      for (const d of digestsOf(a)) assert.ok(left.includes(d), `${d} of the kept image survives`);
      assert.ok(!left.includes(b.layers[1]?.descriptor.digest ?? ''));

      const reg = await store.start();
      try {
        const m = await call(`${reg.url}/v2/gc/app/manifests/a`);
        assert.ok(m.body.equals(a.bytes));
        for (const d of [a.config.descriptor.digest, ...a.layers.map((l) => l.descriptor.digest)]) {
          assert.equal((await call(`${reg.url}/v2/gc/app/blobs/${d}`)).status, 200);
        }
        assert.equal((await call(`${reg.url}/v2/gc/app/blobs/${b.layers[1]?.descriptor.digest ?? ''}`)).status, 404);
      } finally {
        await reg.stop();
      }
      assert.equal(store.gc([]).stdout.trim().split('\n').pop(), `removed 0 manifests and 0 blobs (0 bytes) and 0 abandoned uploads (0 bytes); ${left.length} blobs kept, 0 recent uploads kept`);
    });

    it('--delete-untagged removes manifests no tag reaches, keeping children of tagged indexes and referrers of kept manifests', async () => {
      const store = await freshStore('untagged');
      const index = buildIndex();
      const untagged = buildImage({ labels: { name: 'untagged' } });
      const tagged = buildImage({ labels: { name: 'tagged' } });
      const sbom = buildArtifact({ subject: tagged.descriptor, artifactType: 'application/vnd.example.sbom' });
      const reg = await store.start();
      try {
        await pushBuilt(reg.url, 'gc/multi', index, 'v1');
        await pushBuilt(reg.url, 'gc/multi', untagged);
        await pushBuilt(reg.url, 'gc/multi', tagged, 'latest');
        await pushBuilt(reg.url, 'gc/multi', sbom);
      } finally {
        await reg.stop();
      }
      const plain = store.gc(['--dry-run']);
      assert.match(plain.stdout, /would remove 0 manifests and 0 blobs/, 'without the flag, untagged manifests are kept');

      const r = store.gc(['--delete-untagged']);
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, new RegExp(`removing untagged manifest gc/multi@${untagged.digest}`));
      assert.match(r.stdout, /removed 1 manifests and 3 blobs/);
      const left = await blobsIn(store);
      for (const d of digestsOf(untagged)) assert.ok(!left.includes(d), `${d} of the untagged image is gone`);
      for (const img of [...index.images, tagged]) for (const d of digestsOf(img)) assert.ok(left.includes(d), `${d} is kept`);
      assert.ok(left.includes(index.digest) && left.includes(sbom.digest));

      const again = await store.start();
      try {
        assert.equal((await call(`${again.url}/v2/gc/multi/manifests/${untagged.digest}`)).status, 404);
        for (const child of index.images) assert.equal((await call(`${again.url}/v2/gc/multi/manifests/${child.digest}`)).status, 200);
        const refs = JSON.parse((await call(`${again.url}/v2/gc/multi/referrers/${tagged.digest}`)).text) as { manifests: { digest: string }[] };
        assert.deepEqual(refs.manifests.map((m) => m.digest), [sbom.digest]);
      } finally {
        await again.stop();
      }
    });

    it('reports and removes abandoned uploads (no byte for longer than limits.uploadIdleTimeout) and keeps recent ones', async () => {
      const store = await freshStore('uploads');
      const reg = await store.start();
      const started: string[] = [];
      try {
        for (const bytes of [50_000, 10]) {
          // The first is left alone past the idle timeout; the second is written just before gc runs.
          if (started.length > 0) await sleep(UPLOAD_IDLE_MS + 1000);
          const post = await call(`${reg.url}/v2/gc/up/blobs/uploads/`, { method: 'POST' });
          const location = post.headers.get('location') ?? '';
          assert.equal((await call(`${reg.url}${location}`, { method: 'PATCH', body: Buffer.alloc(bytes, 1), headers: { 'Content-Type': 'application/octet-stream' } })).status, 202);
          started.push(new URL(location, reg.url).pathname.split('/').pop() ?? '');
        }
      } finally {
        await reg.stop();
      }
      const [abandoned = '', recent = ''] = started;
      const uploads = async (): Promise<string[]> => (await listNames(store.driver(), new Layout('/').uploadsDir('gc/up'))).sort();

      const dry = store.gc(['--dry-run'], UPLOAD_IDLE);
      assert.equal(dry.status, 0, dry.stderr);
      assert.match(dry.stdout, new RegExp(`would remove abandoned upload gc/up/${abandoned} \\(50000 bytes, idle \\d+ s\\)`));
      assert.match(dry.stdout, /dry run: would remove 0 manifests and 0 blobs \(0 bytes\) and 1 abandoned uploads \(50000 bytes\); 0 blobs kept, 1 recent uploads kept/);
      assert.deepEqual(await uploads(), [abandoned, recent].sort(), 'a dry run removes nothing');

      const real = store.gc([], UPLOAD_IDLE);
      assert.match(real.stdout, /removed 0 manifests and 0 blobs \(0 bytes\) and 1 abandoned uploads \(50000 bytes\)/);
      assert.deepEqual(await uploads(), [recent]);
    });

    it('with --all-uploads, also reports and removes upload sessions written a moment ago', async () => {
      const store = await freshStore('all-uploads');
      const reg = await store.start();
      const id = await (async (): Promise<string> => {
        try {
          const at = (await call(`${reg.url}/v2/gc/recent/blobs/uploads/`, { method: 'POST' })).headers.get('location') ?? '';
          assert.equal((await call(`${reg.url}${at}`, { method: 'PATCH', body: Buffer.alloc(30_000, 2), headers: { 'Content-Type': 'application/octet-stream' } })).status, 202);
          return new URL(at, reg.url).pathname.split('/').pop() ?? '';
        } finally {
          await reg.stop();
        }
      })();
      const uploads = async (): Promise<string[]> => listNames(store.driver(), new Layout('/').uploadsDir('gc/recent'));
      assert.match(store.gc(['--dry-run']).stdout, /and 0 abandoned uploads \(0 bytes\); 0 blobs kept, 1 recent uploads kept/, 'without the switch a recent upload is kept');
      const dry = store.gc(['--dry-run', '--all-uploads']);
      assert.match(dry.stdout, new RegExp(`would remove abandoned upload gc/recent/${id} \\(30000 bytes, idle \\d+ s\\)`));
      assert.deepEqual(await uploads(), [id], 'a dry run removes nothing');
      const real = store.gc(['--all-uploads']);
      assert.equal(real.status, 0, real.stderr);
      assert.match(real.stdout, /removed 0 manifests and 0 blobs \(0 bytes\) and 1 abandoned uploads \(30000 bytes\); 0 blobs kept, 0 recent uploads kept/);
      assert.deepEqual(await uploads(), []);
    });

    if (kind.name === 'a folder') {
      it('refuses to run while a server holds the root, and says so', async () => {
        const store = await freshStore('busy');
        const reg = await store.start();
        try {
          const r = store.gc([]);
          assert.equal(r.status, 1);
          assert.match(r.stderr, new RegExp(`in use by a running server \\(pid ${reg.pid}\\); stop it first`));
        } finally {
          await reg.stop();
        }
        assert.equal(store.gc([]).status, 0, 'runs once the server is gone');
      });
    } else {
      it('runs while a server uses the bucket (there is no lock on a bucket) and says every registry on it must be stopped or read-only', async () => {
        const store = await freshStore('busy');
        const reg = await store.start();
        try {
          const r = store.gc(['--dry-run']);
          assert.equal(r.status, 0, r.stderr);
          assert.match(r.stderr, /gc on s3 storage takes no lock: every registry on s3:\/\/\S+ .*must be stopped or read-only until it ends/);
        } finally {
          await reg.stop();
        }
      });
    }
  });
}
