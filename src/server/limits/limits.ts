/**
 * The registry's guard rails (manifest size is the core's storage.maxManifestBytes): request and blob sizes, concurrent uploads, header and idle
 * timeouts, and a cap on failed logins per client. Defaults are safe for a laptop and a team.
 */
import { Transform, type TransformCallback } from 'node:stream';
import type { Server } from 'node:http';
import { availableParallelism } from 'node:os';
import { ConfigValueError, optBytes, optDurationMs, optPositiveInt, readSection, type ConfigObject } from './configValues';

export interface Limits {
  /** Any request body that is neither blob data nor a manifest (token form posts). */
  maxRequestBodyBytes: number;
  /** One blob upload, all chunks together. */
  maxBlobBytes: number;
  /** Requests carrying blob data at the same time; more get 429 TOOMANYREQUESTS. */
  maxConcurrentUploads: number;
  /** The whole request head must arrive within this time (slowloris). */
  headersTimeoutMs: number;
  /** A connection with no bytes moving either way for this long is closed. */
  idleTimeoutMs: number;
  keepAliveTimeoutMs: number;
  /**
   * Wrong passwords per minute for one user name from one address before that pair gets 429; a user
   * name or an address with this many failures has its checks run one at a time.
   */
  maxFailedLoginsPerMinute: number;
  /** An upload body slower than this over `uploadRateWindowMs` loses its slot (408); 0 switches it off. */
  minUploadBytesPerSecond: number;
  uploadRateWindowMs: number;
  /** Upload sessions open at once, in all and per user; more get 429. */
  maxOpenUploads: number;
  maxOpenUploadsPerUser: number;
  /** A session with no request for this long is removed. */
  uploadIdleTimeoutMs: number;
  /** bcrypt comparisons running at once over all clients; more wait their turn. */
  maxConcurrentPasswordChecks: number;
}

export const DEFAULT_LIMITS: Readonly<Limits> = Object.freeze({
  maxRequestBodyBytes: 1024 * 1024,
  maxBlobBytes: 32 * 1024 ** 3,
  maxConcurrentUploads: 64,
  headersTimeoutMs: 15_000,
  idleTimeoutMs: 60_000,
  keepAliveTimeoutMs: 5_000,
  maxFailedLoginsPerMinute: 10,
  minUploadBytesPerSecond: 1024,
  uploadRateWindowMs: 30_000,
  maxOpenUploads: 10_000,
  maxOpenUploadsPerUser: 1_000,
  uploadIdleTimeoutMs: 3_600_000,
  maxConcurrentPasswordChecks: Math.max(1, availableParallelism() - 1),
});

const LIMIT_KEYS = ['maxRequestBodySize', 'maxBlobSize', 'maxConcurrentUploads', 'headersTimeout', 'idleTimeout', 'keepAliveTimeout', 'maxFailedLoginsPerMinute',
  'minUploadRate', 'uploadRateWindow', 'maxOpenUploads', 'maxOpenUploadsPerUser', 'uploadIdleTimeout', 'maxConcurrentPasswordChecks'] as const;

/** Reads the `limits:` section; YAML uses units (`4MiB`, `30s`), the code carries them in names. */
export function readLimits(section: unknown, path = 'limits'): Limits {
  const s = readSection(section, path, LIMIT_KEYS);
  const d = DEFAULT_LIMITS;
  return {
    maxRequestBodyBytes: optBytes(s, 'maxRequestBodySize', path) ?? d.maxRequestBodyBytes,
    maxBlobBytes: optBytes(s, 'maxBlobSize', path) ?? d.maxBlobBytes,
    maxConcurrentUploads: optPositiveInt(s, 'maxConcurrentUploads', path) ?? d.maxConcurrentUploads,
    headersTimeoutMs: optDurationMs(s, 'headersTimeout', path) ?? d.headersTimeoutMs,
    idleTimeoutMs: optDurationMs(s, 'idleTimeout', path) ?? d.idleTimeoutMs,
    keepAliveTimeoutMs: optDurationMs(s, 'keepAliveTimeout', path) ?? d.keepAliveTimeoutMs,
    maxFailedLoginsPerMinute: optPositiveInt(s, 'maxFailedLoginsPerMinute', path) ?? d.maxFailedLoginsPerMinute,
    minUploadBytesPerSecond: optBytes(s, 'minUploadRate', path) ?? d.minUploadBytesPerSecond,
    uploadRateWindowMs: optPositiveDurationMs(s, 'uploadRateWindow', path) ?? d.uploadRateWindowMs,
    maxOpenUploads: optPositiveInt(s, 'maxOpenUploads', path) ?? d.maxOpenUploads,
    maxOpenUploadsPerUser: optPositiveInt(s, 'maxOpenUploadsPerUser', path) ?? d.maxOpenUploadsPerUser,
    uploadIdleTimeoutMs: optPositiveDurationMs(s, 'uploadIdleTimeout', path) ?? d.uploadIdleTimeoutMs,
    maxConcurrentPasswordChecks: optPositiveInt(s, 'maxConcurrentPasswordChecks', path) ?? d.maxConcurrentPasswordChecks,
  };
}

function optPositiveDurationMs(s: ConfigObject, key: string, path: string): number | undefined {
  const ms = optDurationMs(s, key, path);
  if (ms !== undefined && ms < 1) throw new ConfigValueError(`${path}.${key}`, 'must be longer than 0 (use 500ms, 30s, 5m, 1h)');
  return ms;
}

/**
 * Applies the timeouts to a node:http(s) server. `requestTimeout` is switched off on purpose:
 * a 10 GiB push legitimately takes longer than any fixed deadline; the idle timeout is what
 * cuts a client that stops sending.
 */
export function applyServerTimeouts(server: Server, limits: Limits): void {
  server.headersTimeout = limits.headersTimeoutMs;
  server.requestTimeout = 0;
  server.keepAliveTimeout = limits.keepAliveTimeoutMs;
  server.setTimeout(limits.idleTimeoutMs, (socket) => socket.destroy());
}

export class BodyTooLargeError extends Error {
  constructor(readonly limitBytes: number, what: string) {
    super(`${what} is larger than the limit of ${limitBytes} bytes; raise limits in the registry config if this is expected`);
    this.name = 'BodyTooLargeError';
  }
}

/** Passes bytes through until `limitBytes` is exceeded, then fails with BodyTooLargeError. */
export function byteLimit(limitBytes: number, what = 'the request body'): Transform {
  let seenBytes = 0;
  return new Transform({
    transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback) {
      seenBytes += chunk.length;
      if (seenBytes > limitBytes) done(new BodyTooLargeError(limitBytes, what));
      else done(null, chunk);
    },
  });
}

export class BodyTooSlowError extends Error {
  constructor(readonly minBytesPerSecond: number, readonly windowMs: number, readonly receivedBytes: number) {
    super(`the body arrived at ${Math.round(receivedBytes / (windowMs / 1000))} bytes/s over the last ${windowMs / 1000} s, below the minimum of ${minBytesPerSecond}`);
    this.name = 'BodyTooSlowError';
  }
}

/**
 * Passes bytes through, and fails with BodyTooSlowError when fewer than `minBytesPerSecond` arrive
 * over a window of `windowMs`, so a client trickling a body cannot hold an upload slot for ever.
 * A window in which the registry itself held the body back (the disk was slow) does not count.
 */
export function rateFloor(minBytesPerSecond: number, windowMs: number): Transform {
  let windowBytes = 0;
  let heldBack = false;
  const floor: Transform = new Transform({
    transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback) {
      windowBytes += chunk.length;
      done(null, chunk);
    },
  });
  if (minBytesPerSecond <= 0) return floor;
  const timer = setInterval(() => {
    const wanted = (minBytesPerSecond * windowMs) / 1000;
    const ours = heldBack || floor.readableLength >= floor.readableHighWaterMark;
    if (!ours && windowBytes < wanted) floor.destroy(new BodyTooSlowError(minBytesPerSecond, windowMs, windowBytes));
    windowBytes = 0;
    heldBack = false;
  }, windowMs);
  timer.unref();
  floor.on('pause', () => (heldBack = true));
  floor.once('close', () => clearInterval(timer));
  return floor;
}

/** A counter of slots (uploads in flight); tryAcquire never waits, so a full registry answers 429 at once. */
export class Slots {
  private used = 0;
  constructor(readonly capacity: number) {}
  get inUse(): number {
    return this.used;
  }
  /** Returns a release function, or undefined when every slot is taken. Release is idempotent. */
  tryAcquire(): (() => void) | undefined {
    if (this.used >= this.capacity) return undefined;
    this.used++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.used--;
    };
  }
}

/**
 * Failed logins per client over a sliding minute. Memory is bounded: old clients are dropped
 * first when the table is full, so a flood of addresses cannot grow it without limit.
 */
export class FailedLoginLimiter {
  private readonly failures = new Map<string, number[]>();
  constructor(
    private readonly maxPerWindow: number,
    private readonly windowMs = 60_000,
    private readonly maxClients = 10_000,
  ) {}

  /** 0 when the client may try; otherwise the seconds until its oldest failure leaves the window. */
  retryAfterSeconds(client: string, nowMs: number): number {
    const recent = this.prune(client, nowMs);
    if (recent.length < this.maxPerWindow) return 0;
    const oldest = recent[recent.length - this.maxPerWindow] as number;
    return Math.max(1, Math.ceil((oldest + this.windowMs - nowMs) / 1000));
  }

  recordFailure(client: string, nowMs: number): void {
    const recent = this.prune(client, nowMs);
    recent.push(nowMs);
    this.failures.delete(client);
    this.failures.set(client, recent);
    if (this.failures.size > this.maxClients) {
      const first = this.failures.keys().next();
      if (!first.done) this.failures.delete(first.value);
    }
  }

  private prune(client: string, nowMs: number): number[] {
    const list = this.failures.get(client) ?? [];
    const kept = list.filter((t) => nowMs - t < this.windowMs);
    if (kept.length === 0) this.failures.delete(client);
    else if (kept.length !== list.length) this.failures.set(client, kept);
    return kept;
  }
}
