/**
 * The pull-through cache as a storage wrapper. A manifest or blob the registry lacks is fetched
 * from the upstream, streamed to the client while it is written into the local storage (through
 * an upload, so it is verified against its digest and renamed into place), and served locally
 * afterwards. Tags are asked of the upstream again once older than the TTL; when the upstream
 * cannot be reached, whatever is cached is served.
 *
 *   proxy: { remoteurl: https://registry-1.docker.io, username: u, password: p, ttl: 168h, allowWrites: false }
 *
 * The cache is read-only unless `allowWrites` is set: a push of `library/alpine:latest` would
 * otherwise replace the upstream's tag for every user until the TTL ran out.
 */
import { PassThrough, type Readable } from 'node:stream';
import { digestOf, parseDigest, type DigestAlgorithm, type ParsedDigest } from '../../oci/digest';
import { overrideStorage } from '../limits/forwardStorage';
import { ConfigValueError, optBool, optDurationMs, optString, optUrl, readSection } from '../limits/configValues';
import type { BlobInfo, ByteRange, ManifestRef, Storage, StoredManifest } from '../storage';
import { UpstreamClient, UpstreamError } from './upstream';

export interface ProxyConfig {
  remoteUrl: URL;
  username?: string;
  password?: string;
  ttlMs: number;
  /** Pushes and deletes on the cache; off by default, since a pushed tag would hide the upstream's for everyone. */
  allowWrites: boolean;
}

export function readProxyConfig(section: unknown, path = 'proxy'): ProxyConfig {
  const s = readSection(section, path, ['remoteurl', 'username', 'password', 'ttl', 'allowWrites']);
  const remoteUrl = optUrl(s, 'remoteurl', path);
  if (!remoteUrl) throw new ConfigValueError(`${path}.remoteurl`, 'is required: the upstream registry, e.g. https://registry-1.docker.io');
  const username = optString(s, 'username', path);
  const password = optString(s, 'password', path);
  if ((username === undefined) !== (password === undefined)) throw new ConfigValueError(path, 'username and password go together');
  return { remoteUrl, ttlMs: optDurationMs(s, 'ttl', path) ?? 168 * 3_600_000, allowWrites: optBool(s, 'allowWrites', path) ?? false, ...(username !== undefined ? { username, password } : {}) };
}

export type CacheResult = 'hit' | 'miss' | 'stale';

export interface ProxyOptions {
  upstream: UpstreamClient;
  ttlMs: number;
  onCache?: (kind: 'manifest' | 'blob', result: CacheResult) => void;
  onUpstreamError?: (message: string) => void;
  nowMs?: () => number;
}

const MAX_UPSTREAM_MANIFEST_BYTES = 8 * 1024 * 1024;
const MAX_PENDING_BLOBS = 10_000;
/**
 * Buffer of each side of a blob being fetched (to storage, to the client). With the default 16 KiB
 * the upstream socket was paused hundreds of times per 256 MiB; each pause closes the TCP window,
 * which costs a round trip to a distant upstream.
 */
const TEE_BUFFER_BYTES = 4 * 1024 * 1024;

async function readAll(body: Readable, maxBytes: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    total += chunk.length;
    if (total > maxBytes) {
      body.destroy();
      throw new UpstreamError(`the upstream manifest is larger than ${maxBytes} bytes`);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

export function proxyStorage(inner: Storage, opts: ProxyOptions): Storage {
  const now = opts.nowMs ?? Date.now;
  const upstream = opts.upstream;
  /** When each `repo\0tag` was last confirmed with the upstream. Empty after a restart: revalidate once. */
  const tagCheckedAtMs = new Map<string, number>();
  /** Blobs the upstream has and we do not yet, by digest: the repository to fetch them from. */
  const remoteBlobs = new Map<string, { repository: string; size: number }>();
  /** Blobs being fetched right now: a second reader waits for the first download instead of starting another. */
  const inflight = new Map<string, Promise<BlobInfo>>();
  const report = (kind: 'manifest' | 'blob', result: CacheResult): void => opts.onCache?.(kind, result);
  const upstreamFailed = (e: unknown): void => opts.onUpstreamError?.(e instanceof Error ? e.message : String(e));

  async function fetchManifest(repository: string, reference: string, tag: string | undefined): Promise<StoredManifest | undefined> {
    const res = await upstream.manifest(repository, reference, 'GET');
    if (res.status !== 200 || !res.body) {
      res.body?.destroy();
      if (res.status >= 500 || res.status === 429) throw new UpstreamError(`upstream answered ${res.status}`);
      return undefined;
    }
    const bytes = await readAll(res.body, MAX_UPSTREAM_MANIFEST_BYTES);
    const claimed = res.headers.get('docker-content-digest');
    const algorithm: DigestAlgorithm = claimed?.startsWith('sha512:') ? 'sha512' : 'sha256';
    const digest = parseDigest(digestOf(bytes, algorithm)) as ParsedDigest;
    if (tag === undefined && digest.digest !== reference) throw new UpstreamError(`upstream sent a manifest with digest ${digest.digest} for ${reference}`);
    const mediaType = (res.headers.get('content-type') ?? '').split(';')[0]?.trim() || 'application/vnd.oci.image.manifest.v1+json';
    return inner.putManifest(repository, digest, bytes, mediaType, tag);
  }

  async function getManifest(repository: string, ref: ManifestRef): Promise<StoredManifest | undefined> {
    const local = await inner.getManifest(repository, ref);
    if ('digest' in ref) {
      if (local) {
        report('manifest', 'hit');
        return local;
      }
      try {
        const fetched = await fetchManifest(repository, ref.digest.digest, undefined);
        if (fetched) report('manifest', 'miss');
        return fetched;
      } catch (e) {
        upstreamFailed(e);
        return undefined;
      }
    }
    const key = `${repository}\0${ref.tag}`;
    const checked = tagCheckedAtMs.get(key);
    if (local && checked !== undefined && now() - checked < opts.ttlMs) {
      report('manifest', 'hit');
      return local;
    }
    try {
      const fetched = await fetchManifest(repository, ref.tag, ref.tag);
      if (fetched) {
        tagCheckedAtMs.set(key, now());
        report('manifest', local ? (local.digest === fetched.digest ? 'hit' : 'stale') : 'miss');
        return fetched;
      }
    } catch (e) {
      upstreamFailed(e);
    }
    // The upstream is down or no longer has the tag: what we hold is the best answer there is.
    if (local) report('manifest', 'hit');
    return local;
  }

  async function statBlob(repository: string, digest: ParsedDigest): Promise<BlobInfo | undefined> {
    const local = await inner.statBlob(repository, digest);
    if (local) return local;
    try {
      const res = await upstream.blob(repository, digest.digest, 'HEAD');
      const size = Number(res.headers.get('content-length'));
      if (res.status !== 200 || !Number.isSafeInteger(size)) return undefined;
      // HEADs without a GET would otherwise pile up entries for ever.
      if (remoteBlobs.size >= MAX_PENDING_BLOBS) remoteBlobs.delete(remoteBlobs.keys().next().value as string);
      remoteBlobs.set(digest.digest, { repository, size });
      return { digest: digest.digest, size };
    } catch (e) {
      upstreamFailed(e);
      return undefined;
    }
  }

  /** Streams the upstream blob into an upload of `repository`; `tee` also gets every byte. */
  async function fetchBlob(repository: string, digest: ParsedDigest, tee?: PassThrough): Promise<BlobInfo> {
    const res = await upstream.blob(repository, digest.digest, 'GET');
    if (res.status !== 200 || !res.body) {
      res.body?.destroy();
      throw new UpstreamError(`upstream answered ${res.status} for blob ${digest.digest}`);
    }
    const upload = await inner.startUpload(repository);
    const toStore = new PassThrough({ highWaterMark: TEE_BUFFER_BYTES });
    const body = res.body;
    let teeAlive = tee !== undefined;
    let clientWait: (() => void) | undefined;
    tee?.once('close', () => {
      teeAlive = false;
      clientWait?.();
    });
    // Forward with backpressure from both sides; a client that goes away does not stop the caching.
    body.on('data', (chunk: Buffer) => {
      const storeOk = toStore.write(chunk);
      const clientOk = teeAlive && tee ? tee.write(chunk) : true;
      if (!storeOk || !clientOk) {
        body.pause();
        let waiting = (storeOk ? 0 : 1) + (clientOk ? 0 : 1);
        const resume = (): void => {
          if (--waiting === 0) body.resume();
        };
        if (!storeOk) toStore.once('drain', resume);
        if (!clientOk && tee) {
          // One listener per wait, removed by whichever of drain or close comes first.
          const onDrain = (): void => {
            clientWait = undefined;
            resume();
          };
          clientWait = () => {
            tee.off('drain', onDrain);
            onDrain();
          };
          tee.once('drain', onDrain);
        }
      }
    });
    body.once('end', () => toStore.end());
    body.once('error', (e) => {
      toStore.destroy(e);
      tee?.destroy(e);
    });
    try {
      const info = await inner.finishUpload(repository, upload.id, digest, toStore);
      tee?.end();
      return info;
    } catch (e) {
      tee?.destroy(e as Error);
      await inner.cancelUpload(repository, upload.id).catch(() => false);
      throw e;
    }
  }

  async function readBlob(digest: ParsedDigest, range?: ByteRange): Promise<Readable> {
    const pending = inflight.get(digest.digest);
    if (pending) {
      await pending.catch(() => undefined);
      report('blob', 'hit');
      return inner.readBlob(digest, range);
    }
    const remote = remoteBlobs.get(digest.digest);
    if (!remote) {
      report('blob', 'hit');
      return inner.readBlob(digest, range);
    }
    try {
      const local = await inner.readBlob(digest, range);
      remoteBlobs.delete(digest.digest);
      // Held for another repository: link it here too, so it is found locally next time.
      await inner.mountBlob(remote.repository, digest).catch(() => undefined);
      report('blob', 'hit');
      return local;
    } catch {
      // Not here yet: fetch it below.
    }
    report('blob', 'miss');
    const tee = range ? undefined : new PassThrough({ highWaterMark: TEE_BUFFER_BYTES });
    const fetching = fetchBlob(remote.repository, digest, tee).finally(() => {
      inflight.delete(digest.digest);
      remoteBlobs.delete(digest.digest);
    });
    inflight.set(digest.digest, fetching);
    if (!tee) {
      // A partial read of a blob we lack: cache all of it first, then serve the range locally.
      await fetching;
      return inner.readBlob(digest, range);
    }
    fetching.catch((e: unknown) => upstreamFailed(e));
    return tee;
  }

  async function listTags(repository: string): Promise<string[] | undefined> {
    const local = await inner.listTags(repository);
    try {
      const res = await upstream.tags(repository);
      if (res.status === 200 && res.body) {
        const body = JSON.parse((await readAll(res.body, MAX_UPSTREAM_MANIFEST_BYTES)).toString('utf8')) as { tags?: unknown };
        const remote = Array.isArray(body.tags) ? body.tags.filter((t): t is string => typeof t === 'string') : [];
        return [...new Set([...(local ?? []), ...remote])];
      }
      res.body?.destroy();
    } catch (e) {
      upstreamFailed(e);
    }
    return local;
  }

  return overrideStorage(inner, { getManifest, statBlob, readBlob, listTags });
}
