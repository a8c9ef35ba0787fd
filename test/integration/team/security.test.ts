/**
 * The team registry tried as an attacker would: each test sends the attack the way a user could
 * (plain HTTP against a real server with htpasswd, access rules and groups, a pull-through cache)
 * and checks that it is refused while the legitimate use still works.
 */
import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { mkdirSync, openSync, closeSync, rmSync, writeSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { digestOf } from '../../../src/oci/digest';
import { startDistribution, type Distribution } from '../../support/distribution';
import { buildImage, pushBlob, pushBuilt, randomLayer } from '../../support/ociImage';
import { outputMatching, removeDir, sleep, tempDir, waitFor } from '../../support/proc';
import { basic, errorCode, registryCli, startTeamRegistry, type TeamRegistry } from './teamRegistry';

const USERS = { alice: 'alice-pw', bob: 'bob-pw' };
type User = keyof typeof USERS;

const ACCESS = {
  groups: { 'team-a': ['alice'], 'team-b': ['bob'] },
  rules: [
    { repositories: ['team-a/**'], groups: ['team-a'], actions: ['pull', 'push', 'delete'] },
    { repositories: ['team-b/**'], groups: ['team-b'], actions: ['pull', 'push', 'delete'] },
    { repositories: ['library/**'], groups: ['team-a', 'team-b'], actions: ['pull', 'push', 'delete'] },
  ],
  metrics: { users: ['alice'] },
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

/** A PATCH whose body trickles in one byte at a time; collects whatever the server answers. */
function trickle(reg: TeamRegistry, location: string, everyMs: number): { socket: Socket; answer: () => string; stop: () => void } {
  let answer = '';
  const socket = connect(reg.port, '127.0.0.1');
  socket.on('data', (d: Buffer) => (answer += d.toString('utf8')));
  socket.on('error', () => undefined);
  socket.write(`PATCH ${location} HTTP/1.1\r\nHost: t\r\nContent-Type: application/octet-stream\r\nContent-Length: 100000\r\n\r\n`);
  const timer = setInterval(() => socket.writable && socket.write('x'), everyMs);
  socket.once('close', () => clearInterval(timer));
  return { socket, answer: () => answer, stop: () => { clearInterval(timer); socket.destroy(); } };
}

/** A gauge from /metrics, read as alice (the access rules grant her the metrics scope when auth is on). */
const gauge = async (reg: TeamRegistry, name: string): Promise<number> =>
  Number(new RegExp(`^${name} (\\d+)$`, 'm').exec(await (await call(reg, 'GET', '/metrics', 'alice')).text())?.[1] ?? NaN);

describe('team registry: trickling upload bodies lose their slot', function () {
  let reg: TeamRegistry;
  before(async function () {
    reg = await startTeamRegistry({ config: { limits: { maxConcurrentUploads: 2, minUploadRate: '1KiB', uploadRateWindow: '1s' } } });
  });
  after(async function () {
    await reg?.stop();
  });

  it('cuts bodies slower than limits.minUploadRate with 408, so other pushes get a slot again', async function () {
    const tricklers: Array<ReturnType<typeof trickle>> = [];
    for (let i = 0; i < 2; i++) {
      const post = await fetch(`${reg.url}/v2/slow/t${i}/blobs/uploads/`, { method: 'POST' });
      tricklers.push(trickle(reg, post.headers.get('location') ?? '', 200));
    }
    try {
      await waitFor('both tricklers to hold a slot', async () => ((await gauge(reg, 'berth_uploads_in_flight')) === 2 ? true : undefined), 10_000, 20);
      const blob = randomLayer(200_000).bytes;
      const refused = await fetch(`${reg.url}/v2/fast/app/blobs/uploads/?digest=${digestOf(blob)}`, { method: 'POST', body: blob, headers: { 'Content-Type': 'application/octet-stream' } });
      assert.equal(refused.status, 429, 'while the tricklers hold the slots');
      await waitFor('the tricklers to be answered', async () => (tricklers.every((t) => t.answer() !== '') ? true : undefined), 20_000, 100);
      for (const t of tricklers) {
        assert.match(t.answer(), /^HTTP\/1\.1 408 /);
        assert.match(t.answer(), /BLOB_UPLOAD_INVALID.*limits\.minUploadRate/);
      }
      assert.equal(await pushBlob(reg.url, 'fast/app', blob, 'single-post'), digestOf(blob));
      assert.equal(await pushBlob(reg.url, 'fast/app', randomLayer(300_000).bytes, 'chunked').then(() => 'pushed'), 'pushed');
    } finally {
      for (const t of tricklers) t.stop();
    }
  });
});

describe('team registry: open upload sessions are bounded and idle ones removed', function () {
  let reg: TeamRegistry;
  before(async function () {
    reg = await startTeamRegistry({ users: USERS, config: { auth: {}, access: ACCESS, limits: { maxOpenUploads: 3, maxOpenUploadsPerUser: 2, uploadIdleTimeout: '3s' } } });
  });
  after(async function () {
    await reg?.stop();
  });

  const open = (user: User): Promise<Response> => call(reg, 'POST', `/v2/library/sessions/blobs/uploads/`, user);

  it('refuses a session over the per-user and the total limit with 429 naming the setting, until one is cancelled', async function () {
    const alice = [await open('alice'), await open('alice')];
    for (const r of alice) assert.equal(r.status, 202);
    const third = await open('alice');
    assert.equal(third.status, 429);
    assert.match(((await third.json()) as { errors: Array<{ message: string }> }).errors[0]?.message ?? '', /user alice has 2 upload sessions open.*limits\.maxOpenUploadsPerUser/);
    assert.equal((await open('bob')).status, 202);
    const overTotal = await open('bob');
    assert.equal(overTotal.status, 429);
    assert.match(((await overTotal.json()) as { errors: Array<{ message: string }> }).errors[0]?.message ?? '', /3 upload sessions are open.*limits\.maxOpenUploads\b/);
    assert.equal((await call(reg, 'DELETE', alice[0]?.headers.get('location') ?? '', 'alice')).status, 204);
    assert.equal((await open('bob')).status, 202);
  });

  it('removes sessions idle for limits.uploadIdleTimeout and keeps one that is in use', async function () {
    await waitFor('every earlier session to be removed as idle', async () => ((await gauge(reg, 'berth_upload_sessions_open')) === 0 ? true : undefined), 20_000, 250);
    const idle = (await open('alice')).headers.get('location') ?? '';
    const busy = (await open('alice')).headers.get('location') ?? '';
    const chunks: Buffer[] = [];
    for (let i = 0; i < 8; i++) {
      const chunk = Buffer.from(`chunk ${i};`);
      chunks.push(chunk);
      assert.equal((await call(reg, 'PATCH', busy, 'alice', chunk, { 'Content-Type': 'application/octet-stream' })).status, 202);
      await sleep(600);
    }
    assert.equal((await call(reg, 'GET', idle, 'alice')).status, 404, 'the untouched session is gone');
    const done = await call(reg, 'PUT', `${busy}?digest=${digestOf(Buffer.concat(chunks))}`, 'alice');
    assert.equal(done.status, 201, 'the session in use was kept');
    await outputMatching(reg, /"msg":"removed idle upload sessions"/);
  });
});

/** Writes files under `dir` until the filesystem has no byte left; returns the big one to free space with. */
function fillDisk(dir: string): string {
  const big = join(dir, 'fill');
  const fd = openSync(big, 'w');
  const block = Buffer.alloc(1024 * 1024);
  try {
    for (let i = 0; i < 10_000; i++) writeSync(fd, block);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOSPC') throw e;
  } finally {
    closeSync(fd);
  }
  // The last partial block: small files until not even one byte fits.
  for (let i = 0; i < 10_000; i++) {
    try {
      const small = openSync(join(dir, `fill-${i}`), 'w');
      try {
        writeSync(small, Buffer.alloc(4096));
      } finally {
        closeSync(small);
      }
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOSPC') throw e;
      break;
    }
  }
  return big;
}

/** A tmpfs of `size` mounted in a fresh folder, for a registry root whose disk a test fills or remounts. */
function mountTmpfs(name: string, size: string): { dir: string; mountPoint: string } {
  const dir = tempDir(name);
  const mountPoint = join(dir, 'disk');
  mkdirSync(mountPoint);
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', mountPoint]);
  return { dir, mountPoint };
}

function unmountTmpfs(dir: string, mountPoint: string): void {
  try {
    execFileSync('umount', [mountPoint]);
  } finally {
    removeDir(dir);
  }
}

describe('team registry on a full disk', function () {
  let dir: string;
  let mountPoint: string;
  let reg: TeamRegistry | undefined;
  let image: ReturnType<typeof buildImage>;
  let fill: string;
  const config = { auth: {}, access: ACCESS };
  before(async function () {
    ({ dir, mountPoint } = mountTmpfs('full', '16m'));
    reg = await startTeamRegistry({ users: USERS, config, root: join(mountPoint, 'data') });
    image = await pushImageAs(reg, 'library/full', '1', 'alice');
    fill = fillDisk(mountPoint);
  });
  after(async function () {
    await reg?.stop();
    unmountTmpfs(dir, mountPoint);
  });

  const assertDiskFull = async (res: Response): Promise<void> => {
    assert.equal(res.status, 507);
    const body = (await res.json()) as { errors: Array<{ code: string; message: string }> };
    assert.equal(body.errors[0]?.code, 'INSUFFICIENT_STORAGE');
    assert.match(body.errors[0]?.message ?? '', new RegExp(`storage \\(${join(mountPoint, 'data').replace(/[/.]/g, '\\$&')}\\) has no space left`));
  };

  it('answers a blob push, an upload start and a manifest push with 507 INSUFFICIENT_STORAGE naming the storage', async function () {
    const r = reg as TeamRegistry;
    const blob = randomLayer(1024 * 1024).bytes;
    await assertDiskFull(await call(r, 'POST', `/v2/library/full/blobs/uploads/?digest=${digestOf(blob)}`, 'alice', blob, { 'Content-Type': 'application/octet-stream' }));
    await assertDiskFull(await call(r, 'POST', '/v2/library/full/blobs/uploads/', 'alice'));
    // The same manifest with trailing whitespace: new bytes to store, every blob it names present.
    await assertDiskFull(await call(r, 'PUT', '/v2/library/full/manifests/2', 'alice', Buffer.concat([image.bytes, Buffer.alloc(64 * 1024, 0x20)]), { 'Content-Type': image.mediaType }));
    await outputMatching(r, /"status":507/);
    assert.doesNotMatch(r.output(), /"msg":"request failed"/, 'a full disk is not logged as a server bug with a stack');
  });

  it('serves pulls on a full disk, also after a restart there', async function () {
    await pullImageAs(reg as TeamRegistry, 'library/full', '1', 'bob');
    await reg?.stop();
    reg = undefined;
    // stop() of a team registry removes its temp folder, not the tmpfs root.
    reg = await startTeamRegistry({ users: USERS, config, root: join(mountPoint, 'data') });
    await pullImageAs(reg, 'library/full', '1', 'bob');
  });

  it('takes pushes again once space is freed', async function () {
    rmSync(fill);
    const blob = randomLayer(100_000).bytes;
    assert.equal(await pushBlobAs(reg as TeamRegistry, 'library/full', blob, 'alice'), digestOf(blob));
  });
});

describe('team registry on a disk that turns read-only', function () {
  let dir: string;
  let mountPoint: string;
  let reg: TeamRegistry;
  let image: ReturnType<typeof buildImage>;
  const remount = (mode: 'ro' | 'rw'): void => void execFileSync('mount', ['-o', `remount,${mode}`, mountPoint]);
  before(async function () {
    ({ dir, mountPoint } = mountTmpfs('readonly', '64m'));
    reg = await startTeamRegistry({ users: USERS, config: { auth: {}, access: ACCESS }, root: join(mountPoint, 'data') });
    image = await pushImageAs(reg, 'library/ro', '1', 'alice');
    // What the kernel does to a filesystem after disk errors (errors=remount-ro).
    remount('ro');
  });
  after(async function () {
    await reg?.stop();
    unmountTmpfs(dir, mountPoint);
  });

  it('answers pushes with a JSON 500 that says the storage is read-only and what to do, and serves pulls', async function () {
    const blob = randomLayer(64 * 1024).bytes;
    const refusals = [
      await call(reg, 'POST', `/v2/library/ro/blobs/uploads/?digest=${digestOf(blob)}`, 'alice', blob, { 'Content-Type': 'application/octet-stream' }),
      await call(reg, 'POST', '/v2/library/ro/blobs/uploads/', 'alice'),
      await call(reg, 'PUT', '/v2/library/ro/manifests/2', 'alice', image.bytes, { 'Content-Type': image.mediaType }),
    ];
    const where = join(mountPoint, 'data').replace(/[/.]/g, '\\$&');
    for (const res of refusals) {
      assert.equal(res.status, 500);
      const body = (await res.json()) as { errors: Array<{ code: string; message: string }> };
      assert.equal(body.errors[0]?.code, 'UNSUPPORTED');
      assert.match(body.errors[0]?.message ?? '', new RegExp(`storage \\(${where}\\) is read-only \\(EROFS;.*nothing was stored.*make it writable`));
    }
    await pullImageAs(reg, 'library/ro', '1', 'bob');
  });

  it('refuses to start again on the read-only root, saying why and what to do', async function () {
    await reg.stop();
    const refused = await registryCli(['serve', '--listen', '127.0.0.1:0', '--root', join(mountPoint, 'data')])
      .then(() => undefined, (e: { code: number; stderr: string }) => e);
    assert.ok(refused, 'the registry started on a read-only root');
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /the storage root \S+ is on a read-only filesystem \(EROFS\).*Make the filesystem writable .*then start again/);
  });

  it('starts and takes pushes again once the disk is writable', async function () {
    remount('rw');
    reg = await startTeamRegistry({ users: USERS, config: { auth: {}, access: ACCESS }, root: join(mountPoint, 'data') });
    await pullImageAs(reg, 'library/ro', '1', 'bob');
    const blob = randomLayer(100_000).bytes;
    assert.equal(await pushBlobAs(reg, 'library/ro', blob, 'alice'), digestOf(blob));
    const res = await call(reg, 'PUT', '/v2/library/ro/manifests/2', 'alice', image.bytes, { 'Content-Type': image.mediaType });
    assert.equal(res.status, 201, await res.text());
  });
});

describe('team registry: an oversized manifest sent chunked', function () {
  let reg: TeamRegistry;
  before(async function () {
    reg = await startTeamRegistry({ users: USERS, config: { auth: {}, access: ACCESS } });
  });
  after(async function () {
    await reg?.stop();
  });

  for (const sizeMiB of [9, 80]) {
    it(`answers ${sizeMiB} MiB of chunked manifest with 413 naming storage.maxManifestBytes, not a reset`, async function () {
      const chunk = Buffer.alloc(64 * 1024, 0x20);
      let sent = 0;
      const body = new ReadableStream<Uint8Array>({
        pull(c) {
          if (sent >= sizeMiB * 1024 * 1024) return c.close();
          sent += chunk.length;
          c.enqueue(chunk);
        },
      });
      const res = await fetch(`${reg.url}/v2/library/big/manifests/1`, {
        method: 'PUT', body, duplex: 'half', headers: { Authorization: as('alice'), 'Content-Type': 'application/vnd.oci.image.manifest.v1+json' },
      } as RequestInit & { duplex: 'half' });
      assert.equal(res.status, 413);
      assert.match(await res.text(), /MANIFEST_INVALID.*storage\.maxManifestBytes/);
    });
  }
});
