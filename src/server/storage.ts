/**
 * The registry's storage in distribution's filesystem layout (see layout.ts), behind an interface
 * so that a pull-through proxy or a read-only view can wrap it.
 *
 * Crash safety: blob and manifest bytes are written to a file outside the served tree (an upload's
 * `data`, or `.berth/tmp`), fsynced, and renamed into place; links are written the same way. A kill
 * at any moment leaves either the old state or the new one, plus at worst an upload folder that the
 * purge removes later.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, open, readFile, rm, writeFile, readdir, type FileHandle } from 'node:fs/promises';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { Transform, type Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Digester, parseDigest, type DigestAlgorithm, type ParsedDigest } from '../oci/digest';
import type { Descriptor } from '../oci/types';
import { RegistryError } from './errors';
import {
  exists, fsyncFile, hashFile, isNotFound, readTextOrUndefined, readdirOrEmpty, removeTree, renameMakingDir,
  statOrUndefined, writeFileAtomic,
} from './fsutil';
import { Layout, parseLink } from './layout';
import { manifestOwnType, parseManifest, referrerDescriptor } from './manifest';

export interface BlobInfo {
  digest: string;
  size: number;
}

export interface StoredManifest {
  digest: string;
  mediaType: string;
  size: number;
  bytes: Buffer;
}

export interface UploadStatus {
  id: string;
  repository: string;
  /** Bytes received so far. */
  offset: number;
  /** The user who started the upload; only they may continue, finish or cancel it. Absent: anonymous. */
  owner?: string;
}

export interface ByteRange {
  /** Inclusive. */
  start: number;
  /** Inclusive. */
  end: number;
}

export type ManifestRef = { tag: string } | { digest: ParsedDigest };

export interface Storage {
  /** A blob as `repository` sees it (linked there), or undefined. */
  statBlob(repository: string, digest: ParsedDigest): Promise<BlobInfo | undefined>;
  /** Streams a blob the caller has just `statBlob`-ed. */
  readBlob(digest: ParsedDigest, range?: ByteRange): Promise<Readable>;
  /** Unlinks a blob from a repository; false when it was not linked. */
  deleteBlob(repository: string, digest: ParsedDigest): Promise<boolean>;
  /**
   * Links a blob held elsewhere into `repository`: from `from` when given; else, with `mayPull`, from
   * a repository that holds it and passes `mayPull`; with neither, from anywhere in the registry
   * (only for the registry's own use, never on a client's behalf).
   */
  mountBlob(repository: string, digest: ParsedDigest, from?: string, mayPull?: (source: string) => Promise<boolean>): Promise<BlobInfo | undefined>;

  startUpload(repository: string, owner?: string): Promise<UploadStatus>;
  uploadStatus(repository: string, id: string): Promise<UploadStatus | undefined>;
  /** Appends a chunk. With `start`, it must equal the current offset, else 416. */
  appendUpload(repository: string, id: string, body: Readable, start?: number): Promise<UploadStatus>;
  /** Appends an optional last chunk, verifies the digest and moves the blob into place. */
  finishUpload(repository: string, id: string, digest: ParsedDigest, body?: Readable, start?: number): Promise<BlobInfo>;
  cancelUpload(repository: string, id: string): Promise<boolean>;

  getManifest(repository: string, ref: ManifestRef): Promise<StoredManifest | undefined>;
  hasManifest(repository: string, digest: ParsedDigest): Promise<boolean>;
  /** Stores a manifest the caller has validated and hashed, under `digest` and optionally a tag. */
  putManifest(repository: string, digest: ParsedDigest, bytes: Buffer, mediaType: string, tag?: string): Promise<StoredManifest>;
  /** Removes a manifest revision and the tags pointing at it; false when it was not there. */
  deleteManifest(repository: string, digest: ParsedDigest): Promise<boolean>;
  deleteTag(repository: string, tag: string): Promise<boolean>;
  /** Tags, unsorted; undefined when the repository is unknown. */
  listTags(repository: string): Promise<string[] | undefined>;
  /** Repositories holding manifests, unsorted. */
  listRepositories(): Promise<string[]>;
  /** Manifests in `repository` whose subject is `subject`. */
  referrers(repository: string, subject: ParsedDigest): Promise<Descriptor[]>;
  repositoryExists(repository: string): Promise<boolean>;
  /** Removes uploads started more than `maxAgeMs` ago; returns how many. */
  purgeUploads(maxAgeMs: number): Promise<number>;
}

interface UploadState {
  offset: number;
  owner?: string;
  /** The running sha256 of everything appended; dropped when a chunk failed midway. */
  digester?: Digester;
}

/** Runs one task at a time per key (upload sessions), without blocking other keys. */
class KeyedMutex {
  private readonly tails = new Map<string, Promise<unknown>>();

  isBusy(key: string): boolean {
    return this.tails.has(key);
  }

  async run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const prev = this.tails.get(key) ?? Promise.resolve();
    const next = prev.then(task, task);
    const tail = next.catch(() => undefined);
    this.tails.set(key, tail);
    try {
      return await next;
    } finally {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    }
  }
}

/** A size-bounded map that forgets its oldest entries first. */
class Lru<V> {
  private readonly map = new Map<string, V>();
  private weight = 0;
  constructor(private readonly maxWeight: number, private readonly weigh: (v: V) => number = () => 1) {}

  get(key: string): V | undefined {
    const v = this.map.get(key);
    if (v !== undefined) {
      this.map.delete(key);
      this.map.set(key, v);
    }
    return v;
  }

  set(key: string, v: V): void {
    this.delete(key);
    const w = this.weigh(v);
    if (w > this.maxWeight) return;
    this.map.set(key, v);
    this.weight += w;
    for (const [k, old] of this.map) {
      if (this.weight <= this.maxWeight) break;
      this.map.delete(k);
      this.weight -= this.weigh(old);
    }
  }

  delete(key: string): void {
    const old = this.map.get(key);
    if (old !== undefined) {
      this.map.delete(key);
      this.weight -= this.weigh(old);
    }
  }

  deleteWhere(pred: (key: string) => boolean): void {
    for (const k of [...this.map.keys()]) if (pred(k)) this.delete(k);
  }
}

// Fewer, larger reads: about a fifth less server CPU per pull than 512 KiB, a few MiB per pull in flight.
const BLOB_READ_CHUNK_BYTES = 2 * 1024 * 1024;

/** The file behind each stream `readBlob` returned, for `sendBlob`'s copy through reused buffers. */
const blobFiles = new WeakMap<Readable, { fh: FileHandle; start: number; end: number }>();
/** Read buffers no write references any more, kept for the next pull. */
const freeReadBuffers: Buffer[] = [];
const MAX_FREE_READ_BUFFERS = 8;
const READS_IN_FLIGHT = 2;

/**
 * Sends a stream from `Storage.readBlob` to `out` and ends `out`. A blob file straight from disk is
 * copied through a few reused buffers: a buffer is read into again only once the write holding it
 * has completed (its callback), so no byte is sent twice or changed in flight. Fresh 2 MiB buffers
 * per read cost page faults and garbage collection: about a third of a pull's server CPU.
 * Any other stream (a pull-through cache miss) is piped.
 */
export async function sendBlob(stream: Readable, out: Writable): Promise<void> {
  const file = blobFiles.get(stream);
  if (!file || stream.readableFlowing !== null || stream.destroyed) {
    await pipeline(stream, out);
    return;
  }
  blobFiles.delete(stream);
  let pos = file.start;
  let inFlight = 0;
  let failure: Error | undefined;
  let wake: (() => void) | undefined;
  const wakeUp = (): void => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  const onClose = (): void => {
    if (!out.writableFinished) failure ??= new Error('the client closed the connection during the download');
    wakeUp();
  };
  out.on('close', onClose);
  try {
    while (pos <= file.end) {
      while (inFlight >= READS_IN_FLIGHT && !failure) await new Promise<void>((resolve) => (wake = resolve));
      if (failure) throw failure;
      const buf = freeReadBuffers.pop() ?? Buffer.allocUnsafeSlow(BLOB_READ_CHUNK_BYTES);
      const { bytesRead } = await file.fh.read(buf, 0, Math.min(buf.length, file.end - pos + 1), pos);
      if (bytesRead === 0) {
        if (file.end === Infinity) break;
        throw new Error('the blob file is shorter than its recorded size');
      }
      if (failure) throw failure;
      pos += bytesRead;
      inFlight++;
      out.write(buf.subarray(0, bytesRead), (err) => {
        inFlight--;
        // A failed write may still hold the buffer: leave that one to the garbage collector.
        if (err) failure ??= err;
        else if (freeReadBuffers.length < MAX_FREE_READ_BUFFERS) freeReadBuffers.push(buf);
        wakeUp();
      });
    }
    await new Promise<void>((resolve, reject) => {
      out.once('finish', resolve);
      out.once('close', () => (out.writableFinished ? resolve() : reject(failure ?? new Error('the client closed the connection during the download'))));
      out.end();
    });
  } catch (e) {
    out.destroy(e as Error);
    throw e;
  } finally {
    out.off('close', onClose);
    stream.destroy();
  }
}

/** A mount without `from` looks in at most this many repositories before answering with an upload instead. */
const MAX_MOUNT_SOURCES_CHECKED = 1000;

const UPLOAD_WRITE_BUFFER_BYTES = 2 * 1024 * 1024;

export interface FsStorageOptions {
  /** Bytes of manifests kept in memory. Safe because only this process writes the root (the lock). */
  manifestCacheBytes?: number;
}

/** Distribution-compatible filesystem storage. Only one process may write a root at a time (see lock.ts). */
export class FsStorage implements Storage {
  readonly layout: Layout;
  private readonly uploads = new Map<string, UploadState>();
  private readonly uploadLocks = new KeyedMutex();
  private readonly tagLocks = new KeyedMutex();
  private readonly manifests: Lru<StoredManifest>;
  /** `repo\0tag` → manifest digest, and `repo\0@digest` → revision known to exist. */
  private readonly links = new Lru<string>(50_000);
  /** The catalog, walked once; repositories only appear (a first manifest), they are never removed. */
  private repositories: Promise<Set<string>> | undefined;
  /** Tags per repository, dropped whenever a tag of the repository is written or removed. */
  private readonly tagLists = new Lru<string[]>(200_000, (tags) => tags.length + 1);

  constructor(root: string, opts: FsStorageOptions = {}) {
    this.layout = new Layout(root);
    this.manifests = new Lru<StoredManifest>(opts.manifestCacheBytes ?? 32 * 1024 * 1024, (m) => m.size + 200);
  }

  /** Creates the folders the storage writes into and clears temp files a crash may have left. */
  async init(): Promise<void> {
    // The folder's contents, not the folder: recreating it would need a free block, and the
    // registry must start on a full disk to serve pulls.
    for (const entry of await readdirOrEmpty(this.layout.tmpDir)) await removeTree(join(this.layout.tmpDir, entry.name));
    // Another registry may have served this root since we last did; the referrers index rebuilds on demand.
    await removeTree(join(this.layout.berth, 'referrers'));
    await mkdir(this.layout.tmpDir, { recursive: true });
    await mkdir(this.layout.repositoriesDir, { recursive: true });
    await mkdir(this.layout.blobsDir, { recursive: true });
  }

  private writeLink(path: string, d: ParsedDigest): Promise<void> {
    return writeFileAtomic(path, d.digest, this.layout.tmpDir);
  }

  // ---- blobs ----

  async statBlob(repository: string, digest: ParsedDigest): Promise<BlobInfo | undefined> {
    const linked = (await exists(this.layout.layerLink(repository, digest))) || (await this.hasManifest(repository, digest));
    if (!linked) return undefined;
    const st = await statOrUndefined(this.layout.blobData(digest));
    return st?.isFile() ? { digest: digest.digest, size: st.size } : undefined;
  }

  async readBlob(digest: ParsedDigest, range?: ByteRange): Promise<Readable> {
    // Opened here so a missing file surfaces now rather than mid-response.
    const fh = await open(this.layout.blobData(digest), 'r');
    const stream = createReadStream('', { fd: fh, highWaterMark: BLOB_READ_CHUNK_BYTES, ...(range ? { start: range.start, end: range.end } : {}) });
    blobFiles.set(stream, { fh, start: range?.start ?? 0, end: range?.end ?? Infinity });
    return stream;
  }

  async deleteBlob(repository: string, digest: ParsedDigest): Promise<boolean> {
    const link = this.layout.layerLink(repository, digest);
    if (!(await exists(link))) return false;
    await removeTree(join(link, '..'));
    return true;
  }

  async mountBlob(repository: string, digest: ParsedDigest, from?: string, mayPull?: (source: string) => Promise<boolean>): Promise<BlobInfo | undefined> {
    let size: number | undefined;
    if (from !== undefined) {
      size = (await this.statBlob(from, digest))?.size;
    } else if (mayPull) {
      size = await this.sizeInPullableRepository(digest, mayPull);
    } else {
      const st = await statOrUndefined(this.layout.blobData(digest));
      size = st?.isFile() ? st.size : undefined;
    }
    if (size === undefined) return undefined;
    await this.writeLink(this.layout.layerLink(repository, digest), digest);
    return { digest: digest.digest, size };
  }

  /** The blob's size when a repository the caller may pull links it; the search stops after a bounded number of looks. */
  private async sizeInPullableRepository(digest: ParsedDigest, mayPull: (source: string) => Promise<boolean>): Promise<number | undefined> {
    if (!(await statOrUndefined(this.layout.blobData(digest)))?.isFile()) return undefined;
    let looked = 0;
    for (const candidate of await this.listRepositories()) {
      if (looked >= MAX_MOUNT_SOURCES_CHECKED) return undefined;
      if (!(await mayPull(candidate))) continue;
      looked++;
      const info = await this.statBlob(candidate, digest);
      if (info) return info.size;
    }
    return undefined;
  }

  // ---- uploads ----

  private uploadKey(repository: string, id: string): string {
    return `${repository}\0${id}`;
  }

  async startUpload(repository: string, owner?: string): Promise<UploadStatus> {
    const id = randomUUID();
    const dir = this.layout.uploadDir(repository, id);
    await mkdir(dir, { recursive: true });
    // Distribution's own files, so either registry can purge the other's abandoned uploads.
    await writeFile(this.layout.uploadStartedAt(repository, id), new Date().toISOString().replace(/\.\d+Z$/, 'Z'));
    // Kept on disk so the binding to its user survives a restart.
    if (owner !== undefined) await writeFile(this.layout.uploadOwner(repository, id), owner);
    await writeFile(this.layout.uploadData(repository, id), '');
    this.uploads.set(this.uploadKey(repository, id), { offset: 0, digester: new Digester('sha256'), ...(owner !== undefined ? { owner } : {}) });
    return { id, repository, offset: 0, ...(owner !== undefined ? { owner } : {}) };
  }

  private async loadUpload(repository: string, id: string): Promise<UploadState | undefined> {
    const key = this.uploadKey(repository, id);
    const known = this.uploads.get(key);
    if (known) return known;
    const st = await statOrUndefined(this.layout.uploadData(repository, id));
    if (!st?.isFile()) return undefined;
    // A session from before a restart: its running hash is gone, so the file is hashed at the end.
    const owner = await readTextOrUndefined(this.layout.uploadOwner(repository, id));
    const state: UploadState = { offset: st.size, ...(st.size === 0 ? { digester: new Digester('sha256') } : {}), ...(owner !== undefined ? { owner } : {}) };
    this.uploads.set(key, state);
    return state;
  }

  async uploadStatus(repository: string, id: string): Promise<UploadStatus | undefined> {
    const s = await this.loadUpload(repository, id);
    return s ? { id, repository, offset: s.offset, ...(s.owner !== undefined ? { owner: s.owner } : {}) } : undefined;
  }

  private async appendLocked(repository: string, id: string, state: UploadState, body: Readable, start: number | undefined): Promise<void> {
    if (start !== undefined && start !== state.offset) {
      body.resume();
      throw new RegistryError('BLOB_UPLOAD_INVALID', `chunk starts at ${start} but the upload holds ${state.offset} bytes; send the next chunk from ${state.offset}`,
        { offset: state.offset }, 416, { Range: `0-${Math.max(0, state.offset - 1)}` });
    }
    const digester = state.digester;
    let written = 0;
    const meter = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        digester?.update(chunk);
        written += chunk.length;
        cb(null, chunk);
      },
    });
    try {
      // A deeper write buffer lets the socket and the hash run while the disk write is pending;
      // fs.WriteStream then writes what piled up with one writev.
      await pipeline(body, meter, createWriteStream(this.layout.uploadData(repository, id), { flags: 'a', highWaterMark: UPLOAD_WRITE_BUFFER_BYTES }));
      state.offset += written;
    } catch (e) {
      // Part of the chunk may be on disk: trust the file, and hash it again at the end.
      this.uploads.delete(this.uploadKey(repository, id));
      throw e;
    }
  }

  async appendUpload(repository: string, id: string, body: Readable, start?: number): Promise<UploadStatus> {
    return this.uploadLocks.run(this.uploadKey(repository, id), async () => {
      const state = await this.loadUpload(repository, id);
      if (!state) {
        body.resume();
        throw new RegistryError('BLOB_UPLOAD_UNKNOWN', `upload ${id} is unknown or finished`);
      }
      await this.appendLocked(repository, id, state, body, start);
      return { id, repository, offset: state.offset };
    });
  }

  async finishUpload(repository: string, id: string, digest: ParsedDigest, body?: Readable, start?: number): Promise<BlobInfo> {
    return this.uploadLocks.run(this.uploadKey(repository, id), async () => {
      const state = await this.loadUpload(repository, id);
      if (!state) {
        body?.resume();
        throw new RegistryError('BLOB_UPLOAD_UNKNOWN', `upload ${id} is unknown or finished`);
      }
      // A monolithic upload (all bytes in this request) is hashed while streaming in the digest's own
      // algorithm; chunked uploads run sha256 and hash the file again only for another algorithm.
      if (body && state.offset === 0 && state.digester?.algorithm !== digest.algorithm) state.digester = new Digester(digest.algorithm);
      if (body) await this.appendLocked(repository, id, state, body, start);
      const current = this.uploads.get(this.uploadKey(repository, id));
      const data = this.layout.uploadData(repository, id);
      const actual = current?.digester && current.digester.algorithm === digest.algorithm
        ? { digest: current.digester.digest(), size: current.offset }
        : await hashFile(data, digest.algorithm as DigestAlgorithm);
      // The running hash is spent; should anything below fail, a retry hashes the file again.
      if (current) delete current.digester;
      if (actual.digest !== digest.digest) {
        await this.dropUpload(repository, id);
        throw new RegistryError('DIGEST_INVALID', `the uploaded content has digest ${actual.digest}, not ${digest.digest}`, { digest: digest.digest });
      }
      const target = this.layout.blobData(digest);
      const existing = await statOrUndefined(target);
      if (!existing?.isFile()) {
        await fsyncFile(data);
        await renameMakingDir(data, target);
      }
      await this.writeLink(this.layout.layerLink(repository, digest), digest);
      await this.dropUpload(repository, id);
      return { digest: digest.digest, size: actual.size };
    });
  }

  private async dropUpload(repository: string, id: string): Promise<void> {
    this.uploads.delete(this.uploadKey(repository, id));
    await removeTree(this.layout.uploadDir(repository, id));
  }

  async cancelUpload(repository: string, id: string): Promise<boolean> {
    return this.uploadLocks.run(this.uploadKey(repository, id), async () => {
      if (!(await this.loadUpload(repository, id))) return false;
      await this.dropUpload(repository, id);
      return true;
    });
  }

  async purgeUploads(maxAgeMs: number): Promise<number> {
    let purged = 0;
    const cutoff = Date.now() - maxAgeMs;
    for (const repository of await this.walkRepositories('_uploads')) {
      for (const entry of await readdirOrEmpty(this.layout.uploadsDir(repository))) {
        const key = this.uploadKey(repository, entry.name);
        if (this.uploadLocks.isBusy(key)) continue;
        const dir = join(this.layout.uploadsDir(repository), entry.name);
        const startedText = await readTextOrUndefined(join(dir, 'startedat'));
        const started = startedText ? Date.parse(startedText.trim()) : NaN;
        const when = Number.isNaN(started) ? (await statOrUndefined(dir))?.mtimeMs ?? 0 : started;
        if (when < cutoff) {
          this.uploads.delete(key);
          await removeTree(dir);
          purged++;
        }
      }
    }
    return purged;
  }

  // ---- manifests ----

  async hasManifest(repository: string, digest: ParsedDigest): Promise<boolean> {
    const key = `${repository}\0@${digest.digest}`;
    if (this.links.get(key)) return true;
    const found = await exists(this.layout.revisionLink(repository, digest));
    if (found) this.links.set(key, digest.digest);
    return found;
  }

  private async resolveTag(repository: string, tag: string): Promise<ParsedDigest | undefined> {
    const key = `${repository}\0${tag}`;
    const cached = this.links.get(key);
    if (cached) return parseLink(cached);
    const text = await readTextOrUndefined(this.layout.tagCurrentLink(repository, tag));
    const d = text === undefined ? undefined : parseLink(text);
    if (d) this.links.set(key, d.digest);
    return d;
  }

  /** A repository's manifest; its served type may differ between repositories (see `manifestTypeFile`). */
  private async readManifestBlob(repository: string, digest: ParsedDigest): Promise<StoredManifest | undefined> {
    const key = `${repository}\0${digest.digest}`;
    const cached = this.manifests.get(key);
    if (cached) return cached;
    let bytes: Buffer;
    try {
      bytes = await readFile(this.layout.blobData(digest));
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw e;
    }
    const own = manifestOwnType(bytes);
    const mediaType = own.field ?? (await this.recordedManifestType(repository, digest)) ?? own.shape;
    const m: StoredManifest = { digest: digest.digest, mediaType, size: bytes.length, bytes };
    this.manifests.set(key, m);
    return m;
  }

  private async recordedManifestType(repository: string, digest: ParsedDigest): Promise<string | undefined> {
    const own = await readTextOrUndefined(this.layout.manifestTypeFile(repository, digest));
    // Roots written before types were kept per repository have one record per digest.
    return (own ?? (await readTextOrUndefined(this.layout.legacyManifestTypeFile(digest))))?.trim();
  }

  async getManifest(repository: string, ref: ManifestRef): Promise<StoredManifest | undefined> {
    const digest = 'tag' in ref ? await this.resolveTag(repository, ref.tag) : ref.digest;
    if (!digest || !(await this.hasManifest(repository, digest))) return undefined;
    return this.readManifestBlob(repository, digest);
  }

  async putManifest(repository: string, d: ParsedDigest, bytes: Buffer, mediaType: string, tag?: string): Promise<StoredManifest> {
    const target = this.layout.blobData(d);
    if (!(await exists(target))) await writeFileAtomic(target, bytes, this.layout.tmpDir, { fsync: true });
    const stored: StoredManifest = { digest: d.digest, mediaType, size: bytes.length, bytes };
    if (manifestOwnType(bytes).field === undefined) {
      // Recorded even when it matches the shape, so a later push of the same bytes with another type
      // into this repository is served as pushed.
      await writeFileAtomic(this.layout.manifestTypeFile(repository, d), mediaType, this.layout.tmpDir);
    }
    this.manifests.set(`${repository}\0${d.digest}`, stored);
    if (!(await this.hasManifest(repository, d))) {
      await this.writeLink(this.layout.revisionLink(repository, d), d);
      void this.repositories?.then((set) => set.add(repository), () => undefined);
      this.links.set(`${repository}\0@${d.digest}`, d.digest);
      await this.indexReferrer(repository, stored);
    }
    if (tag !== undefined) {
      // One writer per tag at a time: otherwise two pushes could leave the file on one digest and
      // the cached link on the other, whichever finished its history entry last.
      await this.tagLocks.run(`${repository}\0${tag}`, async () => {
        if ((await this.resolveTag(repository, tag))?.digest === d.digest) return;
        // current first: a crash in between leaves a working tag that only lacks its history entry.
        await this.writeLink(this.layout.tagCurrentLink(repository, tag), d);
        await this.writeLink(this.layout.tagIndexLink(repository, tag, d), d);
        this.links.set(`${repository}\0${tag}`, d.digest);
        this.tagLists.delete(repository);
      });
    }
    return stored;
  }

  async deleteManifest(repository: string, digest: ParsedDigest): Promise<boolean> {
    if (!(await this.hasManifest(repository, digest))) return false;
    const m = await this.readManifestBlob(repository, digest);
    await removeTree(join(this.layout.revisionLink(repository, digest), '..'));
    this.links.delete(`${repository}\0@${digest.digest}`);
    for (const tag of (await this.listTags(repository)) ?? []) {
      const current = await this.resolveTag(repository, tag);
      if (current?.digest === digest.digest) await this.deleteTag(repository, tag);
    }
    if (m) {
      const subject = this.subjectOf(m);
      if (subject) await rm(this.layout.referrerEntry(repository, subject, digest), { force: true });
    }
    return true;
  }

  async deleteTag(repository: string, tag: string): Promise<boolean> {
    this.links.delete(`${repository}\0${tag}`);
    this.tagLists.delete(repository);
    const dir = this.layout.tagDir(repository, tag);
    if (!(await exists(dir))) return false;
    await removeTree(dir);
    return true;
  }

  async listTags(repository: string): Promise<string[] | undefined> {
    const cached = this.tagLists.get(repository);
    if (cached) return [...cached];
    try {
      const entries = await readdir(this.layout.tagsDir(repository), { withFileTypes: true });
      const tags = entries.filter((e) => e.isDirectory()).map((e) => e.name);
      this.tagLists.set(repository, tags);
      return [...tags];
    } catch (e) {
      if (isNotFound(e)) return (await this.repositoryExists(repository)) ? [] : undefined;
      throw e;
    }
  }

  async repositoryExists(repository: string): Promise<boolean> {
    return exists(this.layout.manifestsDir(repository));
  }

  /** Repositories below `repositories/` that hold a `marker` folder (distribution's catalog looks for `_manifests`). */
  private async walkRepositories(marker = '_manifests'): Promise<string[]> {
    const found: string[] = [];
    const walk = async (dir: string, prefix: string): Promise<void> => {
      const entries = await readdirOrEmpty(dir);
      if (prefix && entries.some((e) => e.name === marker && e.isDirectory())) found.push(prefix);
      await Promise.all(entries
        .filter((e) => e.isDirectory() && !e.name.startsWith('_'))
        .map((e) => walk(join(dir, e.name), prefix ? `${prefix}/${e.name}` : e.name)));
    };
    await walk(this.layout.repositoriesDir, '');
    return found;
  }

  async listRepositories(): Promise<string[]> {
    this.repositories ??= this.walkRepositories('_manifests').then((list) => new Set(list));
    try {
      return [...(await this.repositories)];
    } catch (e) {
      this.repositories = undefined;
      throw e;
    }
  }

  // ---- referrers ----

  /**
   * Whether a manifest may name a subject, without parsing it: most do not, and parsing a large
   * manifest a second time after the handler's check would double its cost. Escapes could spell the key.
   */
  private static maySubject(bytes: Buffer): boolean {
    return bytes.includes('"subject"') || bytes.includes('\\u');
  }

  private subjectOf(m: StoredManifest): ParsedDigest | undefined {
    if (!FsStorage.maySubject(m.bytes)) return undefined;
    try {
      return parseManifest(m.bytes, m.mediaType).subject;
    } catch {
      return undefined;
    }
  }

  private async indexReferrer(repository: string, m: StoredManifest): Promise<void> {
    if (!FsStorage.maySubject(m.bytes)) return;
    let parsed;
    try {
      parsed = parseManifest(m.bytes, m.mediaType);
    } catch {
      return;
    }
    if (!parsed.subject) return;
    const self = parseDigest(m.digest);
    if ('problem' in self) return;
    await writeFileAtomic(this.layout.referrerEntry(repository, parsed.subject, self), JSON.stringify(referrerDescriptor(parsed, m.digest, m.size)), this.layout.tmpDir);
  }

  /** Builds the referrers index of a repository whose manifests were written by another registry. */
  private async ensureReferrersIndex(repository: string): Promise<void> {
    const marker = this.layout.referrersComplete(repository);
    if (await exists(marker)) return;
    const revisions = join(this.layout.revisionsDir(repository));
    for (const alg of await readdirOrEmpty(revisions)) {
      for (const entry of await readdirOrEmpty(join(revisions, alg.name))) {
        const d = parseDigest(`${alg.name}:${entry.name}`);
        if ('problem' in d) continue;
        const m = await this.readManifestBlob(repository, d);
        if (m) await this.indexReferrer(repository, m);
      }
    }
    await writeFileAtomic(marker, new Date().toISOString(), this.layout.tmpDir);
  }

  async referrers(repository: string, subject: ParsedDigest): Promise<Descriptor[]> {
    if (!(await this.repositoryExists(repository))) return [];
    await this.ensureReferrersIndex(repository);
    const dir = this.layout.referrersDir(repository, subject);
    const out: Descriptor[] = [];
    for (const entry of await readdirOrEmpty(dir)) {
      const m = /^([a-z0-9]+)-([a-f0-9]+)\.json$/.exec(entry.name);
      if (!m) continue;
      const d = parseDigest(`${m[1]}:${m[2]}`);
      if ('problem' in d || !(await this.hasManifest(repository, d))) continue;
      const text = await readTextOrUndefined(join(dir, entry.name));
      if (!text) continue;
      try {
        out.push(JSON.parse(text) as Descriptor);
      } catch {
        /* a damaged entry is skipped; the index is rebuildable */
      }
    }
    return out.sort((a, b) => (a.digest < b.digest ? -1 : a.digest > b.digest ? 1 : 0));
  }
}
