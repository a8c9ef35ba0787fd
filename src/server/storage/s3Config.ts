/**
 * `storage.s3` of the registry config, named as distribution's s3 driver names them where they
 * mean the same (`rootdirectory` there is `rootDirectory` here). Credentials may come from the
 * usual AWS environment variables (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN,
 * AWS_REGION) instead of the file.
 */
import { ConfigError, expectBoolean, expectInteger, expectObject, expectString } from '../config';
import { parseDurationMs } from '../limits/units';

export interface S3Config {
  /** Any S3-compatible endpoint (Ceph RGW, MinIO); AWS itself when absent. */
  endpoint?: string;
  region: string;
  bucket: string;
  accessKey?: string;
  secretKey?: string;
  /** A key prefix, as distribution's `rootdirectory`: keys are `<rootDirectory>/docker/registry/v2/…`. */
  rootDirectory: string;
  /** `http://endpoint/bucket/key` rather than `http://bucket.endpoint/key` (most self-hosted S3). */
  forcePathStyle: boolean;
  /** Answer blob GETs with a 307 to a presigned URL, so the bytes flow from the bucket, not the registry. */
  redirect: boolean;
  /** Multipart part size; at least 5 MiB (S3's minimum for every part but the last). */
  chunkSizeBytes: number;
  /** A TCP connection to the store not set up within this time fails the request (retried). */
  connectTimeoutMs: number;
  /**
   * A connection to the store on which no byte moves either way for this long fails its request: a
   * stalled store fails a push or pull instead of hanging it (the request is retried on a new connection
   * while the response has not begun).
   */
  idleTimeoutMs: number;
}

export const S3_CONFIG_KEYS = ['endpoint', 'region', 'bucket', 'accessKey', 'secretKey', 'rootDirectory', 'forcePathStyle', 'redirect', 'chunkSize', 'connectTimeout', 'idleTimeout'] as const;
export const MIN_S3_CHUNK_BYTES = 5 * 1024 * 1024;
/**
 * Connecting takes milliseconds to a store on the network or AWS; 10 s still covers three SYNs (sent at
 * 0, 1 and 3 s, the next at 7 s) on a lossy path before calling the store unreachable.
 */
export const DEFAULT_S3_CONNECT_TIMEOUT_MS = 10_000;
/**
 * The longest silence in a healthy exchange is the store working on a request it has fully read (storing
 * a part, a server-side copy; AWS and RGW send whitespace through long copies and completes), which takes
 * seconds, not a minute. The timer also runs while a pull's client holds the S3 stream back, so it is as
 * long as the default `limits.idleTimeout`: a client that takes in nothing for that long is cut anyway.
 */
export const DEFAULT_S3_IDLE_TIMEOUT_MS = 60_000;

function durationMs(value: unknown, path: string, fallbackMs: number): number {
  if (value === undefined) return fallbackMs;
  const ms = parseDurationMs(value);
  if (ms === undefined) throw new ConfigError(path, `${JSON.stringify(value)} is not a duration (use 500ms, 10s, 1m)`);
  if (ms < 1) throw new ConfigError(path, 'must be longer than 0: without it a stalled store hangs requests forever (use 500ms, 10s, 1m)');
  return ms;
}

export function readS3Config(value: unknown, path: string, env: NodeJS.ProcessEnv = process.env): S3Config {
  const o = expectObject(value, path, S3_CONFIG_KEYS);
  const opt = (key: string): string | undefined => (o[key] === undefined ? undefined : expectString(o[key], `${path}.${key}`));
  const endpoint = opt('endpoint');
  if (endpoint !== undefined && !/^https?:\/\/[^/\s]+\/?$/.test(endpoint)) throw new ConfigError(`${path}.endpoint`, `expected http(s)://HOST[:PORT], got ${JSON.stringify(endpoint)}`);
  const accessKey = opt('accessKey');
  const secretKey = opt('secretKey');
  if ((accessKey === undefined) !== (secretKey === undefined)) {
    throw new ConfigError(path, 'set both accessKey and secretKey, or neither (then AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are used)');
  }
  const bucket = expectString(o['bucket'], `${path}.bucket`);
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) throw new ConfigError(`${path}.bucket`, `"${bucket}" is not a valid bucket name (3-63 of a-z 0-9 . -)`);
  const rootDirectory = (opt('rootDirectory') ?? '').replace(/^\/+|\/+$/g, '');
  if (rootDirectory.split('/').some((c) => c === '.' || c === '..')) throw new ConfigError(`${path}.rootDirectory`, 'must not contain . or .. components');
  return {
    ...(endpoint !== undefined ? { endpoint: endpoint.replace(/\/$/, '') } : {}),
    region: opt('region') ?? env['AWS_REGION'] ?? env['AWS_DEFAULT_REGION'] ?? 'us-east-1',
    bucket,
    ...(accessKey !== undefined && secretKey !== undefined ? { accessKey, secretKey } : {}),
    rootDirectory,
    forcePathStyle: expectBoolean(o['forcePathStyle'], `${path}.forcePathStyle`, endpoint !== undefined),
    redirect: expectBoolean(o['redirect'], `${path}.redirect`, false),
    chunkSizeBytes: expectInteger(o['chunkSize'], `${path}.chunkSize`, 10 * 1024 * 1024, MIN_S3_CHUNK_BYTES, 5 * 1024 * 1024 * 1024),
    connectTimeoutMs: durationMs(o['connectTimeout'], `${path}.connectTimeout`, DEFAULT_S3_CONNECT_TIMEOUT_MS),
    idleTimeoutMs: durationMs(o['idleTimeout'], `${path}.idleTimeout`, DEFAULT_S3_IDLE_TIMEOUT_MS),
  };
}
