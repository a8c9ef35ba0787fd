/**
 * The server's extension points, in process over real HTTP: access decisions become 401 with a
 * challenge or 403 DENIED, events carry what was pushed, pulled, mounted and deleted, metrics and the
 * request log see every request without secrets, extra routes are served, and storage can be wrapped.
 */
import * as assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { join } from 'node:path';
import { RegistryHandler } from '../../../src/server/handler';
import { defaultHooks, type Access, type RegistryEvent, type RequestRecord, type ServerHooks } from '../../../src/server/hooks';
import { startServer, type RunningServer } from '../../../src/server/server';
import { FsDriver, LinkStorage, type Storage } from '../../../src/server/storage';
import { removeDir, sleep, tempDir } from '../../support/proc';
import { buildImage, pushBlob, pushBuilt } from '../../support/ociImage';
import { assertError, call } from './http';

describe('registry server hooks', () => {
  let dir: string;
  let server: RunningServer;
  let base: string;
  const events: RegistryEvent[] = [];
  const records: RequestRecord[] = [];
  const asked: Access[][] = [];
  let manifestReads = 0;

  before(async () => {
    dir = tempDir('hooks');
    const storage = new LinkStorage(new FsDriver(join(dir, 'data')));
    await storage.init();
    const hooks: ServerHooks = {
      ...defaultHooks(),
      access: {
        authorize(req, access) {
          asked.push(access);
          if (access.some((a) => a.name.startsWith('secret/'))) {
            return req.headers.authorization === 'Bearer letmein'
              ? { allowed: true, user: 'alice' }
              : { allowed: false, status: 401, challenge: 'Bearer realm="http://auth.invalid/token",service="berth"' };
          }
          if (access.some((a) => a.name.startsWith('forbidden/'))) return { allowed: false, status: 403, message: 'not for you' };
          if (access.some((a) => a.name === 'hidden/source')) return { allowed: false, status: 403 };
          return { allowed: true, user: 'bob' };
        },
      },
      events: [{ onEvent: (e) => events.push(e) }],
      metrics: [{ observe: (r) => records.push(r) }],
      extraRoutes: [{ method: 'GET', path: '/healthz', name: 'healthz', handle: (_req, res) => void res.end('ok') }],
      storageWrappers: [(inner: Storage): Storage => {
        const wrapped = Object.create(inner) as Storage;
        wrapped.getManifest = (repo, ref) => {
          manifestReads++;
          return inner.getManifest(repo, ref);
        };
        return wrapped;
      }],
    };
    const wrapped = hooks.storageWrappers.reduce<Storage>((s, w) => w(s), storage);
    server = await startServer({ host: '127.0.0.1', port: 0 }, new RegistryHandler({ storage: wrapped, hooks, deleteEnabled: true, maxManifestBytes: 1 << 20 }), hooks);
    base = server.url;
  });
  after(async () => {
    await server?.close();
    removeDir(dir);
  });

  it('turns a 401 decision into UNAUTHORIZED with the WWW-Authenticate challenge, and lets the user in once authorised', async () => {
    const r = await call(`${base}/v2/secret/app/tags/list`);
    assertError(r, 401, 'UNAUTHORIZED');
    assert.equal(r.headers.get('www-authenticate'), 'Bearer realm="http://auth.invalid/token",service="berth"');
    const ok = await call(`${base}/v2/secret/app/tags/list`, { headers: { Authorization: 'Bearer letmein' } });
    assertError(ok, 404, 'NAME_UNKNOWN');
    assert.equal(records.at(-1)?.user, 'alice');
  });

  it('turns a 403 decision into DENIED', async () => {
    assertError(await call(`${base}/v2/forbidden/app/manifests/v1`), 403, 'DENIED');
  });

  it('asks for the access each endpoint needs, shaped like token scopes', async () => {
    asked.length = 0;
    await call(`${base}/v2/`);
    await call(`${base}/v2/_catalog`);
    await call(`${base}/v2/a/b/manifests/v1`, { method: 'DELETE' });
    await call(`${base}/v2/a/b/blobs/uploads/`, { method: 'POST' });
    assert.deepEqual(asked, [
      [],
      [{ type: 'registry', name: 'catalog', actions: ['*'] }],
      [{ type: 'repository', name: 'a/b', actions: ['delete'] }],
      [{ type: 'repository', name: 'a/b', actions: ['pull', 'push'] }],
    ]);
  });

  it('emits push, pull, mount and delete events with the target, request and actor', async () => {
    events.length = 0;
    const image = buildImage();
    await pushBuilt(base, 'ev/app', image, 'v1');
    await call(`${base}/v2/ev/app/manifests/v1`);
    await call(`${base}/v2/ev/app/manifests/v1`, { method: 'HEAD' });
    const layer = image.layers[0]?.descriptor.digest ?? '';
    await call(`${base}/v2/ev/copy/blobs/uploads/?mount=${layer}&from=ev/app`, { method: 'POST' });
    await call(`${base}/v2/ev/app/manifests/${image.digest}`, { method: 'DELETE' });

    const summary = events.map((e) => `${e.action} ${e.repository} ${e.target.digest === image.digest ? 'manifest' : 'blob'}${e.target.tag ? `:${e.target.tag}` : ''}`);
    assert.deepEqual(summary, [
      'push ev/app blob', 'push ev/app blob', 'push ev/app manifest:v1', 'pull ev/app manifest:v1', 'mount ev/copy blob', 'delete ev/app manifest',
    ]);
    const manifestPush = events[2];
    assert.equal(manifestPush?.target.mediaType, image.mediaType);
    assert.equal(manifestPush?.target.size, image.bytes.length);
    assert.match(manifestPush?.target.url ?? '', new RegExp(`/v2/ev/app/manifests/${image.digest}$`));
    assert.equal(manifestPush?.actor.name, 'bob');
    assert.equal(manifestPush?.request.method, 'PUT');
    assert.equal(events[4]?.fromRepository, 'ev/app');
  });

  it('treats a mount source the caller may not read as absent (202, no mount)', async () => {
    const digest = await pushBlob(base, 'hidden/source', randomBytes(10)).catch(() => '');
    assert.equal(digest, '', 'the hidden repository refuses pushes too');
    const other = await pushBlob(base, 'open/source', randomBytes(10));
    const r = await call(`${base}/v2/open/target/blobs/uploads/?mount=${other}&from=hidden/source`, { method: 'POST' });
    assert.equal(r.status, 202);
  });

  it('records every request for metrics with route, status and bytes, and no query', async () => {
    records.length = 0;
    const bytes = randomBytes(5000);
    await pushBlob(base, 'metrics/app', bytes);
    const put = records.find((r) => r.route === 'blobs.upload' && r.method === 'PUT');
    assert.ok(put, JSON.stringify(records));
    assert.equal(put.status, 201);
    assert.equal(put.bytesIn, 5000);
    assert.equal(put.repository, 'metrics/app');
    assert.ok(!put.path.includes('?'), 'no query (digests, state) in the record');
  });

  it('records a request the client abandoned midway as 499', async () => {
    records.length = 0;
    const loc = new URL((await call(`${base}/v2/abandon/app/blobs/uploads/`, { method: 'POST' })).headers.get('location') ?? '', base);
    const req = request({ host: loc.hostname, port: loc.port, path: loc.pathname, method: 'PATCH', headers: { 'Content-Length': '100000' } });
    req.on('error', () => undefined);
    req.write(Buffer.alloc(1000));
    await sleep(200);
    req.destroy();
    let abandoned: RequestRecord | undefined;
    for (let i = 0; i < 50 && !abandoned; i++) {
      await sleep(100);
      abandoned = records.find((r) => r.route === 'blobs.upload' && r.method === 'PATCH');
    }
    assert.equal(abandoned?.status, 499);
    assert.equal(abandoned?.errorCode, 'CLIENT_CLOSED_REQUEST');
    const status = await call(loc.toString());
    assert.equal(status.status, 204, 'the session survives the broken chunk');
  });

  it('serves extra routes and wraps storage', async () => {
    const r = await call(`${base}/healthz`);
    assert.equal(r.status, 200);
    assert.equal(r.text, 'ok');
    assert.equal(records.at(-1)?.route, 'extra:healthz');
    const before = manifestReads;
    await call(`${base}/v2/ev/app/manifests/v1`);
    assert.equal(manifestReads, before + 1);
  });
});
