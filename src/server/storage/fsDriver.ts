/**
 * The filesystem driver: distribution's `filesystem` layout under a root folder. Small files are
 * written to `<root>/.berth/tmp` and renamed into place, so a crash never shows a partial file;
 * writers append to the file itself and `commit` fsyncs it.
 *
 * `fsync: false` (`storage.filesystem.fsync`) skips the fsync of durable writes (blobs, before their
 * rename into place). The rename still makes a file appear whole or not at all to every process, so
 * a kill -9 of the registry loses nothing it acknowledged (the kernel holds the written pages); only
 * an OS crash or power cut can then leave an acknowledged blob short or empty under its digest.
 */
import { mkdir, open, readFile, readdir, rm, stat, type FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Readable, Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { appendingStream, isNotFound, removeTree, renameMakingDir, writeFileAtomic } from '../fsutil';
import type { SelfSending } from './blobStream';
import { PathNotFoundError, type FileInfo, type FileWriter, type StorageDriver } from './driver';

// Fewer, larger reads: about a fifth less server CPU per pull than 512 KiB, a few MiB per pull in flight.
const READ_CHUNK_BYTES = 2 * 1024 * 1024;
const READS_IN_FLIGHT = 2;
const MAX_FREE_READ_BUFFERS = 8;
/** Read buffers no write references any more, kept for the next pull. */
const freeReadBuffers: Buffer[] = [];
const WRITE_BUFFER_BYTES = 2 * 1024 * 1024;
/** Open upload files kept between requests; beyond this the least recently parked are closed. */
const MAX_PARKED_WRITERS = 64;
/** Unsynced bytes of an upload after which a background fdatasync starts (fsync on only). */
const WRITEBACK_BYTES = 8 * 1024 * 1024;

/**
 * Background fdatasync of an upload file while its bytes still arrive, so that the fsync at commit
 * finds little left to write: for a 64 MiB blob that fsync took most of the final PUT. At most one
 * runs per process (`slot`), so they hold one thread-pool thread, never all of them. A failure is
 * kept and thrown at commit: the kernel reports a writeback error to a file only once, so the fsync
 * after it would succeed over lost bytes.
 */
export class Writeback {
  private inFlight: Promise<void> | undefined;
  private failure: unknown;
  private unsynced = 0;

  constructor(private readonly fh: Pick<FileHandle, 'datasync' | 'close'>, private readonly slot: WritebackSlot) {}

  wrote(bytes: number): void {
    this.unsynced += bytes;
    if (this.unsynced < WRITEBACK_BYTES || this.inFlight || this.slot.busy) return;
    this.unsynced = 0;
    this.slot.busy = true;
    this.slot.started++;
    this.inFlight = this.fh.datasync().then(() => undefined, (e: unknown) => { this.failure ??= e; }).finally(() => {
      this.inFlight = undefined;
      this.slot.busy = false;
    });
  }

  /** Waits for the sync in flight, if any; throws what a background sync met. */
  async settle(): Promise<void> {
    await this.inFlight;
    if (this.failure !== undefined) throw this.failure;
  }

  /** Closes the file once no sync uses it. */
  async close(): Promise<void> {
    await this.inFlight;
    await this.fh.close();
  }
}

/** The process's one background sync, and how many were started (for `/metrics`). */
export interface WritebackSlot {
  busy: boolean;
  started: number;
}

interface ParkedWriter {
  fh: FileHandle;
  size: number;
  modTimeMs: number;
  writeback: Writeback;
}

const CLIENT_GONE = 'the client closed the connection during the download';

/** A byte range of an open file, readable as a stream or sent with reused buffers. */
class FileRangeStream extends Readable implements SelfSending {
  private pos: number;

  constructor(private readonly fh: FileHandle, start: number, private readonly end: number) {
    super({ highWaterMark: READ_CHUNK_BYTES });
    this.pos = start;
  }

  override _read(): void {
    const want = Math.min(READ_CHUNK_BYTES, this.end - this.pos + 1);
    if (want <= 0) {
      this.push(null);
      return;
    }
    const buf = Buffer.allocUnsafe(want);
    this.fh.read(buf, 0, want, this.pos).then(({ bytesRead }) => {
      this.pos += bytesRead;
      this.push(bytesRead === 0 ? null : buf.subarray(0, bytesRead));
    }, (e: Error) => this.destroy(e));
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    this.fh.close().then(() => cb(err), () => cb(err));
  }

  /**
   * Copies through a few reused buffers: a buffer is read into again only once the write holding
   * it has completed (its callback), so no byte is sent twice or changed in flight. Fresh 2 MiB
   * buffers per read cost page faults and garbage collection: about a third of a pull's server CPU.
   */
  async sendTo(out: Writable): Promise<void> {
    let inFlight = 0;
    let failure: Error | undefined;
    let wake: (() => void) | undefined;
    const wakeUp = (): void => {
      const w = wake;
      wake = undefined;
      w?.();
    };
    const onClose = (): void => {
      if (!out.writableFinished) failure ??= new Error(CLIENT_GONE);
      wakeUp();
    };
    out.on('close', onClose);
    try {
      while (this.pos <= this.end) {
        while (inFlight >= READS_IN_FLIGHT && !failure) await new Promise<void>((resolve) => (wake = resolve));
        if (failure) throw failure;
        const buf = freeReadBuffers.pop() ?? Buffer.allocUnsafeSlow(READ_CHUNK_BYTES);
        const { bytesRead } = await this.fh.read(buf, 0, Math.min(buf.length, this.end - this.pos + 1), this.pos);
        if (bytesRead === 0) {
          if (this.end === Infinity) break;
          throw new Error('the blob file is shorter than its recorded size');
        }
        if (failure) throw failure;
        this.pos += bytesRead;
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
        out.once('close', () => (out.writableFinished ? resolve() : reject(failure ?? new Error(CLIENT_GONE))));
        out.end();
      });
    } catch (e) {
      out.destroy(e as Error);
      throw e;
    } finally {
      out.off('close', onClose);
      this.destroy();
    }
  }
}

class FsFileWriter implements FileWriter {
  private done = false;
  /** A failed write may leave a positioned write in flight: such a handle is closed, never parked. */
  private broken = false;
  private wroteMs: number | undefined;
  private readonly writeback: Writeback;

  constructor(private readonly fh: FileHandle, private readonly file: string, public size: number, readonly modTimeMs: number,
    private readonly driver: FsDriver, writeback?: Writeback) {
    this.writeback = writeback ?? driver.writebackFor(fh);
  }

  async write(body: Readable, onChunk?: (chunk: Buffer) => void): Promise<void> {
    const meter = new Transform({
      transform: (chunk: Buffer, _enc, cb) => {
        onChunk?.(chunk);
        cb(null, chunk);
      },
    });
    try {
      await pipeline(body, meter, this.sink());
    } catch (e) {
      this.broken = true;
      throw e;
    } finally {
      this.wroteMs = Date.now();
    }
  }

  /** Appends at the end of the file; a deeper buffer lets the socket and the hash run while a disk write is pending. */
  private sink(): Writable {
    return appendingStream(this.fh, this.size, WRITE_BUFFER_BYTES, (bytes) => {
      this.size += bytes;
      if (this.driver.fsync) this.writeback.wrote(bytes);
    });
  }

  private async finish(sync: boolean): Promise<void> {
    if (this.done) return;
    this.done = true;
    try {
      if (sync) {
        await this.writeback.settle();
        await this.fh.sync();
      }
    } finally {
      await this.writeback.close();
    }
  }

  commit(): Promise<void> {
    return this.finish(this.driver.takeFsync());
  }

  async close(): Promise<void> {
    if (this.done) return;
    if (this.broken) return this.finish(false);
    this.done = true;
    await this.driver.park(this.file, { fh: this.fh, size: this.size, modTimeMs: this.wroteMs ?? this.modTimeMs, writeback: this.writeback });
  }

  async cancel(): Promise<void> {
    await this.finish(false);
    await rm(this.file, { force: true });
  }
}

export interface FsDriverOptions {
  /** fsync durable writes (blobs) before they are renamed into place and acknowledged (default true). */
  fsync?: boolean;
}

export class FsDriver implements StorageDriver {
  readonly name = 'filesystem';
  // The root lock (lock.ts) keeps every other process out.
  readonly shared = false;
  readonly tmpDir: string;
  readonly fsync: boolean;
  private fsyncCount = 0;
  /** Background syncs in flight (at most one): see Writeback. */
  private readonly writebackSlot: WritebackSlot = { busy: false, started: 0 };
  /** Closed writers' open files by full file path, oldest first. */
  private readonly parked = new Map<string, ParkedWriter>();

  constructor(readonly root: string, opts: FsDriverOptions = {}) {
    this.tmpDir = join(root, '.berth', 'tmp');
    this.fsync = opts.fsync ?? true;
  }

  /** Files fsynced since start: `/metrics` shows it, so the setting can be seen at work. */
  get fsyncs(): number {
    return this.fsyncCount;
  }

  /** Background fdatasyncs of upload files since start (none with fsync off). */
  get writebackSyncs(): number {
    return this.writebackSlot.started;
  }

  /** Whether a durable write is to be fsynced; counts the ones that are. */
  takeFsync(): boolean {
    if (this.fsync) this.fsyncCount++;
    return this.fsync;
  }

  writebackFor(fh: FileHandle): Writeback {
    return new Writeback(fh, this.writebackSlot);
  }

  /** Keeps a closed writer's file open for the next append to it. */
  async park(file: string, w: ParkedWriter): Promise<void> {
    const old = this.parked.get(file);
    this.parked.delete(file);
    this.parked.set(file, w);
    if (old) await old.writeback.close();
    for (const [oldest, p] of this.parked) {
      if (this.parked.size <= MAX_PARKED_WRITERS) break;
      this.parked.delete(oldest);
      await p.writeback.close();
    }
  }

  /** Closes the files parked at `file` or below it, before it is replaced, moved or removed. */
  private async unpark(file: string): Promise<void> {
    const below = `${file}/`;
    for (const [path, p] of [...this.parked]) {
      if (path !== file && !path.startsWith(below)) continue;
      this.parked.delete(path);
      await p.writeback.close();
    }
  }

  /** Files parked open right now (for tests). */
  get parkedWriters(): number {
    return this.parked.size;
  }

  async close(): Promise<void> {
    const all = [...this.parked.values()];
    this.parked.clear();
    await Promise.all(all.map((p) => p.writeback.close()));
  }

  get description(): string {
    return this.root;
  }

  /** The file a driver path names. Driver paths are validated by the layer above (layout.ts). */
  fullPath(path: string): string {
    return join(this.root, ...path.split('/'));
  }

  private notFound(e: unknown, path: string): unknown {
    return isNotFound(e) ? new PathNotFoundError(path, this.name) : e;
  }

  async init(): Promise<void> {
    // The folder's contents, not the folder: recreating it would need a free block, and the
    // registry must start on a full disk to serve pulls.
    for (const name of await readdir(this.tmpDir).catch(() => [])) await removeTree(join(this.tmpDir, name));
    await mkdir(this.tmpDir, { recursive: true });
  }

  async getContent(path: string): Promise<Buffer> {
    try {
      return await readFile(this.fullPath(path));
    } catch (e) {
      throw this.notFound(e, path);
    }
  }

  async putContent(path: string, content: string | Uint8Array, opts: { durable?: boolean } = {}): Promise<void> {
    await this.unpark(this.fullPath(path));
    return writeFileAtomic(this.fullPath(path), content, this.tmpDir, { fsync: (opts.durable ?? false) && this.takeFsync() });
  }

  async reader(path: string, offset = 0, end = Infinity): Promise<Readable> {
    let fh: FileHandle;
    try {
      fh = await open(this.fullPath(path), 'r');
    } catch (e) {
      throw this.notFound(e, path);
    }
    return new FileRangeStream(fh, offset, end);
  }

  async writer(path: string, append: boolean): Promise<FileWriter> {
    const file = this.fullPath(path);
    const parked = this.parked.get(file);
    if (parked && append) {
      this.parked.delete(file);
      return new FsFileWriter(parked.fh, file, parked.size, parked.modTimeMs, this, parked.writeback);
    }
    await this.unpark(file);
    let fh: FileHandle;
    if (append) {
      // r+ rather than a: appending to a file that is not there is an unknown upload, not a new one.
      try {
        fh = await open(file, 'r+');
      } catch (e) {
        throw this.notFound(e, path);
      }
    } else {
      try {
        fh = await open(file, 'w');
      } catch (e) {
        if (!isNotFound(e)) throw e;
        await mkdir(dirname(file), { recursive: true });
        fh = await open(file, 'w');
      }
    }
    try {
      if (!append) return new FsFileWriter(fh, file, 0, Date.now(), this);
      const st = await fh.stat();
      return new FsFileWriter(fh, file, st.size, st.mtimeMs, this);
    } catch (e) {
      await fh.close();
      throw e;
    }
  }

  async stat(path: string): Promise<FileInfo> {
    try {
      const st = await stat(this.fullPath(path));
      return { path, size: st.isFile() ? st.size : 0, modTimeMs: st.mtimeMs, isDir: st.isDirectory() };
    } catch (e) {
      throw this.notFound(e, path);
    }
  }

  async list(path: string): Promise<string[]> {
    try {
      const prefix = path.endsWith('/') ? path : `${path}/`;
      return (await readdir(this.fullPath(path))).map((name) => prefix + name);
    } catch (e) {
      throw this.notFound(e, path);
    }
  }

  async move(source: string, dest: string): Promise<void> {
    await this.unpark(this.fullPath(source));
    await this.unpark(this.fullPath(dest));
    try {
      await renameMakingDir(this.fullPath(source), this.fullPath(dest));
    } catch (e) {
      throw this.notFound(e, source);
    }
  }

  async delete(path: string): Promise<void> {
    await this.stat(path);
    await this.unpark(this.fullPath(path));
    await removeTree(this.fullPath(path));
  }
}
