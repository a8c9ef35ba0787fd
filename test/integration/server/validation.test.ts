/**
 * Hostile and malformed requests: every one gets a 4xx with a spec error code (never a 5xx, never a
 * crash), and nothing is written outside the storage root. Paths are sent as written, without the
 * normalisation fetch would apply.
 */
import * as assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { startBerthRegistry, type BerthRegistry } from '../../support/berthRegistry';
import { isAlive, removeDir, tempDir } from '../../support/proc';
import { buildImage, pushBuilt } from '../../support/ociImage';
import { rawRequest } from './http';

const SPEC_CODES = ['BLOB_UNKNOWN', 'BLOB_UPLOAD_INVALID', 'BLOB_UPLOAD_UNKNOWN', 'DIGEST_INVALID', 'MANIFEST_BLOB_UNKNOWN', 'MANIFEST_INVALID',
  'MANIFEST_UNKNOWN', 'NAME_INVALID', 'NAME_UNKNOWN', 'SIZE_INVALID', 'UNAUTHORIZED', 'DENIED', 'UNSUPPORTED', 'TOOMANYREQUESTS'];
const hex = 'a'.repeat(64);

function codesOf(text: string): string[] {
  try {
    return ((JSON.parse(text) as { errors?: { code: string }[] }).errors ?? []).map((e) => e.code);
  } catch {
    return [];
  }
}

describe('registry validation of hostile requests', () => {
  let reg: BerthRegistry;
  let dir: string;
  before(async () => {
    dir = tempDir('hostile');
    reg = await startBerthRegistry({ root: join(dir, 'data') });
    await pushBuilt(reg.url, 'good/repo', buildImage(), 'v1');
  });
  after(async () => {
    await reg?.stop();
    removeDir(dir);
  });

  const table: Array<{ method: string; path: string; status: number; code: string }> = [
    { method: 'GET', path: '/v2/A/tags/list', status: 400, code: 'NAME_INVALID' },
    { method: 'GET', path: '/v2/good/../repo/tags/list', status: 400, code: 'NAME_INVALID' },
    { method: 'GET', path: '/v2/../../etc/tags/list', status: 400, code: 'NAME_INVALID' },
    { method: 'GET', path: '/v2/%2e%2e/%2e%2e/etc/tags/list', status: 400, code: 'NAME_INVALID' },
    { method: 'GET', path: '/v2/good%2f..%2f..%2fx/tags/list', status: 400, code: 'NAME_INVALID' },
    { method: 'GET', path: '/v2/good//repo/tags/list', status: 400, code: 'NAME_INVALID' },
    { method: 'GET', path: '/v2/good/repo%00/tags/list', status: 400, code: 'NAME_INVALID' },
    { method: 'GET', path: '/v2/good%zz/tags/list', status: 400, code: 'NAME_INVALID' },
    { method: 'GET', path: '/v2/good\\..\\x/tags/list', status: 400, code: 'NAME_INVALID' },
    { method: 'GET', path: `/v2/${'x'.repeat(256)}/tags/list`, status: 400, code: 'NAME_INVALID' },
    { method: 'PUT', path: '/v2/UPPER/manifests/v1', status: 400, code: 'NAME_INVALID' },
    { method: 'GET', path: '/v2/good/repo/manifests/..', status: 400, code: 'MANIFEST_INVALID' },
    { method: 'GET', path: '/v2/good/repo/manifests/%2e%2e', status: 400, code: 'MANIFEST_INVALID' },
    { method: 'GET', path: `/v2/good/repo/manifests/${'t'.repeat(129)}`, status: 400, code: 'MANIFEST_INVALID' },
    { method: 'PUT', path: '/v2/good/repo/manifests/.hidden', status: 400, code: 'MANIFEST_INVALID' },
    { method: 'GET', path: '/v2/good/repo/manifests/sha256:..%2f..%2f..', status: 404, code: 'NAME_UNKNOWN' },
    { method: 'GET', path: `/v2/good/repo/blobs/sha256:${'A'.repeat(64)}`, status: 400, code: 'DIGEST_INVALID' },
    { method: 'GET', path: `/v2/good/repo/blobs/md5:${'a'.repeat(32)}`, status: 400, code: 'DIGEST_INVALID' },
    { method: 'GET', path: `/v2/good/repo/blobs/sha256:${'a'.repeat(65)}`, status: 400, code: 'DIGEST_INVALID' },
    { method: 'DELETE', path: '/v2/good/repo/blobs/sha256:%2e%2e', status: 400, code: 'DIGEST_INVALID' },
    { method: 'GET', path: '/v2/good/repo/blobs/uploads/..%2f..%2f_layers', status: 404, code: 'NAME_UNKNOWN' },
    { method: 'PATCH', path: '/v2/good/repo/blobs/uploads/%2e%2e', status: 404, code: 'BLOB_UPLOAD_UNKNOWN' },
    { method: 'PUT', path: '/v2/good/repo/blobs/uploads/00000000-0000-0000-0000-000000000000?digest=sha256:zz', status: 400, code: 'DIGEST_INVALID' },
    { method: 'POST', path: `/v2/good/repo/blobs/uploads/?mount=sha256:${hex}&from=..%2F..`, status: 400, code: 'NAME_INVALID' },
    { method: 'POST', path: '/v2/good/repo/blobs/uploads/?mount=sha256:nope', status: 400, code: 'DIGEST_INVALID' },
    { method: 'POST', path: '/v2/good/repo/blobs/uploads/?digest=sha256:nope', status: 400, code: 'DIGEST_INVALID' },
    { method: 'GET', path: '/v2/good/repo/referrers/sha256:%2e%2e', status: 400, code: 'DIGEST_INVALID' },
    { method: 'POST', path: '/v2/good/repo/manifests/v1', status: 405, code: 'UNSUPPORTED' },
    { method: 'GET', path: '/etc/passwd', status: 404, code: 'UNSUPPORTED' },
    { method: 'GET', path: '/v2/good/repo/whatever', status: 404, code: 'NAME_UNKNOWN' },
  ];
  for (const t of table) {
    it(`answers ${t.method} ${t.path.slice(0, 70)} with ${t.status} ${t.code}`, async () => {
      const r = await rawRequest(reg.url, t.method, t.path, t.method === 'PUT' || t.method === 'PATCH' ? Buffer.from('{}') : undefined);
      assert.equal(r.status, t.status, r.text);
      assert.deepEqual(codesOf(r.text), [t.code], r.text);
      assert.equal(r.headers['docker-distribution-api-version'], 'registry/2.0');
    });
  }

  it('answers a few hundred generated hostile paths with 4xx spec errors, stays up, and writes only under its root', async () => {
    const names = ['good/repo', '..', '%2e%2e', 'a//b', 'a%00b', 'A', '%2F', '.', 'x/../y', 'a/%2e%2e/b', ''];
    const tails = ['tags/list', 'manifests/..', 'manifests/v1', `manifests/sha256:${hex}`, 'manifests/sha256:..', `blobs/sha256:${hex}`, 'blobs/..',
      'blobs/uploads/', 'blobs/uploads/..', 'blobs/uploads/%2e%2e%2fx', `referrers/sha256:${hex}`, 'referrers/..', '%00', '..%2f..%2f'];
    const methods = ['GET', 'HEAD', 'PUT', 'PATCH', 'DELETE', 'POST'];
    let sent = 0;
    for (const name of names) {
      for (const tail of tails) {
        const method = methods[sent % methods.length] ?? 'GET';
        const path = `/v2/${name}/${tail}`;
        const r = await rawRequest(reg.url, method, path, method === 'PUT' || method === 'PATCH' ? Buffer.from('x') : undefined);
        sent++;
        assert.ok(r.status < 500, `${method} ${path} gave ${r.status}: ${r.text}`);
        if (r.status >= 400 && method !== 'HEAD') {
          const codes = codesOf(r.text);
          assert.ok(codes.length > 0 && codes.every((c) => SPEC_CODES.includes(c)), `${method} ${path}: ${r.text}`);
        }
      }
    }
    assert.ok(sent > 100);
    assert.ok(isAlive(reg.pid), 'the server is still running');
    assert.deepEqual(readdirSync(dirname(reg.root)), ['data'], 'nothing was written beside the root');
    const top = readdirSync(reg.root).sort();
    assert.deepEqual(top, ['.berth', 'docker']);
  });
});
