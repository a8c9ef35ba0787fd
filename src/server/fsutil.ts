/** Small async filesystem helpers the storage needs: atomic writes, tolerant reads and removals. */
import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, readFile, readdir, rename, rm, stat, writeFile, type FileHandle } from 'node:fs/promises';
import { Writable } from 'node:stream';
import { dirname, join } from 'node:path';
import { Digester, type DigestAlgorithm } from '../oci/digest';

export function isNotFound(e: unknown): boolean {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

export async function statOrUndefined(path: string): Promise<import('node:fs').Stats | undefined> {
  try {
    return await stat(path);
  } catch (e) {
    if (isNotFound(e)) return undefined;
    throw e;
  }
}

export async function exists(path: string): Promise<boolean> {
  return (await statOrUndefined(path)) !== undefined;
}

export async function readTextOrUndefined(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (e) {
    if (isNotFound(e)) return undefined;
    throw e;
  }
}

export async function readdirOrEmpty(path: string): Promise<import('node:fs').Dirent[]> {
  try {
    return await readdir(path, { withFileTypes: true });
  } catch (e) {
    if (isNotFound(e)) return [];
    throw e;
  }
}

export function tmpName(tmpDir: string): string {
  return join(tmpDir, `${Date.now().toString(36)}-${randomBytes(8).toString('hex')}`);
}

/**
 * Writes `data` to a temp file in `tmpDir` and renames it over `path`, so readers see the old
 * content or the new one, never a partial file. `tmpDir` must be on the same filesystem.
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array, tmpDir: string, opts: { fsync?: boolean } = {}): Promise<void> {
  const tmp = tmpName(tmpDir);
  try {
    if (opts.fsync) {
      const fh = await open(tmp, 'w');
      try {
        await fh.writeFile(data);
        await fh.sync();
      } finally {
        await fh.close();
      }
    } else {
      await writeFile(tmp, data);
    }
    await renameMakingDir(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}

/** `rename`, creating the destination's folder when it does not exist yet. */
export async function renameMakingDir(from: string, to: string): Promise<void> {
  try {
    await rename(from, to);
  } catch (e) {
    if (!isNotFound(e)) throw e;
    await mkdir(dirname(to), { recursive: true });
    await rename(from, to);
  }
}

export async function fsyncFile(path: string): Promise<void> {
  const fh = await open(path, 'r+');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

export async function removeTree(path: string): Promise<void> {
  await rm(path, { recursive: true, force: true });
}

/** Hashes a file by streaming it (used when an upload's running hash was lost, e.g. after a restart). */
export async function hashFile(path: string, algorithm: DigestAlgorithm): Promise<{ digest: string; size: number }> {
  const d = new Digester(algorithm);
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) d.update(chunk as Buffer);
  return { digest: d.digest(), size: d.size };
}

/**
 * A stream that appends to an open file with positioned writes from `position` on, each batch in one
 * writev: whatever piled up (up to `bufferBytes`) while the last write ran goes out together, so the
 * socket and the hash keep running while the disk write is pending. `onWritten` hears every write's
 * size as it lands. Not fs.WriteStream: on an error that one closes the descriptor whatever autoClose
 * says, and here the caller owns it.
 */
export function appendingStream(fh: FileHandle, position: number, bufferBytes: number, onWritten: (bytes: number) => void = () => undefined): Writable {
  let at = position;
  const writeAll = async (bufs: Buffer[]): Promise<void> => {
    let rest = bufs;
    while (rest.length > 0) {
      const { bytesWritten } = await fh.writev(rest, at);
      at += bytesWritten;
      onWritten(bytesWritten);
      let skip = bytesWritten;
      while (rest.length > 0 && skip >= (rest[0] as Buffer).length) skip -= (rest.shift() as Buffer).length;
      if (skip > 0 && rest.length > 0) rest = [(rest[0] as Buffer).subarray(skip), ...rest.slice(1)];
    }
  };
  return new Writable({
    highWaterMark: bufferBytes,
    write: (chunk: Buffer, _enc, cb) => void writeAll([chunk]).then(() => cb(), cb),
    writev: (chunks, cb) => void writeAll(chunks.map((c) => c.chunk as Buffer)).then(() => cb(), cb),
  });
}
