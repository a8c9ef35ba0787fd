import * as assert from 'node:assert/strict';
import { buildConfig, ConfigError, DEFAULT_MAX_MANIFEST_BYTES, expectObject, expectString, parseListen, registerConfigSection } from '../../../src/server/config';

function errorOf(file: Record<string, unknown>, flags = {}): string | undefined {
  try {
    buildConfig(file, flags, '/base');
    return undefined;
  } catch (e) {
    assert.ok(e instanceof ConfigError, String(e));
    return e.message;
  }
}

describe('server config', () => {
  it('has defaults for everything', () => {
    const { core } = buildConfig(undefined, {}, '/base');
    assert.deepEqual(core.listen, { host: '127.0.0.1', port: 5000 });
    assert.equal(core.storage.deleteEnabled, true);
    assert.equal(core.storage.readOnly, false);
    assert.equal(core.storage.maxManifestBytes, DEFAULT_MAX_MANIFEST_BYTES);
    assert.ok(core.storage.maxManifestBytes >= 4 * 1024 * 1024, 'the spec asks for at least 4 MB');
    assert.equal(core.log.level, 'info');
    assert.deepEqual(core.storage.backend, { kind: 'filesystem', fsync: true }, 'blobs are fsynced unless relaxed');
  });

  it('relaxes the fsync of blobs with storage.filesystem.fsync: false', () => {
    assert.deepEqual(buildConfig({ storage: { filesystem: { fsync: false } } }, {}, '/base').core.storage.backend, { kind: 'filesystem', fsync: false });
    assert.deepEqual(buildConfig({ storage: { filesystem: { fsync: true } } }, {}, '/base').core.storage.backend, { kind: 'filesystem', fsync: true });
  });

  it('lets the file set every flag, and flags win over the file', () => {
    const file = { listen: '127.0.0.1:6000', root: 'data', storage: { delete: { enabled: false }, readOnly: { enabled: true }, maxManifestBytes: 2048, uploadPurging: { enabled: false, maxAgeSeconds: 60, intervalSeconds: 5 } }, log: { level: 'warn', requests: false } };
    const fromFile = buildConfig(file, {}, '/base').core;
    assert.deepEqual(fromFile.listen, { host: '127.0.0.1', port: 6000 });
    assert.equal(fromFile.root, '/base/data');
    assert.equal(fromFile.storage.deleteEnabled, false);
    assert.equal(fromFile.storage.readOnly, true);
    assert.equal(fromFile.storage.maxManifestBytes, 2048);
    assert.deepEqual(fromFile.storage.uploadPurging, { enabled: false, maxAgeSeconds: 60, intervalSeconds: 5 });
    assert.deepEqual(fromFile.log, { level: 'warn', requests: false });
    const flagged = buildConfig(file, { listen: '127.0.0.1:0', root: '/elsewhere' }, '/base').core;
    assert.deepEqual(flagged.listen, { host: '127.0.0.1', port: 0 });
    assert.equal(flagged.root, '/elsewhere');
  });

  it('gives the S3 client a connect and an idle timeout, 10 s and 60 s unless storage.s3 sets them', () => {
    const s3Of = (s3: Record<string, unknown>): unknown => {
      const backend = buildConfig({ storage: { s3: { bucket: 'bucket', ...s3 } } }, {}, '/base').core.storage.backend;
      return backend.kind === 's3' ? { connectTimeoutMs: backend.s3.connectTimeoutMs, idleTimeoutMs: backend.s3.idleTimeoutMs } : backend;
    };
    assert.deepEqual(s3Of({}), { connectTimeoutMs: 10_000, idleTimeoutMs: 60_000 });
    assert.deepEqual(s3Of({ connectTimeout: '2s', idleTimeout: '1m30s' }), { connectTimeoutMs: 2_000, idleTimeoutMs: 90_000 });
    assert.deepEqual(s3Of({ connectTimeout: 500, idleTimeout: '750ms' }), { connectTimeoutMs: 500, idleTimeoutMs: 750 });
  });

  const bad: Array<{ input: Record<string, unknown>; flags?: Record<string, string>; names: string }> = [
    { input: { colour: 'blue' }, names: 'colour: unknown key' },
    { input: { storage: { deletes: true } }, names: 'storage.deletes: unknown key' },
    { input: { storage: { delete: { enabled: 'yes' } } }, names: 'storage.delete.enabled: expected true or false' },
    { input: { storage: { readOnly: true } }, names: 'storage.readOnly: expected a mapping' },
    { input: { storage: { maxManifestBytes: 'big' } }, names: 'storage.maxManifestBytes: expected an integer' },
    { input: { storage: { uploadPurging: { maxAgeSeconds: 0 } } }, names: 'storage.uploadPurging.maxAgeSeconds' },
    { input: { storage: { filesystem: { fsync: 'no' } } }, names: 'storage.filesystem.fsync: expected true or false, got "no"' },
    { input: { storage: { filesystem: { fsync: 0 } } }, names: 'storage.filesystem.fsync: expected true or false, got 0' },
    { input: { storage: { filesystem: { sync: false } } }, names: 'storage.filesystem.sync: unknown key (allowed here: fsync)' },
    { input: { storage: { filesystem: { fsync: false }, s3: { bucket: 'b' } } }, names: 'storage.filesystem: applies to a registry storing in its root folder, and storage.s3 is set' },
    { input: { storage: { s3: { bucket: 'bucket', idleTimeout: 'soon' } } }, names: 'storage.s3.idleTimeout: "soon" is not a duration (use 500ms, 10s, 1m)' },
    { input: { storage: { s3: { bucket: 'bucket', idleTimeout: 0 } } }, names: 'storage.s3.idleTimeout: must be longer than 0' },
    { input: { storage: { s3: { bucket: 'bucket', connectTimeout: '-1s' } } }, names: 'storage.s3.connectTimeout: "-1s" is not a duration' },
    { input: { storage: { s3: { bucket: 'bucket', connectTimeout: '0s' } } }, names: 'storage.s3.connectTimeout: must be longer than 0' },
    { input: { listen: 'localhost' }, names: 'listen: expected HOST:PORT' },
    { input: { listen: '127.0.0.1:70000' }, names: 'listen: expected HOST:PORT' },
    { input: {}, flags: { listen: 'nope' }, names: '--listen: expected HOST:PORT' },
    { input: { log: { level: 'loud' } }, names: 'log.level: expected one of debug, info, warn, error' },
    { input: { log: [] }, names: 'log: expected a mapping' },
    { input: { root: 5 }, names: 'root: expected a non-empty string' },
  ];
  for (const b of bad) {
    it(`names the bad key in "${b.names}"`, () => {
      const message = errorOf(b.input, b.flags) ?? '';
      assert.ok(message.startsWith(b.names), `got ${message}`);
      assert.ok(!message.includes('\n'), 'one line');
    });
  }

  const listens: Array<{ input: string; expected: { host: string; port: number } }> = [
    { input: '127.0.0.1:0', expected: { host: '127.0.0.1', port: 0 } },
    { input: '[::1]:5000', expected: { host: '::1', port: 5000 } },
    { input: ':5000', expected: { host: '0.0.0.0', port: 5000 } },
    { input: 'localhost:80', expected: { host: 'localhost', port: 80 } },
  ];
  for (const l of listens) it(`reads --listen ${l.input}`, () => assert.deepEqual(parseListen(l.input), l.expected));

  it('validates registered sections with their own validator', () => {
    registerConfigSection({
      name: 'unitTestSection',
      validate: (value, path) => expectString(expectObject(value, path, ['realm'])['realm'], `${path}.realm`),
    });
    assert.equal(buildConfig({ unitTestSection: { realm: 'r' } }).sections.get('unitTestSection'), 'r');
    assert.equal(errorOf({ unitTestSection: { realms: 'r' } })?.startsWith('unitTestSection.realms: unknown key'), true);
  });
});
