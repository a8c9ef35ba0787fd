/**
 * The S3 driver: the same keys distribution's s3 driver writes (`<rootDirectory>/docker/registry/v2/…`),
 * so distribution (or Harbor) can serve the bucket Berth wrote and the other way round, and several
 * registries can serve one bucket at once (nothing here is kept between calls but the client).
 *
 * Writers are S3 multipart uploads on the file's key, as distribution's: every `close` stores what
 * arrived as parts, so a chunked upload resumes in any process (`writer(path, true)` finds the
 * multipart upload and its parts). S3 accepts a part under 5 MiB only as the last one, so a writer
 * never leaves one behind when it can help it: a request of 5 MiB or more ends on a part of 5 MiB or
 * more, and a chunked upload stays one multipart upload to the end. Only a request whose own bytes are
 * fewer leaves a short part; a writer that appends after one first completes the upload and starts a
 * new one from the object.
 */
import {
  AbortMultipartUploadCommand, CompleteMultipartUploadCommand, CopyObjectCommand, CreateMultipartUploadCommand,
  DeleteObjectCommand, DeleteObjectsCommand, GetObjectCommand, HeadBucketCommand, HeadObjectCommand, ListMultipartUploadsCommand,
  ListObjectsV2Command, ListPartsCommand, PutObjectCommand, S3Client, S3ServiceException, UploadPartCommand, UploadPartCopyCommand,
  type CompletedPart, type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { Readable } from 'node:stream';
import { PathNotFoundError, type FileInfo, type FileWriter, type StorageDriver } from './driver';
import { StoreUnavailableError } from './errors';
import { MIN_S3_CHUNK_BYTES, type S3Config } from './s3Config';

/** CopyObject's limit; larger objects are copied part by part. */
const MAX_COPY_OBJECT_BYTES = 5 * 1024 * 1024 * 1024;
const COPY_PART_BYTES = 1024 * 1024 * 1024;
/** S3's largest part. */
const MAX_PART_BYTES = 5 * 1024 * 1024 * 1024;
const DELETE_BATCH = 1000;
const PRESIGN_EXPIRY_SECONDS = 20 * 60;

interface Part {
  partNumber: number;
  etag: string;
  size: number;
  lastModifiedMs: number;
}

function isNotFoundError(e: unknown): boolean {
  if (!(e instanceof S3ServiceException)) return false;
  return e.name === 'NoSuchKey' || e.name === 'NotFound' || e.name === 'NoSuchUpload' || e.$metadata.httpStatusCode === 404;
}

export class S3Driver implements StorageDriver {
  readonly name = 's3';
  readonly shared = true;
  readonly client: S3Client;
  private readonly bucket: string;
  private readonly prefix: string;

  constructor(readonly config: S3Config) {
    this.bucket = config.bucket;
    this.prefix = config.rootDirectory;
    const clientConfig: S3ClientConfig = {
      region: config.region,
      forcePathStyle: config.forcePathStyle,
      // Checksums only where S3 requires them: S3-compatible stores (Ceph, MinIO) reject or ignore the rest.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      // Without these a connection that stops moving bytes (a dropped NAT entry, a half-open TCP
      // connection, a gateway under load) holds its request, and the registry request behind it, forever.
      // An idle socket fails with a TimeoutError, which the SDK retries on a new connection (part bodies
      // are Buffers, so they are sent again whole); once a response body streams, the error ends the stream.
      requestHandler: { connectionTimeout: config.connectTimeoutMs, socketTimeout: config.idleTimeoutMs },
      ...(config.endpoint !== undefined ? { endpoint: config.endpoint } : {}),
      ...(config.accessKey !== undefined && config.secretKey !== undefined
        ? { credentials: { accessKeyId: config.accessKey, secretAccessKey: config.secretKey } }
        : {}),
    };
    this.client = new S3Client(clientConfig);
    // Outermost, so after the SDK's retries: a timeout that outlasted them says the store is unavailable.
    this.client.middlewareStack.add((next) => async (args) => {
      try {
        return await next(args);
      } catch (e) {
        if (e instanceof Error && e.name === 'TimeoutError') throw new StoreUnavailableError(this.description, 'storage.s3.connectTimeout, storage.s3.idleTimeout');
        throw e;
      }
    }, { step: 'initialize', name: 'berthStoreUnavailable' });
  }

  get description(): string {
    return `s3://${this.bucket}/${this.prefix}${this.config.endpoint ? ` at ${this.config.endpoint}` : ''}`;
  }

  /** distribution's key for a path: the root directory, then the path, with no leading slash. */
  key(path: string): string {
    return `${this.prefix}${path}`.replace(/^\/+/, '');
  }

  private pathOf(key: string): string {
    return `/${key.slice(this.prefix ? this.prefix.length + 1 : 0)}`;
  }

  private dirPrefix(path: string): string {
    const k = this.key(path);
    return k === '' || k.endsWith('/') ? k : `${k}/`;
  }

  private rethrow(e: unknown, path: string): never {
    if (isNotFoundError(e)) throw new PathNotFoundError(path, this.name);
    throw e;
  }

  async init(): Promise<void> {
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: this.bucket }));
    } catch (e) {
      if (isNotFoundError(e)) throw new Error(`the bucket ${this.bucket} does not exist${this.config.endpoint ? ` at ${this.config.endpoint}` : ''}; create it first (storage.s3.bucket)`, { cause: e });
      const status = (e as S3ServiceException).$metadata?.httpStatusCode;
      if (status === 403) throw new Error(`access to the bucket ${this.bucket} is denied; check the access key and its permissions (storage.s3.accessKey or AWS_ACCESS_KEY_ID)`, { cause: e });
      throw new Error(`cannot reach the bucket ${this.bucket}${this.config.endpoint ? ` at ${this.config.endpoint}` : ''}: ${(e as Error).name}: ${(e as Error).message}`, { cause: e });
    }
  }

  async close(): Promise<void> {
    this.client.destroy();
  }

  async getContent(path: string): Promise<Buffer> {
    try {
      const r = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.key(path) }));
      return Buffer.from(await (r.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray());
    } catch (e) {
      return this.rethrow(e, path);
    }
  }

  async putContent(path: string, content: string | Uint8Array): Promise<void> {
    // A PUT is atomic in S3: readers see the old object or the new one.
    await this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key: this.key(path), Body: content, ContentType: 'application/octet-stream' }));
  }

  async reader(path: string, offset = 0, end = Infinity): Promise<Readable> {
    const range = offset > 0 || end !== Infinity ? `bytes=${offset}-${end === Infinity ? '' : end}` : undefined;
    try {
      const r = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.key(path), ...(range ? { Range: range } : {}) }));
      return r.Body as Readable;
    } catch (e) {
      return this.rethrow(e, path);
    }
  }

  async stat(path: string): Promise<FileInfo> {
    try {
      const h = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: this.key(path) }));
      return { path, size: h.ContentLength ?? 0, modTimeMs: h.LastModified?.getTime() ?? 0, isDir: false };
    } catch (e) {
      if (!isNotFoundError(e)) throw e;
    }
    const r = await this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: this.dirPrefix(path), MaxKeys: 1 }));
    if ((r.KeyCount ?? 0) === 0) throw new PathNotFoundError(path, this.name);
    return { path, size: 0, modTimeMs: r.Contents?.[0]?.LastModified?.getTime() ?? 0, isDir: true };
  }

  async list(path: string): Promise<string[]> {
    const prefix = this.dirPrefix(path);
    const out: string[] = [];
    let token: string | undefined;
    let any = false;
    do {
      const r = await this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, Delimiter: '/', ...(token ? { ContinuationToken: token } : {}) }));
      for (const p of r.CommonPrefixes ?? []) if (p.Prefix) out.push(this.pathOf(p.Prefix.slice(0, -1)));
      for (const o of r.Contents ?? []) if (o.Key && o.Key !== prefix) out.push(this.pathOf(o.Key));
      any ||= (r.KeyCount ?? 0) > 0;
      token = r.IsTruncated ? r.NextContinuationToken : undefined;
    } while (token);
    if (!any && path !== '/') throw new PathNotFoundError(path, this.name);
    return out;
  }

  private copySource(key: string): string {
    return encodeURI(`${this.bucket}/${key}`);
  }

  async move(source: string, dest: string): Promise<void> {
    const from = this.key(source);
    const to = this.key(dest);
    const size = (await this.stat(source)).size;
    if (size <= MAX_COPY_OBJECT_BYTES) {
      await this.client.send(new CopyObjectCommand({ Bucket: this.bucket, Key: to, CopySource: this.copySource(from) }));
    } else {
      // Server-side still: the bytes never leave the store.
      const { UploadId } = await this.client.send(new CreateMultipartUploadCommand({ Bucket: this.bucket, Key: to }));
      const parts: CompletedPart[] = [];
      try {
        for (let start = 0, n = 1; start < size; start += COPY_PART_BYTES, n++) {
          const end = Math.min(size, start + COPY_PART_BYTES) - 1;
          const r = await this.client.send(new UploadPartCopyCommand({
            Bucket: this.bucket, Key: to, UploadId, PartNumber: n, CopySource: this.copySource(from), CopySourceRange: `bytes=${start}-${end}`,
          }));
          parts.push({ PartNumber: n, ETag: r.CopyPartResult?.ETag ?? '' });
        }
        await this.client.send(new CompleteMultipartUploadCommand({ Bucket: this.bucket, Key: to, UploadId, MultipartUpload: { Parts: parts } }));
      } catch (e) {
        await this.client.send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: to, UploadId })).catch(() => undefined);
        throw e;
      }
    }
    await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: from }));
  }

  async delete(path: string): Promise<void> {
    const key = this.key(path);
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const r = await this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: this.dirPrefix(path), ...(token ? { ContinuationToken: token } : {}) }));
      for (const o of r.Contents ?? []) if (o.Key) keys.push(o.Key);
      token = r.IsTruncated ? r.NextContinuationToken : undefined;
    } while (token);
    const isFile = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key })).then(() => true, (e: unknown) => {
      if (isNotFoundError(e)) return false;
      throw e;
    });
    if (isFile) keys.push(key);
    // Unfinished writers under the path (an upload's data) go with it.
    const aborted = await this.abortUploads(key);
    if (keys.length === 0 && aborted === 0) throw new PathNotFoundError(path, this.name);
    for (let i = 0; i < keys.length; i += DELETE_BATCH) {
      const r = await this.client.send(new DeleteObjectsCommand({
        Bucket: this.bucket, Delete: { Objects: keys.slice(i, i + DELETE_BATCH).map((Key) => ({ Key })), Quiet: true },
      }));
      const failed = (r.Errors ?? []).filter((err) => err.Code !== 'NoSuchKey');
      if (failed.length > 0) throw new Error(`could not delete ${failed.length} objects under ${path}: ${failed[0]?.Code ?? ''} ${failed[0]?.Message ?? ''}`);
    }
  }

  /** Aborts the multipart uploads of `key` and of keys below it; returns how many. */
  private async abortUploads(key: string): Promise<number> {
    let n = 0;
    for (const u of await this.multipartUploads(key)) {
      if (u.key !== key && !u.key.startsWith(`${key}/`)) continue;
      await this.client.send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: u.key, UploadId: u.uploadId })).catch((e: unknown) => {
        if (!isNotFoundError(e)) throw e;
      });
      n++;
    }
    return n;
  }

  private async multipartUploads(prefix: string): Promise<{ key: string; uploadId: string; initiatedMs: number }[]> {
    const out: { key: string; uploadId: string; initiatedMs: number }[] = [];
    let keyMarker: string | undefined;
    let idMarker: string | undefined;
    for (;;) {
      const r = await this.client.send(new ListMultipartUploadsCommand({
        Bucket: this.bucket, Prefix: prefix, ...(keyMarker ? { KeyMarker: keyMarker } : {}), ...(idMarker ? { UploadIdMarker: idMarker } : {}),
      }));
      for (const u of r.Uploads ?? []) if (u.Key && u.UploadId) out.push({ key: u.Key, uploadId: u.UploadId, initiatedMs: u.Initiated?.getTime() ?? 0 });
      if (!r.IsTruncated) return out;
      keyMarker = r.NextKeyMarker;
      idMarker = r.NextUploadIdMarker;
    }
  }

  private async listParts(key: string, uploadId: string): Promise<Part[]> {
    const parts: Part[] = [];
    let marker: string | undefined;
    for (;;) {
      const r = await this.client.send(new ListPartsCommand({ Bucket: this.bucket, Key: key, UploadId: uploadId, ...(marker ? { PartNumberMarker: marker } : {}) }));
      for (const p of r.Parts ?? []) parts.push({ partNumber: p.PartNumber ?? 0, etag: p.ETag ?? '', size: p.Size ?? 0, lastModifiedMs: p.LastModified?.getTime() ?? 0 });
      if (!r.IsTruncated) return parts.sort((a, b) => a.partNumber - b.partNumber);
      marker = r.NextPartNumberMarker;
    }
  }

  async writer(path: string, append: boolean): Promise<FileWriter> {
    const key = this.key(path);
    if (!append) {
      await this.abortUploads(key);
      const { UploadId } = await this.client.send(new CreateMultipartUploadCommand({ Bucket: this.bucket, Key: key }));
      return new S3Writer(this, key, UploadId ?? '', [], Date.now());
    }
    const uploads = (await this.multipartUploads(key)).filter((u) => u.key === key).sort((a, b) => b.initiatedMs - a.initiatedMs);
    const latest = uploads[0];
    if (latest) {
      const parts = await this.listParts(key, latest.uploadId);
      return new S3Writer(this, key, latest.uploadId, parts, Math.max(latest.initiatedMs, ...parts.map((p) => p.lastModifiedMs)));
    }
    // A writer that completed its upload and died before starting the next one left the object only;
    // the next upload starts from it on the first write, so opening to look (size, age) changes nothing.
    const existing = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key })).catch((e: unknown) => this.rethrow(e, path));
    return new S3Writer(this, key, '', [], existing.LastModified?.getTime() ?? 0, existing.ContentLength ?? 0);
  }

  get bucketName(): string {
    return this.bucket;
  }

  get chunkBytes(): number {
    return this.config.chunkSizeBytes;
  }

  async redirectURL(path: string, method: 'GET' | 'HEAD'): Promise<string | undefined> {
    if (!this.config.redirect || method !== 'GET') return undefined;
    return getSignedUrl(this.client, new GetObjectCommand({ Bucket: this.bucket, Key: this.key(path) }), { expiresIn: PRESIGN_EXPIRY_SECONDS });
  }

  copySourceOf(key: string): string {
    return this.copySource(key);
  }
}

class S3Writer implements FileWriter {
  /** Bytes received but not yet stored as a part. */
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private done = false;

  /**
   * @param objectBytes the size of a completed object at the key that no multipart upload continues
   *   yet: one is started from it before the first byte is appended.
   */
  constructor(private readonly driver: S3Driver, private readonly key: string, private uploadId: string, private parts: Part[],
    readonly modTimeMs: number, private objectBytes?: number) {}

  get size(): number {
    return (this.objectBytes ?? 0) + this.parts.reduce((n, p) => n + p.size, 0) + this.pendingBytes;
  }

  private get client(): S3Client {
    return this.driver.client;
  }

  private get bucket(): string {
    return this.driver.bucketName;
  }

  /**
   * Starts a new multipart upload whose first bytes are the object at the key (`size` bytes): a
   * copied part when it is large enough to be one, else read back into the pending buffer.
   */
  private async restartFromObject(size: number): Promise<void> {
    this.objectBytes = undefined;
    const { UploadId } = await this.client.send(new CreateMultipartUploadCommand({ Bucket: this.bucket, Key: this.key }));
    this.uploadId = UploadId ?? '';
    this.parts = [];
    if (size === 0) return;
    if (size < MIN_S3_CHUNK_BYTES) {
      const r = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.key }));
      const bytes = Buffer.from(await (r.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray());
      this.pending = [bytes];
      this.pendingBytes = bytes.length;
      return;
    }
    const r = await this.client.send(new UploadPartCopyCommand({ Bucket: this.bucket, Key: this.key, UploadId: this.uploadId, PartNumber: 1, CopySource: this.driver.copySourceOf(this.key) }));
    this.parts = [{ partNumber: 1, etag: r.CopyPartResult?.ETag ?? '', size, lastModifiedMs: Date.now() }];
  }

  /** S3 takes a short part only as the last: before appending after one, fold everything into a new upload. */
  private async consolidate(): Promise<void> {
    if (this.objectBytes !== undefined) return this.restartFromObject(this.objectBytes);
    const last = this.parts[this.parts.length - 1];
    if (!last || last.size >= MIN_S3_CHUNK_BYTES) return;
    const size = this.parts.reduce((n, p) => n + p.size, 0);
    await this.client.send(new CompleteMultipartUploadCommand({
      Bucket: this.bucket, Key: this.key, UploadId: this.uploadId, MultipartUpload: { Parts: this.parts.map((p) => ({ PartNumber: p.partNumber, ETag: p.etag })) },
    }));
    await this.restartFromObject(size);
  }

  private async uploadPart(body: Buffer): Promise<void> {
    const partNumber = (this.parts[this.parts.length - 1]?.partNumber ?? 0) + 1;
    const r = await this.client.send(new UploadPartCommand({ Bucket: this.bucket, Key: this.key, UploadId: this.uploadId, PartNumber: partNumber, Body: body, ContentLength: body.length }));
    this.parts.push({ partNumber, etag: r.ETag ?? '', size: body.length, lastModifiedMs: Date.now() });
  }

  private takePending(): Buffer {
    const b = this.pending.length === 1 ? (this.pending[0] as Buffer) : Buffer.concat(this.pending, this.pendingBytes);
    this.pending = [];
    this.pendingBytes = 0;
    return b;
  }

  /** The first `bytes` pending bytes as one buffer; the rest stays pending as the socket reads it came in. */
  private takeFront(bytes: number): Buffer {
    const front: Buffer[] = [];
    let n = 0;
    while (n < bytes) {
      const head = this.pending[0] as Buffer;
      const want = bytes - n;
      if (head.length <= want) {
        front.push(head);
        this.pending.shift();
        n += head.length;
      } else {
        front.push(head.subarray(0, want));
        this.pending[0] = head.subarray(want);
        n += want;
      }
    }
    this.pendingBytes -= bytes;
    return Buffer.concat(front, bytes);
  }

  /**
   * A part goes up mid-request only when what stays pending is a valid part on its own (5 MiB or more),
   * so that `close` can store the request's tail as one part that is not short: a request that ends
   * leaves no short part behind for the next one to consolidate, unless the request itself was short.
   * Memory per upload stays bounded: at most chunkSize + 5 MiB + one socket read pending (the part in
   * flight is chunkSize of it; reading the body waits while it uploads).
   */
  async write(body: Readable, onChunk?: (chunk: Buffer) => void): Promise<void> {
    // Capped so that what a request leaves pending (under chunkBytes + 5 MiB) fits in one part.
    const chunkBytes = Math.min(this.driver.chunkBytes, MAX_PART_BYTES - MIN_S3_CHUNK_BYTES);
    let consolidated = false;
    for await (const data of body) {
      const chunk = data as Buffer;
      if (chunk.length === 0) continue;
      if (!consolidated) {
        await this.consolidate();
        consolidated = true;
      }
      onChunk?.(chunk);
      this.pending.push(chunk);
      this.pendingBytes += chunk.length;
      while (this.pendingBytes >= chunkBytes + MIN_S3_CHUNK_BYTES) await this.uploadPart(this.takeFront(chunkBytes));
    }
  }

  async close(): Promise<void> {
    if (this.done) return;
    this.done = true;
    // The request's tail in one part (under chunkSize + 5 MiB, at most S3's 5 GiB): short only when the request was.
    if (this.pendingBytes > 0) await this.uploadPart(this.takePending());
  }

  async commit(): Promise<void> {
    if (this.done) throw new Error('the writer is closed');
    this.done = true;
    // Nothing appended to a completed object: it is already what a commit makes.
    if (this.objectBytes !== undefined) return;
    if (this.parts.length === 0) {
      // Small files go in one PUT; a multipart upload needs at least one part.
      await this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key: this.key, Body: this.takePending() }));
      await this.client.send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: this.key, UploadId: this.uploadId })).catch(() => undefined);
      return;
    }
    if (this.pendingBytes > 0) await this.uploadPart(this.takePending());
    await this.client.send(new CompleteMultipartUploadCommand({
      Bucket: this.bucket, Key: this.key, UploadId: this.uploadId, MultipartUpload: { Parts: this.parts.map((p) => ({ PartNumber: p.partNumber, ETag: p.etag })) },
    }));
  }

  async cancel(): Promise<void> {
    this.done = true;
    if (this.uploadId) await this.client.send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: this.key, UploadId: this.uploadId })).catch(() => undefined);
    await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.key })).catch(() => undefined);
  }
}
