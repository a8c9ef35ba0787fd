/**
 * The team registry tried as an attacker would: each test sends the attack the way a user could
 * (plain HTTP against a real server with htpasswd, access rules and groups, a pull-through cache)
 * and checks that it is refused while the legitimate use still works.
 */
import { strict as assert } from 'node:assert';
import { digestOf } from '../../../src/oci/digest';
import { startDistribution, type Distribution } from '../../support/distribution';
import { buildImage, pushBuilt, randomLayer } from '../../support/ociImage';
import { basic, errorCode, startTeamRegistry, type TeamRegistry } from './teamRegistry';

const USERS = { alice: 'alice-pw', bob: 'bob-pw' };
type User = keyof typeof USERS;

const ACCESS = {
  groups: { 'team-a': ['alice'], 'team-b': ['bob'] },
  rules: [
    { repositories: ['team-a/**'], groups: ['team-a'], actions: ['pull', 'push', 'delete'] },
    { repositories: ['team-b/**'], groups: ['team-b'], actions: ['pull', 'push', 'delete'] },
    { repositories: ['library/**'], groups: ['team-a', 'team-b'], actions: ['pull', 'push', 'delete'] },
  ],
};

const as = (user: User): string => basic(user, USERS[user]);

async function call(reg: TeamRegistry, method: string, path: string, user: User | undefined, body?: Buffer | string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${reg.url}${path}`, { method, headers: { ...(user ? { Authorization: as(user) } : {}), ...headers }, ...(body !== undefined ? { body } : {}) });
}

/** Pushes one blob in a single POST as `user`; returns its digest. */
async function pushBlobAs(reg: TeamRegistry, repo: string, bytes: Buffer, user: User): Promise<string> {
  const digest = digestOf(bytes);
  const res = await call(reg, 'POST', `/v2/${repo}/blobs/uploads/?digest=${digest}`, user, bytes, { 'Content-Type': 'application/octet-stream' });
  assert.equal(res.status, 201, await res.text());
  return digest;
}

/** Pushes a whole image as `user` (blobs, then the manifest under `tag`). */
async function pushImageAs(reg: TeamRegistry, repo: string, tag: string, user: User): Promise<ReturnType<typeof buildImage>> {
  const image = buildImage({ layers: [randomLayer(2000)], labels: { repo } });
  for (const blob of [image.config, ...image.layers]) await pushBlobAs(reg, repo, blob.bytes, user);
  const res = await call(reg, 'PUT', `/v2/${repo}/manifests/${tag}`, user, image.bytes, { 'Content-Type': image.mediaType });
  assert.equal(res.status, 201, await res.text());
  return image;
}

/** Pulls a whole image through the registry as `user`, so a pull-through cache stores it. */
async function pullImageAs(reg: TeamRegistry, repo: string, tag: string, user: User): Promise<void> {
  const m = await call(reg, 'GET', `/v2/${repo}/manifests/${tag}`, user, undefined, { Accept: 'application/vnd.oci.image.manifest.v1+json' });
  assert.equal(m.status, 200, await m.clone().text());
  const doc = (await m.json()) as { config: { digest: string }; layers: Array<{ digest: string }> };
  for (const d of [doc.config.digest, ...doc.layers.map((l) => l.digest)]) {
    const b = await call(reg, 'GET', `/v2/${repo}/blobs/${d}`, user);
    assert.equal(b.status, 200);
    assert.equal(digestOf(Buffer.from(await b.arrayBuffer())), d);
  }
}

/** The attack of a cross-repository mount without `from`, and the mounts that must keep working. */
function mountChecks(ctx: { reg: () => TeamRegistry; privateLayer: () => string; privateRepo: string }): void {
  it('answers a mount without from of a blob only team-a may pull with 202 and an upload, and team-b cannot read the blob', async function () {
    const reg = ctx.reg();
    const layer = ctx.privateLayer();
    const res = await call(reg, 'POST', `/v2/team-b/x/blobs/uploads/?mount=${layer}`, 'bob');
    assert.equal(res.status, 202, await res.text());
    assert.match(res.headers.get('location') ?? '', /^\/v2\/team-b\/x\/blobs\/uploads\/[0-9a-f-]+$/);
    assert.equal((await call(reg, 'GET', `/v2/team-b/x/blobs/${layer}`, 'bob')).status, 404);
    assert.equal((await call(reg, 'HEAD', `/v2/team-b/x/blobs/${layer}`, 'bob')).status, 404);
  });

  it('answers a mount naming a from the caller may not pull with 202', async function () {
    const reg = ctx.reg();
    const res = await call(reg, 'POST', `/v2/team-b/x/blobs/uploads/?mount=${ctx.privateLayer()}&from=${ctx.privateRepo}`, 'bob');
    assert.equal(res.status, 202);
    assert.equal((await call(reg, 'GET', `/v2/team-b/x/blobs/${ctx.privateLayer()}`, 'bob')).status, 404);
  });

  it('mounts without from when the caller may pull a repository holding the blob', async function () {
    const reg = ctx.reg();
    const res = await call(reg, 'POST', `/v2/team-a/copy/blobs/uploads/?mount=${ctx.privateLayer()}`, 'alice');
    assert.equal(res.status, 201, await res.text());
    assert.equal((await call(reg, 'GET', `/v2/team-a/copy/blobs/${ctx.privateLayer()}`, 'alice')).status, 200);
  });
}

describe('team registry: cross-repository mounts check the source', function () {
  let reg: TeamRegistry;
  let layer = '';
  before(async function () {
    reg = await startTeamRegistry({ users: USERS, config: { auth: {}, access: ACCESS } });
    const image = await pushImageAs(reg, 'team-a/secret', '1', 'alice');
    layer = image.layers[0]?.descriptor.digest ?? '';
  });
  after(async function () {
    await reg?.stop();
  });
  mountChecks({ reg: () => reg, privateLayer: () => layer, privateRepo: 'team-a/secret' });
});

describe('team registry: cross-repository mounts through a writable pull-through cache', function () {
  let upstream: Distribution;
  let reg: TeamRegistry;
  let layer = '';
  before(async function () {
    upstream = await startDistribution();
    const image = buildImage({ layers: [randomLayer(3000)], labels: { cached: 'team-a' } });
    await pushBuilt(upstream.url, 'team-a/secret', image, '1');
    layer = image.layers[0]?.descriptor.digest ?? '';
    reg = await startTeamRegistry({ users: USERS, config: { auth: {}, access: ACCESS, proxy: { remoteurl: upstream.url, allowWrites: true } } });
    // alice's pull puts team-a's layer into the cache's storage.
    await pullImageAs(reg, 'team-a/secret', '1', 'alice');
  });
  after(async function () {
    await reg?.stop();
    await upstream?.stop();
  });
  mountChecks({ reg: () => reg, privateLayer: () => layer, privateRepo: 'team-a/secret' });
});

describe('team registry: a pull-through cache is read-only unless configured otherwise', function () {
  let upstream: Distribution;
  let mirror: TeamRegistry;
  let writable: TeamRegistry;
  const original = buildImage({ labels: { from: 'upstream' } });
  before(async function () {
    upstream = await startDistribution();
    await pushBuilt(upstream.url, 'library/alpine', original, 'latest');
    mirror = await startTeamRegistry({ users: USERS, config: { auth: {}, access: ACCESS, proxy: { remoteurl: upstream.url } } });
    writable = await startTeamRegistry({ users: USERS, config: { auth: {}, access: ACCESS, proxy: { remoteurl: upstream.url, allowWrites: true } } });
  });
  after(async function () {
    await writable?.stop();
    await mirror?.stop();
    await upstream?.stop();
  });

  const attacker = buildImage({ labels: { from: 'attacker' } });
  const writes: Array<{ what: string; method: string; path: () => string; body?: () => Buffer; headers?: Record<string, string> }> = [
    { what: 'a manifest push over the upstream tag', method: 'PUT', path: () => '/v2/library/alpine/manifests/latest', body: () => attacker.bytes, headers: { 'Content-Type': attacker.mediaType } },
    { what: 'an upload', method: 'POST', path: () => '/v2/library/alpine/blobs/uploads/' },
    { what: 'a monolithic blob push', method: 'POST', path: () => `/v2/library/alpine/blobs/uploads/?digest=${attacker.config.descriptor.digest}`, body: () => attacker.config.bytes },
    { what: 'a mount', method: 'POST', path: () => `/v2/library/other/blobs/uploads/?mount=${original.config.descriptor.digest}&from=library/alpine` },
    { what: 'a tag delete', method: 'DELETE', path: () => '/v2/library/alpine/manifests/latest' },
    { what: 'a blob delete', method: 'DELETE', path: () => `/v2/library/alpine/blobs/${original.config.descriptor.digest}` },
  ];
  for (const w of writes) {
    it(`refuses ${w.what} with 405 UNSUPPORTED saying the cache is read-only`, async function () {
      const res = await call(mirror, w.method, w.path(), 'alice', w.body?.(), w.headers ?? {});
      assert.equal(res.status, 405);
      const body = (await res.json()) as { errors: Array<{ code: string; message: string }> };
      assert.equal(body.errors[0]?.code, 'UNSUPPORTED');
      assert.match(body.errors[0]?.message ?? '', /pull-through cache .* read-only.*proxy\.allowWrites/);
    });
  }

  it('still serves the upstream tag to the other users after the refused push', async function () {
    const res = await call(mirror, 'GET', '/v2/library/alpine/manifests/latest', 'bob', undefined, { Accept: original.mediaType });
    assert.equal(res.status, 200);
    assert.equal(digestOf(Buffer.from(await res.arrayBuffer())), original.digest);
  });

  it('accepts pushes when proxy.allowWrites is true', async function () {
    const image = await pushImageAs(writable, 'library/own', '1', 'alice');
    const res = await call(writable, 'GET', '/v2/library/own/manifests/1', 'bob', undefined, { Accept: image.mediaType });
    assert.equal(res.status, 200);
  });
});

describe('team registry: an upload session belongs to the user who started it', function () {
  let reg: TeamRegistry;
  before(async function () {
    reg = await startTeamRegistry({ users: USERS, config: { auth: {}, access: ACCESS } });
  });
  after(async function () {
    await reg?.stop();
  });

  const foreign: Array<{ what: string; method: string; query?: string; body?: string }> = [
    { what: 'asks its status', method: 'GET' },
    { what: 'appends a chunk', method: 'PATCH', body: 'injected' },
    { what: 'finishes it with own bytes', method: 'PUT', query: `?digest=${digestOf('injected')}`, body: 'injected' },
    { what: 'cancels it', method: 'DELETE' },
  ];
  for (const f of foreign) {
    it(`answers 404 BLOB_UPLOAD_UNKNOWN when another user who may push there ${f.what} with its UUID, and the owner carries on`, async function () {
      const start = await call(reg, 'POST', '/v2/library/shared/blobs/uploads/', 'alice');
      assert.equal(start.status, 202);
      const location = start.headers.get('location') ?? '';
      const first = await call(reg, 'PATCH', location, 'alice', 'hello ', { 'Content-Type': 'application/octet-stream' });
      assert.equal(first.status, 202);
      const res = await call(reg, f.method, `${location}${f.query ?? ''}`, 'bob', f.body, { 'Content-Type': 'application/octet-stream' });
      assert.equal(res.status, 404);
      assert.equal(await errorCode(res), 'BLOB_UPLOAD_UNKNOWN');
      const status = await call(reg, 'GET', location, 'alice');
      assert.equal(status.status, 204);
      assert.equal(status.headers.get('range'), '0-5', 'nothing was appended by the other user');
      const done = await call(reg, 'PUT', `${location}?digest=${digestOf('hello world')}`, 'alice', 'world', { 'Content-Type': 'application/octet-stream' });
      assert.equal(done.status, 201, await done.text());
    });
  }
});
