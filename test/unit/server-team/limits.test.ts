import * as assert from 'node:assert/strict';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { parseBytes, parseDurationMs } from '../../../src/server/limits/units';
import { BodyTooLargeError, byteLimit, DEFAULT_LIMITS, FailedLoginLimiter, readLimits, Slots } from '../../../src/server/limits/limits';
import { checkListenSafety, isLoopbackHost } from '../../../src/server/limits/listen';

describe('limits: units', () => {
  const durations: Array<{ input: unknown; expected: number | undefined }> = [
    { input: '500ms', expected: 500 },
    { input: '30s', expected: 30_000 },
    { input: '1h30m', expected: 5_400_000 },
    { input: '168h', expected: 604_800_000 },
    { input: 250, expected: 250 },
    { input: '5 minutes', expected: undefined },
    { input: '', expected: undefined },
    { input: -1, expected: undefined },
  ];
  for (const { input, expected } of durations) {
    it(`reads the duration ${JSON.stringify(input)} as ${String(expected)}`, () => assert.equal(parseDurationMs(input), expected));
  }
  const sizes: Array<{ input: unknown; expected: number | undefined }> = [
    { input: '4MiB', expected: 4 * 1024 * 1024 },
    { input: '512k', expected: 512_000 },
    { input: '1.5GiB', expected: 1.5 * 1024 ** 3 },
    { input: 1024, expected: 1024 },
    { input: '12 parsecs', expected: undefined },
  ];
  for (const { input, expected } of sizes) {
    it(`reads the size ${JSON.stringify(input)} as ${String(expected)}`, () => assert.equal(parseBytes(input), expected));
  }
});

describe('limits: config', () => {
  it('uses safe defaults when the section is absent', () => assert.deepEqual(readLimits(undefined), DEFAULT_LIMITS));
  it('reads units into the fields that carry them', () => {
    const l = readLimits({ maxBlobSize: '8MiB', idleTimeout: '2s', maxFailedLoginsPerMinute: 3 });
    assert.equal(l.maxBlobBytes, 8 * 1024 * 1024);
    assert.equal(l.idleTimeoutMs, 2000);
    assert.equal(l.maxFailedLoginsPerMinute, 3);
  });
  const bad: Array<{ input: unknown; message: RegExp }> = [
    { input: { idleTimeout: 'soon' }, message: /^limits\.idleTimeout: "soon" is not a duration/ },
    { input: { maxConcurrentUploads: 0 }, message: /^limits\.maxConcurrentUploads: expected a whole number/ },
    { input: { maxBlobsize: '1GiB' }, message: /^limits\.maxBlobsize: unknown key/ },
    { input: ['x'], message: /^limits: expected a mapping/ },
  ];
  for (const { input, message } of bad) {
    it(`names the key in the error for ${JSON.stringify(input)}`, () => assert.throws(() => readLimits(input), { message }));
  }
});

describe('limits: listening address', () => {
  const hosts: Array<{ host: string; loopback: boolean }> = [
    { host: '127.0.0.1', loopback: true }, { host: '127.1.2.3', loopback: true }, { host: 'localhost', loopback: true },
    { host: '::1', loopback: true }, { host: '[::1]', loopback: true }, { host: '::ffff:127.0.0.1', loopback: true },
    { host: '0.0.0.0', loopback: false }, { host: '192.168.1.5', loopback: false }, { host: '::', loopback: false }, { host: 'registry.lan', loopback: false },
  ];
  for (const { host, loopback } of hosts) it(`treats ${host} as ${loopback ? '' : 'not '}loopback`, () => assert.equal(isLoopbackHost(host), loopback));

  it('allows loopback without auth or TLS and without a warning', () => {
    assert.deepEqual(checkListenSafety({ host: '127.0.0.1', authEnabled: false, tlsEnabled: false, insecure: false }), { ok: true });
  });
  it('refuses another address without auth and TLS, naming what is missing', () => {
    const r = checkListenSafety({ host: '0.0.0.0', authEnabled: true, tlsEnabled: false, insecure: false });
    assert.equal(r.ok, false);
    assert.match(!r.ok ? r.error : '', /without TLS .*--insecure/);
  });
  it('allows another address with --insecure but warns', () => {
    const r = checkListenSafety({ host: '0.0.0.0', authEnabled: false, tlsEnabled: false, insecure: true });
    assert.ok(r.ok && r.warning && /WARNING.*authentication.*TLS/.test(r.warning));
  });
  it('allows another address with auth and TLS', () => {
    assert.deepEqual(checkListenSafety({ host: '0.0.0.0', authEnabled: true, tlsEnabled: true, insecure: false }), { ok: true });
  });
});

describe('limits: counters', () => {
  it('answers when slots run out and frees a slot once even if released twice', () => {
    const slots = new Slots(2);
    const a = slots.tryAcquire();
    const b = slots.tryAcquire();
    assert.ok(a && b);
    assert.equal(slots.tryAcquire(), undefined);
    a();
    a();
    assert.equal(slots.inUse, 1);
    assert.ok(slots.tryAcquire());
  });

  it('blocks a client after N failed logins in a minute and tells it when to retry', () => {
    const limiter = new FailedLoginLimiter(3, 60_000);
    const t0 = 1_000_000;
    for (let i = 0; i < 3; i++) {
      assert.equal(limiter.retryAfterSeconds('10.0.0.1', t0 + i * 1000), 0);
      limiter.recordFailure('10.0.0.1', t0 + i * 1000);
    }
    assert.equal(limiter.retryAfterSeconds('10.0.0.1', t0 + 3000), 57);
    assert.equal(limiter.retryAfterSeconds('10.0.0.2', t0 + 3000), 0, 'other clients are not affected');
    assert.equal(limiter.retryAfterSeconds('10.0.0.1', t0 + 60_001), 0, 'the window slides');
  });

  it('keeps its table bounded under a flood of addresses', () => {
    const limiter = new FailedLoginLimiter(1, 60_000, 100);
    for (let i = 0; i < 1000; i++) limiter.recordFailure(`10.0.${i >> 8}.${i & 255}`, 0);
    assert.equal(limiter.retryAfterSeconds('10.0.3.231', 1), 60, 'the newest client is still tracked');
    assert.equal(limiter.retryAfterSeconds('10.0.0.0', 1), 0, 'the oldest was dropped');
  });

  it('fails a stream that passes its byte limit with BodyTooLargeError', async () => {
    await assert.rejects(pipeline(Readable.from([Buffer.alloc(600), Buffer.alloc(600)]), byteLimit(1000), new Writable({ write: (_c, _e, done) => done() })), BodyTooLargeError);
  });
});
