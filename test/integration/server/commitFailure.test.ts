/**
 * A blob whose bytes the disk failed to make durable is never acknowledged, then or on a retry. The
 * kernel reports a failed writeback to a file once: the fsync after it succeeds, and the running hash
 * of the session still matches what the client sent, not what the disk kept. So a commit that fails
 * drops its upload session, and the client pushes the blob again from the start.
 *
 * No disk fails on demand here: the driver below lets the real commit run and then does what a lost
 * writeback leaves, a byte of the file that differs from what was written, and reports EIO. A pull the
 * disk fails is told that reading failed, not that nothing was stored.
 */
import * as assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { RegistryHandler } from '../../../src/server/handler';
import { defaultHooks } from '../../../src/server/hooks';
import { startServer, type RunningServer } from '../../../src/server/server';
import { FsDriver, LinkStorage } from '../../../src/server/storage';
import type { FileWriter } from '../../../src/server/storage/driver';
import { removeDir, tempDir } from '../../support/proc';
import { assertError, call, locationOf, startUpload, withParams, type Reply } from './http';

/** A filesystem driver whose next upload commit loses the file's first byte and reports EIO, once. */
class LosingDriver extends FsDriver {
  failNextCommit = false;
  failNextBlobRead = false;

  override async reader(path: string, offset?: number, end?: number): Promise<Readable> {
    if (this.failNextBlobRead && path.includes('/blobs/')) {
      this.failNextBlobRead = false;
      throw Object.assign(new Error(`EIO: i/o error, read '${this.fullPath(path)}'`), { code: 'EIO', syscall: 'read' });
    }
    return super.reader(path, offset, end);
  }

  override async writer(path: string, append: boolean): Promise<FileWriter> {
    const inner = await super.writer(path, append);
    const file = this.fullPath(path);
    const commit = async (): Promise<void> => {
      await inner.commit();
      if (!this.failNextCommit || !path.includes('/_uploads/')) return;
      this.failNextCommit = false;
      const fh = await open(file, 'r+');
      try {
        const first = Buffer.alloc(1);
        await fh.read(first, 0, 1, 0);
        await fh.write(Buffer.from([first[0] as number ^ 0xff]), 0, 1, 0);
      } finally {
        await fh.close();
      }
      throw Object.assign(new Error(`EIO: i/o error, fsync '${file}'`), { code: 'EIO', syscall: 'fsync' });
    };
    return Object.assign(Object.create(inner) as FileWriter, { commit });
  }
}

const sha256 = (b: Buffer): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;

describe('an upload whose commit the disk fails', () => {
  let dir: string;
  let driver: LosingDriver;
  let server: RunningServer;
  let base: string;
  const serverErrors: unknown[] = [];

  before(async () => {
    dir = tempDir('commit-failure');
    driver = new LosingDriver(join(dir, 'data'));
    const storage = new LinkStorage(driver);
    await storage.init();
    const hooks = defaultHooks();
    server = await startServer({ host: '127.0.0.1', port: 0 },
      new RegistryHandler({ storage, hooks, deleteEnabled: true, maxManifestBytes: 1 << 20, onServerError: (e) => serverErrors.push(e) }), hooks);
    base = server.url;
  });
  after(async () => {
    await server?.close();
    if (dir) removeDir(dir);
  });

  const cases: { name: string; send: (session: string, blob: Buffer) => Promise<Reply> }[] = [
    {
      name: 'a chunked upload (PATCH, then PUT ?digest=)',
      send: async (session, blob) => {
        const patch = await call(session, { method: 'PATCH', body: blob, headers: { 'Content-Type': 'application/octet-stream', 'Content-Range': `0-${blob.length - 1}` } });
        assert.equal(patch.status, 202, patch.text);
        return call(withParams(locationOf(base, patch), { digest: sha256(blob) }), { method: 'PUT' });
      },
    },
    {
      name: 'a monolithic PUT with the body',
      send: (session, blob) => call(withParams(session, { digest: sha256(blob) }), { method: 'PUT', body: blob, headers: { 'Content-Type': 'application/octet-stream' } }),
    },
  ];

  for (const c of cases) {
    it(`answers ${c.name} with a JSON 500, drops the session so that no retry acknowledges the lost bytes, and takes the blob pushed again`, async () => {
      const repo = 'disk/failing';
      const blob = randomBytes(256 * 1024);
      const session = await startUpload(base, repo);
      driver.failNextCommit = true;
      const failed = await c.send(session, blob);
      assertError(failed, 500, 'UNSUPPORTED');
      assert.match(failed.text, /the registry's storage reported an I\/O error \(EIO\); nothing this request sent was stored\. Check the disk and the registry log, then try again/);
      assert.match(String(serverErrors.at(-1)), /EIO/, 'the disk error is logged as a server error');

      // The client retries the PUT it saw fail, as a resuming client would: the session is gone.
      assertError(await call(withParams(session, { digest: sha256(blob) }), { method: 'PUT' }), 404, 'BLOB_UPLOAD_UNKNOWN');
      assertError(await call(session), 404, 'BLOB_UPLOAD_UNKNOWN');
      assert.equal((await call(`${base}/v2/${repo}/blobs/${sha256(blob)}`, { method: 'HEAD' })).status, 404, 'nothing was acknowledged');

      const again = await c.send(await startUpload(base, repo), blob);
      assert.equal(again.status, 201, again.text);
      const pulled = await call(`${base}/v2/${repo}/blobs/${sha256(blob)}`);
      assert.equal(pulled.status, 200);
      assert.equal(sha256(pulled.body), sha256(blob), 'the blob reads back whole');
    });
  }

  it('answers a pull the disk fails with a JSON 500 that says reading failed, and serves the blob once the disk reads again', async () => {
    const repo = 'disk/reading';
    const blob = randomBytes(64 * 1024);
    const pushed = await call(withParams(await startUpload(base, repo), { digest: sha256(blob) }), { method: 'PUT', body: blob, headers: { 'Content-Type': 'application/octet-stream' } });
    assert.equal(pushed.status, 201, pushed.text);
    driver.failNextBlobRead = true;
    const failed = await call(`${base}/v2/${repo}/blobs/${sha256(blob)}`);
    assertError(failed, 500, 'UNSUPPORTED');
    assert.match(failed.text, /the registry's storage reported an I\/O error \(EIO\) while reading; what it holds may be damaged\. Check the disk and the registry log, then try again/);
    assert.doesNotMatch(failed.text, /nothing this request sent was stored/);
    assert.match(String(serverErrors.at(-1)), /EIO/, 'the disk error is logged as a server error');
    const pulled = await call(`${base}/v2/${repo}/blobs/${sha256(blob)}`);
    assert.equal(pulled.status, 200);
    assert.equal(sha256(pulled.body), sha256(blob));
  });
});
