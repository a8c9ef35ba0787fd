/**
 * `storage.s3` of the registry config, named as distribution's s3 driver names them where they
 * mean the same (`rootdirectory` there is `rootDirectory` here). Credentials may come from the
 * usual AWS environment variables (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN,
 * AWS_REGION) instead of the file.
 */
import { ConfigError, expectBoolean, expectInteger, expectObject, expectString } from '../config';

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
}

export const S3_CONFIG_KEYS = ['endpoint', 'region', 'bucket', 'accessKey', 'secretKey', 'rootDirectory', 'forcePathStyle', 'redirect', 'chunkSize'] as const;
export const MIN_S3_CHUNK_BYTES = 5 * 1024 * 1024;

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
  };
}
