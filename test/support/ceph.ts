/**
 * A real S3 for tests: a single-node Ceph RADOS Gateway on 127.0.0.1, started by
 * `test/support/ceph/start-rgw.sh` (or the script `$BERTH_START_RGW` names), stopped by its own stop
 * script (which kills exactly the PIDs it started). One gateway per test process, started on first
 * use and stopped when the process exits; each suite takes its own bucket.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { CopyObjectCommand, CreateBucketCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { DEFAULT_S3_CONNECT_TIMEOUT_MS, DEFAULT_S3_IDLE_TIMEOUT_MS, type S3Config } from '../../src/server/storage/s3Config';
import { stringify } from 'yaml';
import { startBerthRegistry, type BerthRegistry } from './berthRegistry';
import { removeDir, tempDir } from './proc';

const PROJECT_ROOT = resolve(__dirname, '../..');

const BUNDLED_START_RGW = join(PROJECT_ROOT, 'test/support/ceph/start-rgw.sh');

/** The gateway's start script: `$BERTH_START_RGW` when set, else the one kept with the tests. */
export function startRgwScript(): string | undefined {
  const script = process.env['BERTH_START_RGW'] || BUNDLED_START_RGW;
  return existsSync(script) ? script : undefined;
}

export interface CephGateway {
  endpoint: string;
  accessKey: string;
  secretKey: string;
}

let running: { gateway: CephGateway; dir: string } | undefined;

function stopGateway(): void {
  if (!running) return;
  const { dir } = running;
  running = undefined;
  spawnSync(join(dir, 'stop.sh'), [], { stdio: 'ignore', timeout: 30_000 });
}

/** The process's gateway, started on first call (a few seconds). */
export function cephGateway(): CephGateway {
  if (running) return running.gateway;
  const script = startRgwScript();
  if (!script) {
    throw new Error(`the S3 tests need a Ceph gateway: ${process.env['BERTH_START_RGW'] || BUNDLED_START_RGW} is missing (and the packages radosgw ceph-mon ceph-osd ceph-common)`);
  }
  const dir = join(tempDir('ceph'), 'rgw');
  const out = execFileSync(script, [dir], { encoding: 'utf8', timeout: 180_000, stdio: ['ignore', 'pipe', 'pipe'] });
  const last = out.trim().split('\n').pop() ?? '';
  const vars = Object.fromEntries(last.split(/\s+/).map((kv) => kv.split('=', 2) as [string, string]));
  const endpoint = vars['S3_ENDPOINT'];
  const accessKey = vars['S3_ACCESS_KEY'];
  const secretKey = vars['S3_SECRET_KEY'];
  if (!endpoint || !accessKey || !secretKey) throw new Error(`start-rgw.sh printed no S3_ENDPOINT line: ${last.slice(0, 200)}`);
  running = { gateway: { endpoint, accessKey, secretKey }, dir };
  process.once('exit', stopGateway);
  return running.gateway;
}

let bucketCounter = 0;

function gatewayClient(gw: CephGateway): S3Client {
  return new S3Client({
    endpoint: gw.endpoint, region: 'us-east-1', forcePathStyle: true,
    credentials: { accessKeyId: gw.accessKey, secretAccessKey: gw.secretKey },
  });
}

/** A new bucket holding a copy of every object in `from` (a root copied for a second registry to work on). */
export async function copyBucket(from: S3Config): Promise<S3Config> {
  const to = await freshBucket();
  const client = gatewayClient(cephGateway());
  try {
    let token: string | undefined;
    do {
      const r = await client.send(new ListObjectsV2Command({ Bucket: from.bucket, ...(token ? { ContinuationToken: token } : {}) }));
      for (const o of r.Contents ?? []) {
        if (o.Key) await client.send(new CopyObjectCommand({ Bucket: to.bucket, Key: o.Key, CopySource: encodeURI(`${from.bucket}/${o.Key}`) }));
      }
      token = r.IsTruncated ? r.NextContinuationToken : undefined;
    } while (token);
  } finally {
    client.destroy();
  }
  return to;
}

/** A new empty bucket on the process's gateway, with Berth's storage.s3 config for it. */
export async function freshBucket(prefix = 'berth'): Promise<S3Config> {
  const gw = cephGateway();
  const bucket = `${prefix}-${process.pid}-${Date.now().toString(36)}-${bucketCounter++}`;
  const client = gatewayClient(gw);
  try {
    await client.send(new CreateBucketCommand({ Bucket: bucket }));
  } finally {
    client.destroy();
  }
  return {
    endpoint: gw.endpoint, region: 'us-east-1', bucket, accessKey: gw.accessKey, secretKey: gw.secretKey,
    rootDirectory: 'registry', forcePathStyle: true, redirect: false, chunkSizeBytes: 5 * 1024 * 1024,
    connectTimeoutMs: DEFAULT_S3_CONNECT_TIMEOUT_MS, idleTimeoutMs: DEFAULT_S3_IDLE_TIMEOUT_MS,
  };
}

/** The YAML `storage.s3` mapping for a config file. */
export function s3ConfigSection(c: S3Config): Record<string, unknown> {
  return {
    endpoint: c.endpoint, region: c.region, bucket: c.bucket, accessKey: c.accessKey, secretKey: c.secretKey,
    ...(c.rootDirectory ? { rootDirectory: c.rootDirectory } : {}), forcePathStyle: c.forcePathStyle, redirect: c.redirect, chunkSize: c.chunkSizeBytes,
    connectTimeout: `${c.connectTimeoutMs}ms`, idleTimeout: `${c.idleTimeoutMs}ms`,
  };
}

/** Berth serving `s3` (its own config file beside `root`, which then holds only the config). */
export async function startBerthOnS3(s3: S3Config, opts: { root?: string; config?: Record<string, unknown> } = {}): Promise<BerthRegistry> {
  const dir = tempDir('berth-s3');
  const configFile = join(dir, 'config.yml');
  const extraStorage = (opts.config?.['storage'] as Record<string, unknown> | undefined) ?? {};
  writeFileSync(configFile, stringify({ ...opts.config, storage: { ...extraStorage, s3: s3ConfigSection(s3) } }));
  const reg = await startBerthRegistry({ root: opts.root ?? join(dir, 'data'), args: ['--config', configFile] });
  return {
    ...reg,
    async stop() {
      await reg.stop();
      removeDir(dir);
    },
  };
}

/** Debian's docker-registry (distribution 2.8) on the same bucket and root directory, as its s3 driver is configured. */
export function distributionS3Config(s3: S3Config): Record<string, unknown> {
  return {
    s3: {
      regionendpoint: s3.endpoint, region: s3.region, bucket: s3.bucket, accesskey: s3.accessKey, secretkey: s3.secretKey,
      rootdirectory: s3.rootDirectory ? `/${s3.rootDirectory}` : '/', secure: false, v4auth: true, forcepathstyle: s3.forcePathStyle,
    },
  };
}
