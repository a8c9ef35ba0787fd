/**
 * The manifest parser's worker threads, real ones: large manifests are parsed there and come back
 * as the same facts the event loop would find; a worker that dies on a manifest fails that manifest
 * with an error (a 500 in the handler, not a crash) and the next one gets a fresh worker.
 */
import * as assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { MediaType } from '../../../src/oci/mediaTypes';
import { RegistryError } from '../../../src/server/errors';
import { manifestOwnType, manifestReferrer, parseManifest } from '../../../src/server/manifest';
import { ManifestParserPool } from '../../../src/server/manifestParser';
import { removeDir, tempDir } from '../../support/proc';
import { workerDyingOnce } from '../../support/workerThreads';

const digest = (seed: string): string => `sha256:${createHash('sha256').update(seed).digest('hex')}`;
const desc = (seed: string, mediaType: string = MediaType.ociLayerGzip): { mediaType: string; digest: string; size: number } => ({ mediaType, digest: digest(seed), size: seed.length });

/** An image manifest of `layers` layers and a subject, past the inline limit. */
function largeManifest(layers: number, withTypeField = true): Buffer {
  return Buffer.from(JSON.stringify({
    schemaVersion: 2, ...(withTypeField ? { mediaType: MediaType.ociManifest } : {}),
    config: desc('config', MediaType.ociConfig),
    layers: Array.from({ length: layers }, (_, i) => desc(`layer ${i % 1000}`)),
    subject: desc('subject', MediaType.ociManifest),
    annotations: { 'org.example.size': 'large' },
  }));
}

/** `[{},{},…]` as a manifest's layers: a few MiB of JSON that needs some 20 times its size in heap. */
function memoryHungry(bytes: number): Buffer {
  const head = `{"schemaVersion":2,"mediaType":"${MediaType.ociManifest}","config":{},"layers":[`;
  return Buffer.from(`${head}${'{},'.repeat(Math.floor((bytes - head.length) / 3))}{}]}`);
}

describe('manifest parser pool', function () {
  this.timeout(120_000);
  let dir: string;
  const pools: ManifestParserPool[] = [];
  const pool = (opts: ConstructorParameters<typeof ManifestParserPool>[0]): ManifestParserPool => {
    const p = new ManifestParserPool(opts);
    pools.push(p);
    return p;
  };

  before(() => {
    dir = tempDir('parser');
  });
  afterEach(async () => {
    await Promise.all(pools.splice(0).map((p) => p.close()));
  });
  after(() => removeDir(dir));

  it('finds in a worker the same facts as the inline parse, for pushed and stored manifests', async function () {
    const p = pool({ maxManifestBytes: 8 << 20 });
    for (const bytes of [largeManifest(5000), largeManifest(5000, false)]) {
      assert.ok(bytes.length > 64 * 1024);
      const handedOver = Buffer.from(bytes);
      const pushed = await p.pushed(handedOver, MediaType.ociManifest, false);
      assert.deepEqual(pushed.parsed, parseManifest(bytes, MediaType.ociManifest));
      assert.ok(pushed.bytes.equals(bytes), 'the bytes come back whole');
      assert.equal(handedOver.length, 0, 'a buffer owning its memory moved to the worker rather than being copied');
      assert.deepEqual(await p.ownType(bytes), manifestOwnType(bytes));
      assert.deepEqual(await p.referrer(bytes, MediaType.ociManifest), manifestReferrer(bytes, MediaType.ociManifest));
    }
    assert.equal(p.workers, 1, 'large manifests went to a worker');
    const { parsed } = await p.pushed(largeManifest(5000), undefined, false);
    assert.equal(parsed.blobs.length, 1001, 'config and each distinct layer once');
  });

  it('parses small manifests on the calling thread without starting a worker', async function () {
    const p = pool({ maxManifestBytes: 8 << 20 });
    const small = largeManifest(3);
    assert.equal((await p.pushed(small, undefined, false)).parsed.mediaType, MediaType.ociManifest);
    assert.equal(p.workers, 0);
  });

  it('rejects a large invalid manifest with the same MANIFEST_INVALID error as inline', async function () {
    const p = pool({ maxManifestBytes: 8 << 20 });
    const bytes = Buffer.from(largeManifest(5000).toString('utf8').replace('"schemaVersion":2', '"schemaVersion":3'));
    await assert.rejects(p.pushed(bytes, undefined, false), (e: unknown) => e instanceof RegistryError && e.code === 'MANIFEST_INVALID' && /schemaVersion must be 2/.test(e.message));
    const bomb = Buffer.from(`{"schemaVersion":2,"x":${'['.repeat(40_000)}${']'.repeat(40_000)}}`);
    await assert.rejects(p.pushed(bomb, undefined, false), (e: unknown) => e instanceof RegistryError && /deeper than 64 levels/.test(e.message));
  });

  it('parses the most memory-hungry manifest of the largest size a registry accepts', async function () {
    const p = pool({ maxManifestBytes: 8 << 20 });
    await assert.rejects(p.pushed(memoryHungry(8 << 20), MediaType.ociManifest, false),
      (e: unknown) => e instanceof RegistryError && e.code === 'MANIFEST_INVALID' && /config\.mediaType is missing/.test(e.message));
    assert.deepEqual(await p.ownType(memoryHungry(8 << 20)), { field: MediaType.ociManifest, shape: MediaType.ociManifest });
  });

  it('fails the manifest a worker died on with an error, and parses the next one in a fresh worker', async function () {
    // The first worker exits on its first task; the ones after it are the real one.
    const flaky = workerDyingOnce(dir, join(__dirname, '../../../src/server/manifestWorker.ts'));
    const p = pool({ maxManifestBytes: 8 << 20, workerFile: flaky, maxWorkers: 1 });
    await assert.rejects(p.pushed(largeManifest(5000), undefined, false), (e: unknown) => e instanceof Error && !(e instanceof RegistryError) && /parser thread stopped .*exited with code 3/.test(e.message));
    assert.equal(p.workers, 0, 'the dead worker is gone');
    assert.equal((await p.pushed(largeManifest(5000), undefined, false)).parsed.subject?.digest, digest('subject'));
    assert.equal(p.workers, 1);
  });

  it('answers each of several manifests queued for one worker with its own facts', async function () {
    const p = pool({ maxManifestBytes: 8 << 20, maxWorkers: 1 });
    const layers = [400, 300, 200, 500];
    const parsed = await Promise.all(layers.map((n) => p.pushed(largeManifest(n), undefined, false)));
    assert.deepEqual(parsed.map((m) => m.parsed.blobs.length), [401, 301, 201, 501]);
    assert.equal(p.workers, 1);
  });

  it('refuses work after close', async function () {
    const p = pool({ maxManifestBytes: 8 << 20 });
    await p.pushed(largeManifest(5000), undefined, false);
    await p.close();
    assert.equal(p.workers, 0);
    await assert.rejects(p.pushed(largeManifest(5000), undefined, false), /shutting down/);
  });
});
