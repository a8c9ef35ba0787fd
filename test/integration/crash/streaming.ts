/** An upload the test holds open mid-body, and checks of what a registry's storage (folder or bucket) holds. */
import { createHash, randomBytes } from 'node:crypto';
import { request, type IncomingMessage } from 'node:http';
import { once } from 'node:events';
import { Layout } from '../../../src/server/layout';
import { listNames, orUndefined } from '../../../src/server/storage/driver';
import { walkRepositories, type StorageDriver } from '../../../src/server/storage';
import { uploadUrl } from '../../support/ociImage';

/** A large blob as `chunkCount` repeats of one random chunk: known digest, little memory. */
export class RepeatedBlob {
  readonly chunk: Buffer;
  readonly digest: string;
  constructor(readonly chunkBytes: number, readonly chunkCount: number) {
    this.chunk = randomBytes(chunkBytes);
    const hash = createHash('sha256');
    for (let i = 0; i < chunkCount; i++) hash.update(this.chunk);
    this.digest = `sha256:${hash.digest('hex')}`;
  }
  get size(): number {
    return this.chunkBytes * this.chunkCount;
  }
  bytes(): Buffer {
    return Buffer.concat(Array.from({ length: this.chunkCount }, () => this.chunk));
  }
}

export interface OpenUpload {
  /** Bytes handed to the socket so far. */
  written: number;
  /** Settles when the server answers or the connection dies (never rejects). */
  response: Promise<IncomingMessage | Error>;
  abort(): void;
}

/**
 * Starts sending `blob` to `location` with `method` and stops after `stopAfterBytes`, leaving the
 * request open. PATCH goes without a length (chunked, as docker streams layers); PUT declares the
 * full length and the digest, as a monolithic upload does.
 */
export async function openUpload(baseUrl: string, location: string, method: 'PATCH' | 'PUT', blob: RepeatedBlob, stopAfterBytes: number): Promise<OpenUpload> {
  const url = new URL(method === 'PUT' ? uploadUrl(baseUrl, location, { digest: blob.digest }) : uploadUrl(baseUrl, location));
  const headers: Record<string, string> = { 'Content-Type': 'application/octet-stream' };
  if (method === 'PUT') headers['Content-Length'] = String(blob.size);
  const req = request(url, { method, headers });
  const response = new Promise<IncomingMessage | Error>((resolve) => {
    req.once('response', resolve);
    req.once('error', resolve);
  });
  const upload: OpenUpload = { written: 0, response, abort: () => req.destroy() };
  for (let i = 0; i < blob.chunkCount && upload.written < stopAfterBytes; i++) {
    if (!req.write(blob.chunk)) await Promise.race([once(req, 'drain'), response]);
    upload.written += blob.chunkBytes;
  }
  return upload;
}

/** Total bytes written into any repository's uploads: evidence that an upload reached the storage. */
export async function bytesInUploads(driver: StorageDriver): Promise<number> {
  const layout = new Layout('/');
  let total = 0;
  for (const repo of await walkRepositories(driver, layout, '_uploads')) {
    for (const id of await listNames(driver, layout.uploadsDir(repo))) {
      // The writer's size counts what S3 holds as parts of an unfinished multipart upload, too.
      const w = await orUndefined(driver.writer(layout.uploadData(repo, id), true));
      if (!w) continue;
      total += w.size;
      await w.close();
    }
  }
  return total;
}

async function blobFiles(driver: StorageDriver): Promise<{ path: string; hex: string }[]> {
  const dir = '/docker/registry/v2/blobs/sha256';
  const files: { path: string; hex: string }[] = [];
  for (const prefix of await listNames(driver, dir)) {
    for (const hex of await listNames(driver, `${dir}/${prefix}`)) {
      const path = `${dir}/${prefix}/${hex}/data`;
      if (await orUndefined(driver.stat(path))) files.push({ path, hex });
    }
  }
  return files;
}

/**
 * Every served blob (`blobs/sha256/<2>/<hex>/data`) whose content does not hash to its name: a
 * half-written blob in the served tree shows up here.
 */
export async function corruptBlobs(driver: StorageDriver): Promise<string[]> {
  const bad: string[] = [];
  for (const f of await blobFiles(driver)) {
    const hash = createHash('sha256');
    for await (const chunk of await driver.reader(f.path)) hash.update(chunk as Buffer);
    if (hash.digest('hex') !== f.hex) bad.push(f.path);
  }
  return bad;
}

/** Digests of every blob in the served tree. */
export async function storedBlobs(driver: StorageDriver): Promise<string[]> {
  return (await blobFiles(driver)).map((f) => `sha256:${f.hex}`);
}
