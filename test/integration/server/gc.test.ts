/**
 * `berth-registry gc`: mark and sweep as distribution documents it, checked against distribution's own
 * `garbage-collect` on a copy of the same root, plus --dry-run, --delete-untagged and the root lock.
 */
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, readdirSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { startBerthRegistry } from '../../support/berthRegistry';
import { removeDir, tempDir } from '../../support/proc';
import { buildArtifact, buildImage, buildIndex, layerOf, pushBuilt, type BuiltImage } from '../../support/ociImage';
import { REGISTRY_CLI } from '../../support/berthRegistry';
import { call } from './http';

function gc(root: string, ...flags: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [REGISTRY_CLI, 'gc', '--root', root, ...flags], { encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Every blob digest in a root, as distribution's layout stores them. */
function blobsIn(root: string): string[] {
  const dir = join(root, 'docker/registry/v2/blobs/sha256');
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((p) => readdirSync(join(dir, p)).map((hex) => `sha256:${hex}`)).sort();
}

function digestsOf(image: BuiltImage): string[] {
  return [image.digest, image.config.descriptor.digest, ...image.layers.map((l) => l.descriptor.digest)];
}

describe('garbage collection', () => {
  let dir: string;
  before(() => {
    dir = tempDir('gc');
  });
  after(() => removeDir(dir));

  /**
   * Image A has layers a, b; image B has a, c. B is deleted by digest, so B's manifest, config and
   * layer c are garbage and A's content is not.
   */
  async function twoImagesOneDeleted(root: string): Promise<{ a: BuiltImage; b: BuiltImage }> {
    const shared = layerOf(`shared layer ${root}`);
    const a = buildImage({ layers: [shared, layerOf(`only in a ${root}`)], labels: { name: 'a' } });
    const b = buildImage({ layers: [shared, layerOf(`only in b ${root}`)], labels: { name: 'b' } });
    const reg = await startBerthRegistry({ root });
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
    const root = join(dir, 'dry');
    const { b } = await twoImagesOneDeleted(root);
    const before = blobsIn(root);
    const r = gc(root, '--dry-run');
    assert.equal(r.status, 0, r.stderr);
    const garbage = [b.digest, b.config.descriptor.digest, b.layers[1]?.descriptor.digest ?? ''];
    for (const d of garbage) assert.match(r.stdout, new RegExp(`would remove blob ${d} \\(\\d+ bytes\\)`));
    const bytes = b.bytes.length + b.config.bytes.length + (b.layers[1]?.bytes.length ?? 0);
    assert.match(r.stdout, new RegExp(`dry run: would remove 0 manifests and 3 blobs \\(${bytes} bytes\\)`));
    assert.deepEqual(blobsIn(root), before);
  });

  it('removes exactly the blobs distribution garbage-collect removes, and the rest still serves', async () => {
    const root = join(dir, 'real');
    const { a, b } = await twoImagesOneDeleted(root);
    const theirs = join(dir, 'real-distribution');
    cpSync(root, theirs, { recursive: true });
    const config = join(dir, 'dist-gc.yml');
    writeFileSync(config, stringify({ version: 0.1, storage: { filesystem: { rootdirectory: theirs } } }));
    const dist = spawnSync('docker-registry', ['garbage-collect', config], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(dist.status, 0, dist.stderr);

    const r = gc(root);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /removed 0 manifests and 3 blobs/);
    assert.deepEqual(blobsIn(root), blobsIn(theirs), 'same blobs left as distribution leaves');
    for (const d of digestsOf(a)) assert.ok(blobsIn(root).includes(d), `${d} of the kept image survives`);
    assert.ok(!blobsIn(root).includes(b.layers[1]?.descriptor.digest ?? ''));

    const reg = await startBerthRegistry({ root });
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
    assert.equal(gc(root).stdout.trim().split('\n').pop(), `removed 0 manifests and 0 blobs (0 bytes) and 0 abandoned uploads (0 bytes); ${blobsIn(root).length} blobs kept, 0 recent uploads kept`);
  });

  it('--delete-untagged removes manifests no tag reaches, keeping children of tagged indexes and referrers of kept manifests', async () => {
    const root = join(dir, 'untagged');
    const index = buildIndex();
    const untagged = buildImage({ labels: { name: 'untagged' } });
    const tagged = buildImage({ labels: { name: 'tagged' } });
    const sbom = buildArtifact({ subject: tagged.descriptor, artifactType: 'application/vnd.example.sbom' });
    const reg = await startBerthRegistry({ root });
    try {
      await pushBuilt(reg.url, 'gc/multi', index, 'v1');
      await pushBuilt(reg.url, 'gc/multi', untagged);
      await pushBuilt(reg.url, 'gc/multi', tagged, 'latest');
      await pushBuilt(reg.url, 'gc/multi', sbom);
    } finally {
      await reg.stop();
    }
    const plain = gc(root, '--dry-run');
    assert.match(plain.stdout, /would remove 0 manifests and 0 blobs/, 'without the flag, untagged manifests are kept');

    const r = gc(root, '--delete-untagged');
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`removing untagged manifest gc/multi@${untagged.digest}`));
    assert.match(r.stdout, /removed 1 manifests and 3 blobs/);
    const left = blobsIn(root);
    for (const d of digestsOf(untagged)) assert.ok(!left.includes(d), `${d} of the untagged image is gone`);
    for (const img of [...index.images, tagged]) for (const d of digestsOf(img)) assert.ok(left.includes(d), `${d} is kept`);
    assert.ok(left.includes(index.digest) && left.includes(sbom.digest));

    const again = await startBerthRegistry({ root });
    try {
      assert.equal((await call(`${again.url}/v2/gc/multi/manifests/${untagged.digest}`)).status, 404);
      for (const child of index.images) assert.equal((await call(`${again.url}/v2/gc/multi/manifests/${child.digest}`)).status, 200);
      const refs = JSON.parse((await call(`${again.url}/v2/gc/multi/referrers/${tagged.digest}`)).text) as { manifests: { digest: string }[] };
      assert.deepEqual(refs.manifests.map((m) => m.digest), [sbom.digest]);
    } finally {
      await again.stop();
    }
  });

  it('reports and removes abandoned uploads (idle longer than limits.uploadIdleTimeout) and keeps recent ones', async () => {
    const root = join(dir, 'uploads');
    const reg = await startBerthRegistry({ root });
    const started: string[] = [];
    try {
      for (const bytes of [50_000, 10]) {
        const post = await call(`${reg.url}/v2/gc/up/blobs/uploads/`, { method: 'POST' });
        const location = post.headers.get('location') ?? '';
        assert.equal((await call(`${reg.url}${location}`, { method: 'PATCH', body: Buffer.alloc(bytes, 1), headers: { 'Content-Type': 'application/octet-stream' } })).status, 202);
        started.push(location.split('/').pop() ?? '');
      }
    } finally {
      await reg.stop();
    }
    const [abandoned = '', recent = ''] = started;
    const uploads = join(root, 'docker/registry/v2/repositories/gc/up/_uploads');
    const twoHoursAgo = new Date(Date.now() - 2 * 3_600_000);
    utimesSync(join(uploads, abandoned, 'data'), twoHoursAgo, twoHoursAgo);

    const dry = gc(root, '--dry-run');
    assert.equal(dry.status, 0, dry.stderr);
    assert.match(dry.stdout, new RegExp(`would remove abandoned upload gc/up/${abandoned} \\(50000 bytes, idle 72\\d\\d s\\)`));
    assert.match(dry.stdout, /dry run: would remove 0 manifests and 0 blobs \(0 bytes\) and 1 abandoned uploads \(50000 bytes\); 0 blobs kept, 1 recent uploads kept/);
    assert.deepEqual(readdirSync(uploads).sort(), [abandoned, recent].sort(), 'a dry run removes nothing');

    const real = gc(root);
    assert.match(real.stdout, /removed 0 manifests and 0 blobs \(0 bytes\) and 1 abandoned uploads \(50000 bytes\)/);
    assert.deepEqual(readdirSync(uploads), [recent]);
  });

  it('with --all-uploads, also reports and removes upload sessions written a moment ago', async () => {
    const root = join(dir, 'all-uploads');
    const reg = await startBerthRegistry({ root });
    const location = await (async (): Promise<string> => {
      try {
        const at = (await call(`${reg.url}/v2/gc/recent/blobs/uploads/`, { method: 'POST' })).headers.get('location') ?? '';
        assert.equal((await call(`${reg.url}${at}`, { method: 'PATCH', body: Buffer.alloc(30_000, 2), headers: { 'Content-Type': 'application/octet-stream' } })).status, 202);
        return at;
      } finally {
        await reg.stop();
      }
    })();
    const id = location.split('/').pop() ?? '';
    const uploads = join(root, 'docker/registry/v2/repositories/gc/recent/_uploads');
    assert.match(gc(root, '--dry-run').stdout, /and 0 abandoned uploads \(0 bytes\); 0 blobs kept, 1 recent uploads kept/, 'without the switch a recent upload is kept');
    const dry = gc(root, '--dry-run', '--all-uploads');
    assert.match(dry.stdout, new RegExp(`would remove abandoned upload gc/recent/${id} \\(30000 bytes, idle \\d+ s\\)`));
    assert.deepEqual(readdirSync(uploads), [id], 'a dry run removes nothing');
    const real = gc(root, '--all-uploads');
    assert.equal(real.status, 0, real.stderr);
    assert.match(real.stdout, /removed 0 manifests and 0 blobs \(0 bytes\) and 1 abandoned uploads \(30000 bytes\); 0 blobs kept, 0 recent uploads kept/);
    assert.deepEqual(readdirSync(uploads), []);
  });

  it('refuses to run while a server holds the root, and says so', async () => {
    const root = join(dir, 'busy');
    const reg = await startBerthRegistry({ root });
    try {
      const r = gc(root);
      assert.equal(r.status, 1);
      assert.match(r.stderr, new RegExp(`in use by a running server \\(pid ${reg.pid}\\); stop it first`));
    } finally {
      await reg.stop();
    }
    assert.equal(gc(root).status, 0, 'runs once the server is gone');
  });
});
