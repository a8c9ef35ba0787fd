import * as assert from 'node:assert/strict';
import { parseDigest, type ParsedDigest } from '../../../src/oci/digest';
import { Layout, isUploadId, parseLink } from '../../../src/server/layout';

function digest(s: string): ParsedDigest {
  const d = parseDigest(s);
  if ('problem' in d) throw new Error(d.problem);
  return d;
}

describe('server layout: distribution 2.8 paths', () => {
  const hex = '2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824';
  const d = digest(`sha256:${hex}`);
  const l = new Layout('/r');
  const v2 = '/r/docker/registry/v2';
  // Paths as distribution 2.8 wrote them for a push of a/b:v1 (observed with `find` on its root).
  const table: Array<{ what: string; got: string; expected: string }> = [
    { what: 'blob data', got: l.blobData(d), expected: `${v2}/blobs/sha256/2c/${hex}/data` },
    { what: 'layer link', got: l.layerLink('a/b', d), expected: `${v2}/repositories/a/b/_layers/sha256/${hex}/link` },
    { what: 'revision link', got: l.revisionLink('a/b', d), expected: `${v2}/repositories/a/b/_manifests/revisions/sha256/${hex}/link` },
    { what: 'tag current link', got: l.tagCurrentLink('a/b', 'v1'), expected: `${v2}/repositories/a/b/_manifests/tags/v1/current/link` },
    { what: 'tag index link', got: l.tagIndexLink('a/b', 'v1', d), expected: `${v2}/repositories/a/b/_manifests/tags/v1/index/sha256/${hex}/link` },
    { what: 'upload data', got: l.uploadData('a/b', 'u'), expected: `${v2}/repositories/a/b/_uploads/u/data` },
    { what: 'upload start time', got: l.uploadStartedAt('a/b', 'u'), expected: `${v2}/repositories/a/b/_uploads/u/startedat` },
  ];
  for (const t of table) it(`puts the ${t.what} where distribution does`, () => assert.equal(t.got, t.expected));

  it('keeps the referrers index of a repository apart from nested repositories', () => {
    const subject = digest(`sha256:${hex}`);
    assert.equal(l.referrersDir('a/b', subject), `/r/.berth/referrers/a/b/_subjects/sha256-${hex}`);
    assert.ok(!l.referrersDir('a', subject).startsWith(l.referrersRepoDir('a/b')));
  });

  it('reads link files with or without a trailing newline, and rejects junk', () => {
    assert.equal(parseLink(`sha256:${hex}\n`)?.digest, `sha256:${hex}`);
    assert.equal(parseLink('../../etc/passwd'), undefined);
  });

  it('accepts only lowercase UUIDs as upload ids', () => {
    assert.equal(isUploadId('90f821ed-9f43-4260-a470-42ff24ccef9a'), true);
    for (const bad of ['..', '90F821ED-9F43-4260-A470-42FF24CCEF9A', '90f821ed-9f43-4260-a470-42ff24ccef9a/..', '']) assert.equal(isUploadId(bad), false, bad);
  });
});
