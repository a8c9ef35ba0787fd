/**
 * The registry's rules over a `StorageDriver`, written once for every backend: blobs are
 * content-addressed files, repositories see them through link files, tags are links to manifest
 * revisions, uploads are files that move into `blobs/` once their digest checks out. The layout is
 * distribution's (layout.ts), so distribution serves what Berth wrote and the other way round.
 *
 * Crash safety: a blob becomes visible only by a move of a committed (durable) upload, and small
 * files (links, manifests) are written whole by `putContent`. A kill at any moment leaves either the
 * old state or the new one, plus at worst an upload that the purge removes later.
 *
 * On a driver that other processes write too (`driver.shared`), nothing that can change is cached:
 * tags, links and listings are read from the driver on every request, and an upload's running hash
 * is used only while its size proves no other process appended to it.
 */
import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import { Digester, parseDigest, type DigestAlgorithm, type ParsedDigest } from '../../oci/digest';
import { CostLru } from '../../oci/costLru';
import type { Descriptor } from '../../oci/types';
import { Layout, parseLink } from '../layout';
import { referrerDescriptor, referrerFacts, type ParsedManifest, type ReferrerFacts } from '../manifest';
import { inlineManifestParser, type ManifestParser } from '../manifestParser';
import { baseName, isPathNotFound, listNames, orUndefined, type FileWriter, type StorageDriver } from './driver';
import { DigestMismatchError, UploadOffsetError, UploadUnknownError } from './errors';
import type { BlobInfo, ByteRange, ManifestRef, Storage, StoredManifest, UploadStatus } from './types';

/** Runs one task at a time per key (upload sessions, tags), without blocking other keys. */
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

export interface LinkStorageOptions {
  /** Bytes of manifests kept in memory (content-addressed, so safe on a shared driver too). */
  manifestCacheBytes?: number;
  /** Parses stored manifests (their type, their subject); default: on the event loop. */
  manifestParser?: ManifestParser;
}

/** What a cached manifest costs besides its bytes (its digest, type and the map entry). */
const MANIFEST_ENTRY_OVERHEAD_BYTES = 200;

/** A mount without `from` looks in at most this many repositories before answering with an upload instead. */
const MAX_MOUNT_SOURCES_CHECKED = 1000;

/**
 * The body may fail (a size limit upstream) while the upload is being opened, before the write's
 * pipeline listens: keep that from being an unhandled 'error'. The pipeline still sees the stream errored.
 */
function holdEarlyErrors(body: Readable | undefined): void {
  body?.on('error', () => undefined);
}

/** distribution's `startedat`: RFC 3339 without fractions. */
function startedAtText(date: Date): string {
  return date.toISOString().replace(/\.\d+Z$/, 'Z');
}

export class LinkStorage implements Storage {
  /** Driver paths of distribution's layout. */
  readonly layout = new Layout('/');
  private readonly shared: boolean;
  /** The running hash of each upload this process has written, valid while its size matches the file. */
  private readonly digesters = new Map<string, Digester>();
  /**
   * The owner of each upload this process started (undefined: anonymous). The owner file is written
   * once, before the upload's id is known to anyone, so on a driver only this process writes it is
   * not read again on every chunk.
   */
  private readonly owners = new Map<string, string | undefined>();
  private readonly uploadLocks = new KeyedMutex();
  private readonly tagLocks = new KeyedMutex();
  private readonly manifests: CostLru<StoredManifest>;
  /** `repo\0tag` → manifest digest, and `repo\0@digest` → revision known to exist. */
  private readonly links: CostLru<string>;
  /** The catalog, walked once; repositories only appear (a first manifest), they are never removed. */
  private repositories: Promise<Set<string>> | undefined;
  /** Tags per repository, dropped whenever a tag of the repository is written or removed. */
  private readonly tagLists: CostLru<string[]>;
  private readonly parser: ManifestParser;

  constructor(readonly driver: StorageDriver, opts: LinkStorageOptions = {}) {
    this.shared = driver.shared;
    this.parser = opts.manifestParser ?? inlineManifestParser;
    this.manifests = new CostLru<StoredManifest>(opts.manifestCacheBytes ?? 32 * 1024 * 1024);
    this.links = new CostLru<string>(this.shared ? 0 : 50_000);
    this.tagLists = new CostLru<string[]>(this.shared ? 0 : 200_000);
  }

  /** Prepares the driver; the referrers index is rebuilt on demand where another registry may have written. */
  async init(): Promise<void> {
    await this.driver.init();
    // Another registry may have served this root since we last did. On a shared bucket every Berth
    // keeps the index current, and distribution's writes are caught by the rebuild marker's absence.
    if (!this.shared) await orUndefined(this.driver.delete(`${this.layout.berth}/referrers`));
  }

  private async exists(path: string): Promise<boolean> {
    return (await orUndefined(this.driver.stat(path))) !== undefined;
  }

  private async readText(path: string): Promise<string | undefined> {
    return (await orUndefined(this.driver.getContent(path)))?.toString('utf8');
  }

  private writeLink(path: string, d: ParsedDigest): Promise<void> {
    return this.driver.putContent(path, d.digest);
  }

  /** Removes a file or folder; false when it was not there. */
  private async remove(path: string): Promise<boolean> {
    try {
      await this.driver.delete(path);
      return true;
    } catch (e) {
      if (isPathNotFound(e)) return false;
      throw e;
    }
  }

  // ---- blobs ----

  private async blobSize(digest: ParsedDigest): Promise<number | undefined> {
    const st = await orUndefined(this.driver.stat(this.layout.blobData(digest)));
    return st && !st.isDir ? st.size : undefined;
  }

  async statBlob(repository: string, digest: ParsedDigest): Promise<BlobInfo | undefined> {
    const linked = (await this.exists(this.layout.layerLink(repository, digest))) || (await this.hasManifest(repository, digest));
    if (!linked) return undefined;
    const size = await this.blobSize(digest);
    return size === undefined ? undefined : { digest: digest.digest, size };
  }

  readBlob(digest: ParsedDigest, range?: ByteRange): Promise<Readable> {
    return this.driver.reader(this.layout.blobData(digest), range?.start ?? 0, range?.end ?? Infinity);
  }

  async blobRedirectURL(digest: ParsedDigest, method: 'GET' | 'HEAD'): Promise<string | undefined> {
    return this.driver.redirectURL?.(this.layout.blobData(digest), method);
  }

  async deleteBlob(repository: string, digest: ParsedDigest): Promise<boolean> {
    const link = this.layout.layerLink(repository, digest);
    if (!(await this.exists(link))) return false;
    return this.remove(link.slice(0, link.lastIndexOf('/')));
  }

  async mountBlob(repository: string, digest: ParsedDigest, from?: string, mayPull?: (source: string) => Promise<boolean>): Promise<BlobInfo | undefined> {
    const size = from !== undefined
      ? (await this.statBlob(from, digest))?.size
      : mayPull ? await this.sizeInPullableRepository(digest, mayPull) : await this.blobSize(digest);
    if (size === undefined) return undefined;
    await this.writeLink(this.layout.layerLink(repository, digest), digest);
    return { digest: digest.digest, size };
  }

  /** The blob's size when a repository the caller may pull links it; the search stops after a bounded number of looks. */
  private async sizeInPullableRepository(digest: ParsedDigest, mayPull: (source: string) => Promise<boolean>): Promise<number | undefined> {
    if ((await this.blobSize(digest)) === undefined) return undefined;
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
    // Distribution's own files, so either registry can purge the other's abandoned uploads.
    await this.driver.putContent(this.layout.uploadStartedAt(repository, id), startedAtText(new Date()));
    // Stored, not remembered: the binding to its user survives a restart and holds in every process.
    if (owner !== undefined) await this.driver.putContent(this.layout.uploadOwner(repository, id), owner);
    await (await this.driver.writer(this.layout.uploadData(repository, id), false)).close();
    const key = this.uploadKey(repository, id);
    this.digesters.set(key, new Digester('sha256'));
    if (!this.shared) this.owners.set(key, owner);
    return { id, repository, offset: 0, ...(owner !== undefined ? { owner } : {}) };
  }

  /**
   * Opens an upload's data to append to it; `UploadUnknownError` when there is no such upload. When it
   * cannot be opened, the request body is drained, so the client reads the answer instead of a reset.
   */
  private async openUpload(repository: string, id: string, body?: Readable): Promise<FileWriter> {
    try {
      return await this.driver.writer(this.layout.uploadData(repository, id), true);
    } catch (e) {
      body?.resume();
      if (isPathNotFound(e)) throw new UploadUnknownError(id);
      throw e;
    }
  }

  /** The running hash of an upload, if it covers exactly the bytes the file holds. */
  private digesterFor(key: string, size: number): Digester | undefined {
    const d = this.digesters.get(key);
    if (d && d.size === size) return d;
    // Another process appended, or a chunk failed midway: the file is hashed again at the end.
    this.digesters.delete(key);
    return undefined;
  }

  async uploadStatus(repository: string, id: string): Promise<UploadStatus | undefined> {
    return this.uploadLocks.run(this.uploadKey(repository, id), async () => {
      const activity = await uploadActivity(this.driver, this.layout, repository, id);
      if (!activity) return undefined;
      const owner = await this.uploadOwner(repository, id);
      return { id, repository, offset: activity.size, lastWriteMs: activity.lastWriteMs, ...(owner !== undefined ? { owner } : {}) };
    });
  }

  async uploadOwner(repository: string, id: string): Promise<string | undefined> {
    const key = this.uploadKey(repository, id);
    if (this.owners.has(key)) return this.owners.get(key);
    return this.readText(this.layout.uploadOwner(repository, id));
  }

  /** Forgets what is kept in memory for an upload that is finished or removed. */
  private forgetUpload(key: string): void {
    this.digesters.delete(key);
    this.owners.delete(key);
  }

  async listUploads(): Promise<{ repository: string; id: string }[]> {
    const out: { repository: string; id: string }[] = [];
    for (const repository of await this.walkRepositories('_uploads')) {
      for (const id of await listNames(this.driver, this.layout.uploadsDir(repository))) out.push({ repository, id });
    }
    return out;
  }

  private async appendTo(key: string, writer: FileWriter, id: string, body: Readable, start: number | undefined, digester: Digester | undefined): Promise<void> {
    if (start !== undefined && start !== writer.size) {
      body.resume();
      throw new UploadOffsetError(id, start, writer.size);
    }
    try {
      await writer.write(body, digester ? (chunk) => digester.update(chunk) : undefined);
    } catch (e) {
      // Part of the chunk may be stored: trust the file, and hash it again at the end.
      this.digesters.delete(key);
      throw e;
    }
  }

  async appendUpload(repository: string, id: string, body: Readable, start?: number): Promise<UploadStatus> {
    const key = this.uploadKey(repository, id);
    holdEarlyErrors(body);
    return this.uploadLocks.run(key, async () => {
      const writer = await this.openUpload(repository, id, body);
      try {
        await this.appendTo(key, writer, id, body, start, this.digesterFor(key, writer.size));
      } finally {
        await writer.close();
      }
      return { id, repository, offset: writer.size };
    });
  }

  private async hashUpload(repository: string, id: string, algorithm: DigestAlgorithm): Promise<string> {
    const d = new Digester(algorithm);
    for await (const chunk of await this.driver.reader(this.layout.uploadData(repository, id))) d.update(chunk as Buffer);
    return d.digest();
  }

  async finishUpload(repository: string, id: string, digest: ParsedDigest, body?: Readable, start?: number): Promise<BlobInfo> {
    const key = this.uploadKey(repository, id);
    holdEarlyErrors(body);
    return this.uploadLocks.run(key, async () => {
      const writer = await this.openUpload(repository, id, body);
      let digester = this.digesterFor(key, writer.size);
      try {
        // A monolithic upload (all bytes in this request) is hashed while streaming in the digest's own
        // algorithm; chunked uploads run sha256 and hash the file again only for another algorithm.
        if (body && writer.size === 0 && digester?.algorithm !== digest.algorithm) digester = new Digester(digest.algorithm);
        if (body) await this.appendTo(key, writer, id, body, start, digester);
      } catch (e) {
        await writer.close().catch(() => undefined);
        throw e;
      }
      try {
        await writer.commit();
      } catch (e) {
        // The store refused to make the bytes durable (a failed fsync, a failed multipart completion):
        // what it holds is in doubt, and the kernel reports a failed writeback only once, so a retried
        // commit would succeed over lost bytes that the running hash still vouches for. Drop the
        // session: the client gets the error and pushes the blob again from the start.
        this.forgetUpload(key);
        await writer.cancel().catch(() => undefined);
        await this.remove(this.layout.uploadDir(repository, id)).catch(() => undefined);
        throw e;
      }
      // The running hash is spent; should anything below fail, a retry hashes the file again.
      this.digesters.delete(key);
      const size = writer.size;
      const actual = digester && digester.algorithm === digest.algorithm && digester.size === size
        ? digester.digest()
        : await this.hashUpload(repository, id, digest.algorithm as DigestAlgorithm);
      if (actual !== digest.digest) {
        this.owners.delete(key);
        await this.remove(this.layout.uploadDir(repository, id));
        throw new DigestMismatchError(digest.digest, actual);
      }
      if ((await this.blobSize(digest)) === undefined) await this.driver.move(this.layout.uploadData(repository, id), this.layout.blobData(digest));
      await this.writeLink(this.layout.layerLink(repository, digest), digest);
      this.owners.delete(key);
      await this.remove(this.layout.uploadDir(repository, id));
      return { digest: digest.digest, size };
    });
  }

  async cancelUpload(repository: string, id: string): Promise<boolean> {
    const key = this.uploadKey(repository, id);
    return this.uploadLocks.run(key, async () => {
      this.forgetUpload(key);
      return this.remove(this.layout.uploadDir(repository, id));
    });
  }

  async purgeUploads(maxAgeMs: number): Promise<number> {
    let purged = 0;
    const cutoff = Date.now() - maxAgeMs;
    for (const { repository, id } of await this.listUploads()) {
      const key = this.uploadKey(repository, id);
      if (this.uploadLocks.isBusy(key)) continue;
      const dir = this.layout.uploadDir(repository, id);
      const startedText = await this.readText(this.layout.uploadStartedAt(repository, id));
      const started = startedText ? Date.parse(startedText.trim()) : NaN;
      const when = Number.isNaN(started) ? (await orUndefined(this.driver.stat(dir)))?.modTimeMs ?? 0 : started;
      if (when < cutoff) {
        this.forgetUpload(key);
        if (await this.remove(dir)) purged++;
      }
    }
    return purged;
  }

  // ---- manifests ----

  async hasManifest(repository: string, digest: ParsedDigest): Promise<boolean> {
    const key = `${repository}\0@${digest.digest}`;
    if (this.links.get(key)) return true;
    const found = await this.exists(this.layout.revisionLink(repository, digest));
    if (found) this.links.set(key, digest.digest, 1);
    return found;
  }

  private async resolveTag(repository: string, tag: string): Promise<ParsedDigest | undefined> {
    const key = `${repository}\0${tag}`;
    const cached = this.links.get(key);
    if (cached) return parseLink(cached);
    const text = await this.readText(this.layout.tagCurrentLink(repository, tag));
    const d = text === undefined ? undefined : parseLink(text);
    if (d) this.links.set(key, d.digest, 1);
    return d;
  }

  /** A repository's manifest; its served type may differ between repositories (see `manifestTypeFile`). */
  private async readManifestBlob(repository: string, digest: ParsedDigest): Promise<StoredManifest | undefined> {
    const key = `${repository}\0${digest.digest}`;
    const cached = this.manifests.get(key);
    if (cached) return cached;
    const bytes = await orUndefined(this.driver.getContent(this.layout.blobData(digest)));
    if (!bytes) return undefined;
    const own = await this.parser.ownType(bytes);
    const mediaType = own.field ?? (await this.recordedManifestType(repository, digest)) ?? own.shape;
    const m: StoredManifest = { digest: digest.digest, mediaType, size: bytes.length, bytes };
    this.cacheManifest(repository, m, own.field !== undefined);
    return m;
  }

  /**
   * The bytes never change, but the type of a manifest without a `mediaType` field is a file another
   * process may rewrite (a push of the same bytes with another type): on a shared driver such a
   * manifest is read afresh.
   */
  private cacheManifest(repository: string, m: StoredManifest, typeInBytes: boolean): void {
    if (typeInBytes || !this.shared) this.manifests.set(`${repository}\0${m.digest}`, m, m.size + MANIFEST_ENTRY_OVERHEAD_BYTES);
  }

  private async recordedManifestType(repository: string, digest: ParsedDigest): Promise<string | undefined> {
    const own = await this.readText(this.layout.manifestTypeFile(repository, digest));
    // Roots written before types were kept per repository have one record per digest.
    return (own ?? (await this.readText(this.layout.legacyManifestTypeFile(digest))))?.trim();
  }

  async getManifest(repository: string, ref: ManifestRef): Promise<StoredManifest | undefined> {
    const digest = 'tag' in ref ? await this.resolveTag(repository, ref.tag) : ref.digest;
    if (!digest || !(await this.hasManifest(repository, digest))) return undefined;
    return this.readManifestBlob(repository, digest);
  }

  async putManifest(repository: string, d: ParsedDigest, bytes: Buffer, mediaType: string, tag?: string, parsed?: ParsedManifest): Promise<StoredManifest> {
    if ((await this.blobSize(d)) === undefined) await this.driver.putContent(this.layout.blobData(d), bytes, { durable: true });
    const stored: StoredManifest = { digest: d.digest, mediaType, size: bytes.length, bytes };
    const typeInBytes = (parsed ? parsed.typeField : (await this.parser.ownType(bytes)).field) !== undefined;
    if (!typeInBytes) {
      // Recorded even when it matches the shape, so a later push of the same bytes with another type
      // into this repository is served as pushed.
      await this.driver.putContent(this.layout.manifestTypeFile(repository, d), mediaType);
    }
    this.cacheManifest(repository, stored, typeInBytes);
    if (!(await this.hasManifest(repository, d))) {
      await this.writeLink(this.layout.revisionLink(repository, d), d);
      void this.repositories?.then((set) => set.add(repository), () => undefined);
      this.links.set(`${repository}\0@${d.digest}`, d.digest, 1);
      await this.indexReferrer(repository, stored, parsed && { facts: parsed.subject ? referrerFacts(parsed, parsed.subject) : undefined });
    }
    if (tag !== undefined) {
      // One writer per tag at a time: otherwise two pushes could leave the file on one digest and
      // the cached link on the other, whichever finished its history entry last.
      await this.tagLocks.run(`${repository}\0${tag}`, async () => {
        if ((await this.resolveTag(repository, tag))?.digest === d.digest) return;
        // current first: a crash in between leaves a working tag that only lacks its history entry.
        await this.writeLink(this.layout.tagCurrentLink(repository, tag), d);
        await this.writeLink(this.layout.tagIndexLink(repository, tag, d), d);
        this.links.set(`${repository}\0${tag}`, d.digest, 1);
        this.tagLists.delete(repository);
      });
    }
    return stored;
  }

  async deleteManifest(repository: string, digest: ParsedDigest): Promise<boolean> {
    if (!(await this.hasManifest(repository, digest))) return false;
    const m = await this.readManifestBlob(repository, digest);
    const link = this.layout.revisionLink(repository, digest);
    await this.remove(link.slice(0, link.lastIndexOf('/')));
    this.links.delete(`${repository}\0@${digest.digest}`);
    for (const tag of (await this.listTags(repository)) ?? []) {
      const current = await this.resolveTag(repository, tag);
      if (current?.digest === digest.digest) await this.deleteTag(repository, tag);
    }
    if (m) {
      const subject = await this.subjectOf(m);
      if (subject) await this.remove(this.layout.referrerEntry(repository, subject, digest));
    }
    return true;
  }

  async deleteTag(repository: string, tag: string): Promise<boolean> {
    this.links.delete(`${repository}\0${tag}`);
    this.tagLists.delete(repository);
    return this.remove(this.layout.tagDir(repository, tag));
  }

  async listTags(repository: string): Promise<string[] | undefined> {
    const cached = this.tagLists.get(repository);
    if (cached) return [...cached];
    const children = await orUndefined(this.driver.list(this.layout.tagsDir(repository)));
    if (!children) return (await this.repositoryExists(repository)) ? [] : undefined;
    const tags = children.map(baseName);
    this.tagLists.set(repository, tags, tags.length + 1);
    return [...tags];
  }

  async repositoryExists(repository: string): Promise<boolean> {
    return this.exists(this.layout.manifestsDir(repository));
  }

  /** Repositories below `repositories/` that hold a `marker` folder (distribution's catalog looks for `_manifests`). */
  walkRepositories(marker = '_manifests'): Promise<string[]> {
    return walkRepositories(this.driver, this.layout, marker);
  }

  async listRepositories(): Promise<string[]> {
    if (this.shared) return this.walkRepositories('_manifests');
    this.repositories ??= this.walkRepositories('_manifests').then((list) => new Set(list));
    try {
      return [...(await this.repositories)];
    } catch (e) {
      this.repositories = undefined;
      throw e;
    }
  }

  // ---- referrers ----

  private async subjectOf(m: StoredManifest): Promise<ParsedDigest | undefined> {
    return (await this.parser.referrer(m.bytes, m.mediaType))?.subject;
  }

  /** `known`: the referrer facts the caller already read (none when the manifest names no subject); else the parser reads them. */
  private async indexReferrer(repository: string, m: StoredManifest, known?: { facts: ReferrerFacts | undefined }): Promise<void> {
    const referrer = known ? known.facts : await this.parser.referrer(m.bytes, m.mediaType);
    if (!referrer) return;
    const self = parseDigest(m.digest);
    if ('problem' in self) return;
    await this.driver.putContent(this.layout.referrerEntry(repository, referrer.subject, self), JSON.stringify(referrerDescriptor(referrer, m.digest, m.size)));
  }

  /** Builds the referrers index of a repository whose manifests were written by another registry. */
  private async ensureReferrersIndex(repository: string): Promise<void> {
    const marker = this.layout.referrersComplete(repository);
    if (await this.exists(marker)) return;
    const revisions = this.layout.revisionsDir(repository);
    for (const alg of await listNames(this.driver, revisions)) {
      for (const hex of await listNames(this.driver, `${revisions}/${alg}`)) {
        const d = parseDigest(`${alg}:${hex}`);
        if ('problem' in d) continue;
        const m = await this.readManifestBlob(repository, d);
        if (m) await this.indexReferrer(repository, m);
      }
    }
    await this.driver.putContent(marker, new Date().toISOString());
  }

  async referrers(repository: string, subject: ParsedDigest): Promise<Descriptor[]> {
    if (!(await this.repositoryExists(repository))) return [];
    await this.ensureReferrersIndex(repository);
    const dir = this.layout.referrersDir(repository, subject);
    const out: Descriptor[] = [];
    for (const name of await listNames(this.driver, dir)) {
      const m = /^([a-z0-9]+)-([a-f0-9]+)\.json$/.exec(name);
      if (!m) continue;
      const d = parseDigest(`${m[1]}:${m[2]}`);
      if ('problem' in d || !(await this.hasManifest(repository, d))) continue;
      const text = await this.readText(`${dir}/${name}`);
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

/**
 * An upload's bytes so far and when any process last stored some (on S3 an unfinished upload is
 * multipart parts, not an object, so a `stat` would not see it); undefined when it has no data.
 */
export async function uploadActivity(driver: StorageDriver, layout: Layout, repository: string, id: string): Promise<{ size: number; lastWriteMs: number } | undefined> {
  const writer = await orUndefined(driver.writer(layout.uploadData(repository, id), true));
  if (!writer) return undefined;
  await writer.close();
  return { size: writer.size, lastWriteMs: writer.modTimeMs };
}

/** Repositories below `repositories/` holding a `marker` folder; nested names are walked in parallel. */
export async function walkRepositories(driver: StorageDriver, layout: Layout, marker = '_manifests'): Promise<string[]> {
  const found: string[] = [];
  const walk = async (dir: string, prefix: string): Promise<void> => {
    const names = await listNames(driver, dir);
    if (prefix && names.includes(marker)) found.push(prefix);
    // A repository component never starts with `_`; files (a stray `link`) have no children and end the walk.
    await Promise.all(names
      .filter((n) => !n.startsWith('_'))
      .map((n) => walk(`${dir}/${n}`, prefix ? `${prefix}/${n}` : n)));
  };
  await walk(layout.repositoriesDir, '');
  return found;
}
