import { strict as assert } from 'node:assert';
import { readS3Config } from '../../../src/server/storage/s3Config';
import { buildConfig } from '../../../src/server/config';
import { changesOf, describeChange, isNews, registryConfig } from '../../../src/local/events';

const D = 'sha256:' + 'a'.repeat(64);
const ev = (action: string, target: Record<string, unknown>) => ({ id: '1', timestamp: '', action, target: { digest: D, ...target } });

describe('registry events', () => {
  it('keeps manifest pushes and deletes, leaves out blob pushes and pulls', () => {
    const envelope = {
      events: [
        ev('push', { repository: 'a', mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip' }),
        ev('push', { repository: 'a', mediaType: 'application/vnd.oci.image.manifest.v1+json', tag: '1.4' }),
        ev('push', { repository: 'a', mediaType: 'application/vnd.docker.distribution.manifest.list.v2+json' }),
        ev('pull', { repository: 'a', mediaType: 'application/vnd.oci.image.manifest.v1+json', tag: '1.4' }),
        ev('delete', { repository: 'b', tag: 'old' }),
        ev('mount', { repository: 'c' }),
      ],
    };
    assert.deepEqual(changesOf(envelope), [
      { action: 'push', repository: 'a', digest: D, tag: '1.4' },
      { action: 'push', repository: 'a', digest: D },
      { action: 'delete', repository: 'b', digest: D, tag: 'old' },
    ]);
  });

  it('reads when the registry made the change', () => {
    const [c] = changesOf({ events: [{ ...ev('delete', { repository: 'a' }), timestamp: '2026-11-23T16:00:00.123Z' }] });
    assert.equal(c?.atMs, Date.parse('2026-11-23T16:00:00.123Z'));
  });

  const junk: unknown[] = [null, 'x', {}, { events: 'no' }, { events: [null, { action: 'push' }, { action: 'push', target: { repository: 1 } }] }];
  for (const j of junk) it(`ignores a malformed envelope ${JSON.stringify(j)}`, () => assert.deepEqual(changesOf(j), []));

  it('says what happened in a few words, and only tagged pushes and deletes are news', () => {
    assert.equal(describeChange({ action: 'push', repository: 'team-a/api', tag: '1.4', digest: D }), 'pushed team-a/api:1.4');
    assert.equal(describeChange({ action: 'delete', repository: 'a', digest: D }), `deleted a@${D}`);
    assert.equal(isNews({ action: 'push', repository: 'a', digest: D }), false);
    assert.equal(isNews({ action: 'delete', repository: 'a', digest: D }), true);
  });

  it('writes a registry config with one endpoint carrying the token, pulls ignored', () => {
    const c = JSON.parse(registryConfig({ url: 'http://127.0.0.1:1234/events', token: 'tok' })) as { notifications: { endpoints: Array<{ url: string; headers: Record<string, string[]>; ignore: { actions: string[] } }> } };
    const e = c.notifications.endpoints[0];
    assert.equal(e?.url, 'http://127.0.0.1:1234/events');
    assert.deepEqual(e?.headers, { Authorization: ['Bearer tok'] });
    assert.deepEqual(e?.ignore.actions, ['pull']);
  });

  it('puts the S3 settings, never keys, into the config the server reads as storage.s3, and leaves out notifications when events are off', () => {
    const text = registryConfig(undefined, { bucket: 'images', endpoint: 'http://127.0.0.1:7480', rootDirectory: 'team/local', forcePathStyle: true });
    const c = JSON.parse(text) as Record<string, unknown>;
    assert.deepEqual(c, { storage: { s3: { bucket: 'images', endpoint: 'http://127.0.0.1:7480', rootDirectory: 'team/local', forcePathStyle: true } } });
    assert.doesNotThrow(() => readS3Config((c['storage'] as { s3: unknown }).s3, 'storage.s3', {}));
  });

  const fsyncCases = [
    { what: 'leaves the fsync of blobs on by default', s3: undefined, fsync: true, storage: undefined },
    { what: 'turns the fsync of a local folder\'s blobs off with berth.localRegistry.fsync: false', s3: undefined, fsync: false, storage: { filesystem: { fsync: false } } },
    { what: 'leaves the fsync setting out when the images live in S3', s3: { bucket: 'images' }, fsync: false, storage: { s3: { bucket: 'images' } } },
  ];
  for (const t of fsyncCases) {
    it(t.what, () => {
      const c = JSON.parse(registryConfig(undefined, t.s3, t.fsync)) as Record<string, unknown>;
      assert.deepEqual(c['storage'], t.storage);
      assert.doesNotThrow(() => buildConfig(c, {}, '/base'), 'the registry accepts it');
    });
  }
});
