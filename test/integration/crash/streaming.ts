/** An upload the test holds open mid-body, and checks of what a registry root holds on disk. */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, readdirSync, statSync } from 'node:fs';
import { request, type IncomingMessage } from 'node:http';
import { join } from 'node:path';
import { once } from 'node:events';
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

function walk(dir: string, visit: (path: string, parts: string[]) => void, parts: string[] = []): void {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of entries) {
    const path = join(dir, e.name);
    if (e.isDirectory()) walk(path, visit, [...parts, e.name]);
    else if (e.isFile()) visit(path, [...parts, e.name]);
  }
}

/** Total bytes of files inside any repository's `_uploads`: evidence that an upload reached the disk. */
export function bytesInUploads(root: string): number {
  let total = 0;
  walk(join(root, 'docker', 'registry', 'v2', 'repositories'), (path, parts) => {
    if (parts.includes('_uploads')) total += statSync(path).size;
  });
  return total;
}

async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/**
 * Every served blob (`blobs/sha256/<2>/<hex>/data`) whose content does not hash to its name: a
 * half-written blob in the served tree shows up here.
 */
export async function corruptBlobs(root: string): Promise<string[]> {
  const files: { path: string; hex: string }[] = [];
  walk(join(root, 'docker', 'registry', 'v2', 'blobs', 'sha256'), (path, parts) => {
    if (parts.length === 3 && parts[2] === 'data' && parts[1]) files.push({ path, hex: parts[1] });
  });
  const bad: string[] = [];
  for (const f of files) if ((await sha256File(f.path)) !== f.hex) bad.push(f.path);
  return bad;
}

/** Digests of every blob in the served tree. */
export function storedBlobs(root: string): string[] {
  const found: string[] = [];
  walk(join(root, 'docker', 'registry', 'v2', 'blobs', 'sha256'), (_path, parts) => {
    if (parts.length === 3 && parts[2] === 'data' && parts[1]) found.push(`sha256:${parts[1]}`);
  });
  return found;
}
