/**
 * Reading a layer as it streams from the registry: sniff the compression (gzip through Node's zlib,
 * zstd where the runtime's zlib has it, plain tar), walk the tar entries one at a time, never
 * holding more than the entry being read. tar-stream does the archive format (ustar, pax, GNU long
 * names), which is where hand-written readers go wrong.
 */
import { createHash } from 'node:crypto';
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import * as zlib from 'node:zlib';
import { extract, type Header } from 'tar-stream';
import { Digester, parseDigest } from '../oci/digest';

export type EntryType = 'file' | 'directory' | 'symlink' | 'hardlink' | 'char-device' | 'block-device' | 'fifo';

export interface LayerEntry {
  /** Normalised: no leading `/` or `./`, no trailing `/`; the root is ``. */
  path: string;
  type: EntryType;
  /** Bytes of content (regular files; 0 otherwise). */
  size: number;
  /** Permission bits, e.g. 0o755. */
  mode: number;
  mtimeMs: number;
  uid: number;
  gid: number;
  /** Symlink target as written, or the archive path a hard link names. */
  linkTarget?: string;
  /** Position in the archive, counting only real entries: how a later read finds it again. */
  ordinal: number;
  /** sha256 of the content, for regular files (compares files across images without reading them twice). */
  sha256?: string;
}

export class LayerFormatError extends Error {
  constructor(message: string, readonly kind: 'unsupported-compression' | 'corrupt' | 'digest-mismatch' | 'too-large' = 'corrupt') {
    super(message);
    this.name = 'LayerFormatError';
  }
}

const GZIP_MAGIC = [0x1f, 0x8b];
const ZSTD_MAGIC = [0x28, 0xb5, 0x2f, 0xfd];

type ZstdZlib = { createZstdDecompress?: () => Transform };

/** Whether this runtime can read zstd layers (Node 22.15+ has zstd in zlib). */
export function zstdAvailable(): boolean {
  return typeof (zlib as unknown as ZstdZlib).createZstdDecompress === 'function';
}

function startsWith(buf: Buffer, magic: number[]): boolean {
  return buf.length >= magic.length && magic.every((b, i) => buf[i] === b);
}

/** The first bytes of a stream, put back so the stream still starts at byte 0 (null when it is empty). */
async function peek(source: Readable, bytes: number): Promise<Buffer | null> {
  const chunks: Buffer[] = [];
  let have = 0;
  while (have < bytes) {
    const chunk = source.read() as Buffer | null;
    if (chunk) {
      chunks.push(chunk);
      have += chunk.length;
      continue;
    }
    if (source.readableEnded || source.destroyed) break;
    const more = await new Promise<boolean>((resolve, reject) => {
      const cleanup = (): void => {
        source.off('readable', onReadable);
        source.off('end', onEnd);
        source.off('error', onError);
      };
      const onReadable = (): void => { cleanup(); resolve(true); };
      const onEnd = (): void => { cleanup(); resolve(false); };
      const onError = (e: Error): void => { cleanup(); reject(e); };
      source.once('readable', onReadable);
      source.once('end', onEnd);
      source.once('error', onError);
    });
    if (!more) break;
  }
  if (!chunks.length) return null;
  const head = Buffer.concat(chunks);
  source.unshift(head);
  return head;
}

/**
 * Decompresses by content, not by media type: registries hold gzip layers labelled as plain tar and
 * the reverse (old docker pushes), and the first bytes never lie.
 */
function decompressorFor(head: Buffer | null, what: string): Transform | undefined {
  if (!head) return undefined;
  if (startsWith(head, GZIP_MAGIC)) return zlib.createGunzip();
  if (startsWith(head, ZSTD_MAGIC)) {
    const make = (zlib as unknown as ZstdZlib).createZstdDecompress;
    if (!make) {
      throw new LayerFormatError(`${what} is compressed with zstd, which this Node.js (${process.version}) cannot read; push the image with gzip layers (e.g. docker buildx --output compression=gzip) to browse it.`, 'unsupported-compression');
    }
    return make();
  }
  return undefined;
}

/** Hashes the compressed bytes as they pass, to check them against the layer's digest at the end. */
class DigestTap extends Transform {
  readonly digester: Digester;
  constructor(algorithm: 'sha256' | 'sha512') {
    super();
    this.digester = new Digester(algorithm);
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.digester.update(chunk);
    cb(null, chunk);
  }
}

/** `./usr/bin/` → `usr/bin`; `/` and `.` → ``. Refuses `..` so no entry can name a path outside the root. */
export function normalisePath(name: string): string | undefined {
  const parts: string[] = [];
  for (const part of name.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') return undefined;
    parts.push(part);
  }
  return parts.join('/');
}

function entryType(t: string | undefined): EntryType | undefined {
  switch (t) {
    case 'file': case 'contiguous-file': case undefined: return 'file';
    case 'directory': return 'directory';
    case 'symlink': return 'symlink';
    case 'link': return 'hardlink';
    case 'character-device': return 'char-device';
    case 'block-device': return 'block-device';
    case 'fifo': return 'fifo';
    default: return undefined;
  }
}

/**
 * What a visitor sees: the entry and, for files, its content as a stream that must be read or
 * resumed before the walk goes on. Returning 'stop' ends the walk and closes the download.
 */
export type EntryVisitor = (entry: LayerEntry, body: EntryBody) => Promise<'continue' | 'stop'>;

/** An entry's content: read it with `for await`, or leave it and the walk skips it. */
export interface EntryBody extends AsyncIterable<Buffer> {
  resume(): unknown;
  once(event: 'end', listener: () => void): unknown;
}

export interface WalkOptions {
  /** Names the layer in messages: `layer 2 (sha256:…)`. */
  what: string;
  /** When given and the whole stream is read, the compressed bytes must have this digest. */
  digest?: string;
  signal?: AbortSignal;
}

/** Walks a layer's archive; resolves when the archive ends or the visitor stops it. */
export async function walkLayer(source: Readable, visit: EntryVisitor, opts: WalkOptions): Promise<{ complete: boolean }> {
  const parsed = opts.digest ? parseDigest(opts.digest) : undefined;
  const tap = parsed && !('problem' in parsed) ? new DigestTap(parsed.algorithm) : undefined;
  let decompress: Transform | undefined;
  try {
    decompress = decompressorFor(await peek(source, ZSTD_MAGIC.length), opts.what);
  } catch (e) {
    source.destroy();
    throw e;
  }
  const tar = extract();
  let ordinal = 0;
  let stopped = false;
  let stream: Readable = tap ? source.pipe(tap) : source;
  if (decompress) stream = stream.pipe(decompress);
  // tar-stream's extract is a streamx Writable, which node's pipe drives like its own.
  stream.pipe(tar as unknown as NodeJS.WritableStream);

  return new Promise((resolve, reject) => {
    let settled = false;
    const teardown = (): void => {
      opts.signal?.removeEventListener('abort', onAbort);
      source.destroy();
      tap?.destroy();
      decompress?.destroy();
      tar.destroy();
    };
    const fail = (e: unknown): void => {
      if (settled) return;
      settled = true;
      teardown();
      const err = e instanceof LayerFormatError || (e instanceof Error && e.name === 'AbortError') ? e
        : new LayerFormatError(`${opts.what} is not a readable tar archive: ${e instanceof Error ? e.message : String(e)}`);
      reject(err);
    };
    const onAbort = (): void => fail(Object.assign(new Error('Reading the layer was cancelled.'), { name: 'AbortError' }));
    if (opts.signal?.aborted) return onAbort();
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    for (const s of [source, tap, decompress] as const) s?.on('error', fail);
    tar.on('error', fail);
    tar.on('entry', (header: Header, source: AsyncIterable<unknown> & Omit<EntryBody, typeof Symbol.asyncIterator>, next: (e?: Error | null) => void) => {
      // tar-stream yields Buffers; its types say unknown.
      const body = source as EntryBody;
      const type = entryType(header.type);
      const path = normalisePath(header.name);
      if (!type || path === undefined) {
        // Extended headers are consumed by tar-stream; anything else unknown (or escaping the root) is skipped.
        body.once('end', () => next());
        body.resume();
        return;
      }
      const linkname = header.linkname || undefined;
      const entry: LayerEntry = {
        path, type, size: type === 'file' ? header.size ?? 0 : 0, mode: (header.mode ?? 0) & 0o7777,
        mtimeMs: header.mtime ? header.mtime.getTime() : 0, uid: header.uid ?? 0, gid: header.gid ?? 0, ordinal: ordinal++,
        ...(linkname ? { linkTarget: type === 'hardlink' ? normalisePath(linkname) ?? linkname : linkname } : {}),
      };
      let ended = false;
      body.once('end', () => (ended = true));
      visit(entry, body).then((action) => {
        if (action === 'stop') {
          stopped = true;
          if (!settled) {
            settled = true;
            teardown();
            resolve({ complete: false });
          }
          return;
        }
        if (ended) next();
        else {
          body.once('end', () => next());
          body.resume();
        }
      }, fail);
    });
    tar.on('finish', () => {
      if (settled || stopped) return;
      // The archive ended; let the compressed stream finish so its digest covers every byte.
      const done = (): void => {
        if (settled) return;
        if (tap && opts.digest) {
          const got = tap.digester.digest();
          if (got !== opts.digest) return fail(new LayerFormatError(`${opts.what} has digest ${got}, not ${opts.digest}: the registry served different content.`, 'digest-mismatch'));
        }
        settled = true;
        opts.signal?.removeEventListener('abort', onAbort);
        resolve({ complete: true });
      };
      if (!tap || tap.readableEnded || tap.writableFinished) done();
      else {
        tap.once('end', done);
        tap.once('finish', () => setImmediate(done));
        tap.resume();
      }
    });
  });
}

export interface LayerIndex {
  digest: string;
  entries: LayerEntry[];
  /** Sum of file sizes: what the layer unpacks to. */
  contentBytes: number;
}

/** Lists every entry of a layer with a sha256 of each file's content. */
export async function indexLayer(source: Readable, opts: WalkOptions & { digest: string }): Promise<LayerIndex> {
  const entries: LayerEntry[] = [];
  let contentBytes = 0;
  await walkLayer(source, async (entry, body) => {
    if (entry.type === 'file') {
      const hash = createHash('sha256');
      for await (const chunk of body) hash.update(chunk as Buffer);
      entry.sha256 = hash.digest('hex');
      contentBytes += entry.size;
    }
    entries.push(entry);
    return 'continue';
  }, opts);
  return { digest: opts.digest, entries, contentBytes };
}

/** Reads one file's content by its ordinal, stopping the download as soon as it is read. */
export async function readLayerFile(source: Readable, ordinal: number, opts: WalkOptions & { maxBytes: number }): Promise<Buffer> {
  let content: Buffer | undefined;
  await walkLayer(source, async (entry, body) => {
    if (entry.ordinal < ordinal) return 'continue';
    if (entry.ordinal > ordinal || entry.type !== 'file') return 'stop';
    if (entry.size > opts.maxBytes) {
      throw new LayerFormatError(`${entry.path} is ${entry.size} bytes, more than the ${opts.maxBytes} bytes a file may have to be opened here.`, 'too-large');
    }
    const chunks: Buffer[] = [];
    for await (const chunk of body) chunks.push(chunk as Buffer);
    content = Buffer.concat(chunks);
    return 'stop';
  }, { what: opts.what, ...(opts.signal ? { signal: opts.signal } : {}) });
  if (!content) throw new LayerFormatError(`${opts.what} has no file at position ${ordinal}; the layer changed since it was listed.`);
  return content;
}
