/**
 * Abandoned uploads (a client that died, a kill -9) are purged after `storage.uploadPurging.maxAgeSeconds`:
 * once when the server starts and then every `intervalSeconds`. Younger and active uploads stay.
 */
import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, utimesSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { digestOf } from '../../../src/oci/digest';
import { startBerthRegistry, type BerthRegistry } from '../../support/berthRegistry';
import { startDistribution } from '../../support/distribution';
import { removeDir, sleep, tempDir, waitFor } from '../../support/proc';
import { uploadUrl } from '../../support/ociImage';

const HOUR_MS = 3600_000;

function configFile(dir: string, uploadPurging: Record<string, unknown>): string {
  const file = join(dir, `config-${Date.now()}.yml`);
  writeFileSync(file, stringify({ storage: { uploadPurging } }));
  return file;
}

interface Started {
  /** Path and query of the session, valid across restarts on another port. */
  location: string;
  id: string;
  bytes: Buffer;
}

/** POST, then one PATCH with Content-Range, then nothing: an upload its client abandoned. */
async function abandonedUpload(registry: { url: string }, repo: string): Promise<Started> {
  const post = await fetch(`${registry.url}/v2/${repo}/blobs/uploads/`, { method: 'POST' });
  assert.equal(post.status, 202);
  const first = new URL(post.headers.get('location') ?? '', registry.url);
  const bytes = randomBytes(256 * 1024);
  const patch = await fetch(uploadUrl(registry.url, first.pathname + first.search), {
    method: 'PATCH', body: bytes,
    headers: { 'Content-Type': 'application/octet-stream', 'Content-Range': `0-${bytes.length - 1}`, 'Content-Length': String(bytes.length) },
  });
  assert.equal(patch.status, 202, await patch.text());
  const after = new URL(patch.headers.get('location') ?? first.toString(), registry.url);
  const id = after.pathname.split('/').pop() ?? '';
  return { location: after.pathname + after.search, id, bytes };
}

const uploadDir = (root: string, repo: string, id: string): string => join(root, 'docker', 'registry', 'v2', 'repositories', repo, '_uploads', id);

async function uploadStatus(registry: BerthRegistry, location: string): Promise<number> {
  const res = await fetch(uploadUrl(registry.url, location));
  await res.arrayBuffer();
  return res.status;
}

describe('purging abandoned uploads on berth', function () {
  let dir: string;
  let registry: BerthRegistry | undefined;
  before(function () {
    dir = tempDir('purge');
  });
  afterEach(async function () {
    await registry?.stop();
    registry = undefined;
  });
  after(function () {
    if (dir) removeDir(dir);
  });

  it('purges at start an upload older than maxAgeSeconds and keeps a younger one, which still completes', async function () {
    const root = join(dir, 'at-start');
    registry = await startBerthRegistry({ root });
    const old = await abandonedUpload(registry, 'purge/app');
    const young = await abandonedUpload(registry, 'purge/app');
    await registry.stop();

    // Age the old session as distribution records it: `startedat` (RFC 3339) and the folder's times.
    const oldDir = uploadDir(root, 'purge/app', old.id);
    assert.ok(existsSync(oldDir), `upload folder ${oldDir} missing`);
    const twoHoursAgo = new Date(Date.now() - 2 * HOUR_MS);
    writeFileSync(join(oldDir, 'startedat'), twoHoursAgo.toISOString());
    for (const f of [join(oldDir, 'startedat'), oldDir]) utimesSync(f, twoHoursAgo, twoHoursAgo);

    registry = await startBerthRegistry({ root, args: ['--config', configFile(dir, { enabled: true, maxAgeSeconds: 3600, intervalSeconds: 3600 })] });
    const r = registry;
    await waitFor('the old upload to be purged', async () => (existsSync(oldDir) ? undefined : true), 15_000);
    assert.equal(await uploadStatus(r, old.location), 404);

    assert.equal(await uploadStatus(r, young.location), 204);
    const put = await fetch(uploadUrl(r.url, young.location, { digest: digestOf(young.bytes) }), { method: 'PUT' });
    assert.equal(put.status, 201, await put.text());
  });

  it('purges an old upload that distribution abandoned in the same root', async function () {
    const root = join(dir, 'from-distribution');
    const other = await startDistribution({ root });
    let abandoned: Started;
    try {
      abandoned = await abandonedUpload(other, 'purge/theirs');
    } finally {
      await other.stop();
    }
    const folder = uploadDir(root, 'purge/theirs', abandoned.id);
    assert.ok(existsSync(join(folder, 'startedat')), `distribution wrote no startedat in ${folder}`);
    const twoHoursAgo = new Date(Date.now() - 2 * HOUR_MS);
    // distribution's own format: RFC 3339 with nanoseconds.
    writeFileSync(join(folder, 'startedat'), twoHoursAgo.toISOString().replace('Z', '123456Z'));
    registry = await startBerthRegistry({ root, args: ['--config', configFile(dir, { enabled: true, maxAgeSeconds: 3600, intervalSeconds: 3600 })] });
    await waitFor('the old upload to be purged', async () => (existsSync(folder) ? undefined : true), 15_000);
  });

  it('purges an abandoned upload while running, on the configured interval', async function () {
    const root = join(dir, 'interval');
    registry = await startBerthRegistry({ root, args: ['--config', configFile(dir, { enabled: true, maxAgeSeconds: 1, intervalSeconds: 1 })] });
    const r = registry;
    const abandoned = await abandonedUpload(r, 'purge/idle');
    await waitFor('the idle upload to be purged', async () => ((await uploadStatus(r, abandoned.location)) === 404 ? true : undefined), 20_000, 250);
    const uploads = join(root, 'docker', 'registry', 'v2', 'repositories', 'purge', 'idle', '_uploads');
    assert.deepEqual(existsSync(uploads) ? readdirSync(uploads) : [], []);
  });

  it('does not purge an upload that is receiving data, however long it takes', async function () {
    const root = join(dir, 'active');
    registry = await startBerthRegistry({ root, args: ['--config', configFile(dir, { enabled: true, maxAgeSeconds: 1, intervalSeconds: 1 })] });
    const r = registry;
    const post = await fetch(`${r.url}/v2/purge/active/blobs/uploads/`, { method: 'POST' });
    const location = new URL(post.headers.get('location') ?? '', r.url);
    const chunk = randomBytes(64 * 1024);
    const chunks = 16;
    const digest = digestOf(Buffer.concat(Array.from({ length: chunks }, () => chunk)));
    // One streamed PUT trickling for ~4 s, longer than maxAgeSeconds plus an interval; a single
    // request, so that no idle moment between requests lets a purge in legitimately.
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(uploadUrl(r.url, location.pathname + location.search, { digest }), { method: 'PUT', headers: { 'Content-Type': 'application/octet-stream' } });
      req.once('response', (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.once('error', reject);
      void (async () => {
        for (let i = 0; i < chunks; i++) {
          req.write(chunk);
          await sleep(250);
        }
        req.end();
      })();
    });
    assert.equal(status, 201);
    assert.equal((await fetch(`${r.url}/v2/purge/active/blobs/${digest}`, { method: 'HEAD' })).status, 200);
  });
});
