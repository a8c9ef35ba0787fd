/**
 * The registry's guard rails (manifest size is the core's storage.maxManifestBytes): request and blob sizes, concurrent uploads, header and idle
 * timeouts, and a cap on failed logins per client. Defaults are safe for a laptop and a team.
 */
import { Transform, type TransformCallback } from 'node:stream';
import type { Server } from 'node:http';
import { optBytes, optDurationMs, optPositiveInt, readSection } from './configValues';

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
  /** Wrong passwords a client address may send per minute before getting 429. */
  maxFailedLoginsPerMinute: number;
}

export const DEFAULT_LIMITS: Readonly<Limits> = Object.freeze({
  maxRequestBodyBytes: 1024 * 1024,
  maxBlobBytes: 32 * 1024 ** 3,
  maxConcurrentUploads: 64,
  headersTimeoutMs: 15_000,
  idleTimeoutMs: 60_000,
  keepAliveTimeoutMs: 5_000,
  maxFailedLoginsPerMinute: 10,
});

const LIMIT_KEYS = ['maxRequestBodySize', 'maxBlobSize', 'maxConcurrentUploads', 'headersTimeout', 'idleTimeout', 'keepAliveTimeout', 'maxFailedLoginsPerMinute'] as const;

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
  };
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
