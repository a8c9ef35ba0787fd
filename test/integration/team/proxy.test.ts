/**
 * The pull-through cache over HTTP: content fetched from the upstream on first request, streamed
 * and stored, served from the cache afterwards, tags revalidated after the TTL, cached content
 * still served once the upstream is gone; and an upstream that wants bearer tokens.
 */
import { strict as assert } from 'node:assert';
import { digestOf } from '../../../src/oci/digest';
import { startDistribution, type Distribution } from '../../support/distribution';
import { buildImage, getBlob, getManifest, layerOf, pushBuilt, randomLayer } from '../../support/ociImage';
import { outputMatching, sleep } from '../../support/proc';
import { basic, startTeamRegistry, type TeamRegistry } from './teamRegistry';

const cacheCount = (metrics: string, kind: string, result: string): number =>
  Number(new RegExp(`^berth_proxy_cache_requests_total\\{kind="${kind}",result="${result}"\\} (\\d+)$`, 'm').exec(metrics)?.[1] ?? 0);

describe('pull-through cache', function () {
  let upstream: Distribution;
  let cache: TeamRegistry;
  const first = buildImage({ layers: [randomLayer(300_000)], labels: { v: '1' } });
  let firstDigest: string;

  before(async function () {
    upstream = await startDistribution();
    firstDigest = (await pushBuilt(upstream.url, 'library/cached', first, '1')).digest;
    await pushBuilt(upstream.url, 'library/cached', buildImage({ labels: { v: 'never-pulled' } }), 'later');
    cache = await startTeamRegistry({ config: { proxy: { remoteurl: upstream.url, ttl: '6s' } } });
  });
  after(async function () {
    await cache?.stop();
    await upstream?.stop();
  });

  it('fetches a manifest and its blobs from the upstream on first pull and serves them from the cache after', async function () {
    const m = await getManifest(cache.url, 'library/cached', '1');
    assert.equal(m.status, 200);
    assert.equal(digestOf(m.bytes), firstDigest);
    assert.equal(m.headers.get('content-type'), first.mediaType);
    for (const blob of [first.config, ...first.layers]) {
      const got = await getBlob(cache.url, 'library/cached', blob.descriptor.digest);
      assert.equal(got.status, 200);
      assert.equal(digestOf(got.bytes), blob.descriptor.digest);
    }
    let metrics = await (await fetch(`${cache.url}/metrics`)).text();
    assert.equal(cacheCount(metrics, 'manifest', 'miss'), 1);
    assert.equal(cacheCount(metrics, 'blob', 'miss'), 2);
    const again = await getBlob(cache.url, 'library/cached', first.layers[0]?.descriptor.digest ?? '');
    assert.equal(digestOf(again.bytes), first.layers[0]?.descriptor.digest);
    assert.equal((await getManifest(cache.url, 'library/cached', '1')).status, 200);
    metrics = await (await fetch(`${cache.url}/metrics`)).text();
    assert.equal(cacheCount(metrics, 'blob', 'hit'), 1);
    assert.equal(cacheCount(metrics, 'manifest', 'hit'), 1);
  });

  it('serves a byte range of a blob it has not cached yet', async function () {
    const layer = layerOf(Buffer.alloc(50_000, 9));
    const image = buildImage({ layers: [layer], labels: { v: 'range' } });
    await pushBuilt(upstream.url, 'library/ranged', image, '1');
    assert.equal((await getManifest(cache.url, 'library/ranged', '1')).status, 200);
    const part = await getBlob(cache.url, 'library/ranged', layer.descriptor.digest, { Range: 'bytes=100-199' });
    assert.equal(part.status, 206);
    assert.deepEqual(part.bytes, layer.bytes.subarray(100, 200));
  });

  it('keeps a tag for the TTL and asks the upstream again after it', async function () {
    await getManifest(cache.url, 'library/cached', '1');
    const second = buildImage({ labels: { v: '2' } });
    const secondDigest = (await pushBuilt(upstream.url, 'library/cached', second, '1')).digest;
    assert.equal(digestOf((await getManifest(cache.url, 'library/cached', '1')).bytes), firstDigest, 'within the TTL the cached tag is served');
    await sleep(6500);
    assert.equal(digestOf((await getManifest(cache.url, 'library/cached', '1')).bytes), secondDigest, 'after the TTL the upstream is asked');
    await pushBuilt(upstream.url, 'library/cached', first, '1');
  });

  it('still serves cached content once the upstream is gone, and only that', async function () {
    await upstream.stop();
    await sleep(6500);
    const m = await getManifest(cache.url, 'library/cached', '1');
    assert.equal(m.status, 200);
    const layer = await getBlob(cache.url, 'library/cached', first.layers[0]?.descriptor.digest ?? '');
    assert.equal(layer.status, 200);
    assert.equal((await getManifest(cache.url, 'library/cached', 'later')).status, 404);
    await outputMatching(cache, /"msg":"pull-through upstream failed; serving from the cache"/);
  });
});

describe('pull-through cache with an upstream that wants bearer tokens', function () {
  let upstream: TeamRegistry;
  let cache: TeamRegistry;
  let wrongCreds: TeamRegistry;
  const image = buildImage({ labels: { auth: 'bearer' } });

  before(async function () {
    upstream = await startTeamRegistry({ users: { mirror: 'mirror-pw' }, config: { auth: { token: {} } } });
    // Pushing with Basic is accepted by Berth in token mode too, which keeps the setup short.
    const auth = basic('mirror', 'mirror-pw');
    const original = globalThis.fetch;
    globalThis.fetch = (input, init) => original(input, { ...init, headers: { ...(init?.headers as Record<string, string> | undefined), Authorization: auth } });
    try {
      await pushBuilt(upstream.url, 'private/app', image, '1');
    } finally {
      globalThis.fetch = original;
    }
    cache = await startTeamRegistry({ config: { proxy: { remoteurl: upstream.url, username: 'mirror', password: 'mirror-pw' } } });
    wrongCreds = await startTeamRegistry({ config: { proxy: { remoteurl: upstream.url, username: 'mirror', password: 'wrong' } } });
  });
  after(async function () {
    await wrongCreds?.stop();
    await cache?.stop();
    await upstream?.stop();
  });

  it('follows the challenge to the token endpoint with its credentials and caches the image', async function () {
    const m = await getManifest(cache.url, 'private/app', '1');
    assert.equal(m.status, 200);
    assert.equal(digestOf(m.bytes), image.digest);
    const layer = await getBlob(cache.url, 'private/app', image.layers[0]?.descriptor.digest ?? '');
    assert.equal(digestOf(layer.bytes), image.layers[0]?.descriptor.digest);
    await outputMatching(upstream, /"path":"\/auth\/token","route":"extra:token","status":200/);
    await outputMatching(upstream, /"path":"\/v2\/private\/app\/manifests\/1","route":"manifests","status":200[^\n]*"user":"mirror"/);
  });

  it('answers 404 when its upstream credentials are refused', async function () {
    assert.equal((await getManifest(wrongCreds.url, 'private/app', '1')).status, 404);
  });
});
