/**
 * The seam between the registry's rules and where bytes live, in the shape of distribution's
 * `storagedriver.StorageDriver`: a driver knows nothing about repositories, links or digests, only
 * paths and contents. Paths are absolute and slash-separated (`/docker/registry/v2/blobs/…`);
 * a driver maps them onto its medium (a folder, a bucket prefix).
 *
 * A new backend (Azure Blob, GCS) is one file implementing `StorageDriver`; the link rules in
 * linkStorage.ts, gc and the health check run on it unchanged.
 */
import type { Readable } from 'node:stream';

export interface FileInfo {
  path: string;
  /** Bytes; 0 for a directory. */
  size: number;
  modTimeMs: number;
  isDir: boolean;
}

/** An open file being written, as distribution's `FileWriter`. */
export interface FileWriter {
  /** Bytes in the file so far: what was there when it was opened plus what was written since. */
  readonly size: number;
  /**
   * When the file last changed before this writer opened it (any process's write counts): an upload
   * nobody has written to for long is abandoned. The opening time for a new file.
   */
  readonly modTimeMs: number;
  /**
   * Streams `body` to the end of the file; `onChunk` sees every chunk on its way (for a running
   * hash). On failure part of the body may have been written: `size` says how much.
   */
  write(body: Readable, onChunk?: (chunk: Buffer) => void): Promise<void>;
  /**
   * Makes everything written durable and readable at the path; the writer is done. When it throws, what
   * the file holds is in doubt (a failed writeback is reported once): callers discard it, never retry it.
   */
  commit(): Promise<void>;
  /** Releases the writer; what was written stays for a later `writer(path, true)`. */
  close(): Promise<void>;
  /** Discards the file and the writer. */
  cancel(): Promise<void>;
}

export interface StorageDriver {
  /** `filesystem`, `s3`, … for logs and the health check. */
  readonly name: string;
  /**
   * True when other processes may write the same storage at the same time (a bucket behind several
   * registries): the layer above then keeps no cache of anything that can change.
   */
  readonly shared: boolean;
  /** Where the data lives, without secrets, for logs. */
  readonly description: string;

  /** Creates what the driver needs and clears what a crash may have left (temp files). */
  init(): Promise<void>;
  /** The whole content of a small file. Throws `PathNotFoundError`. */
  getContent(path: string): Promise<Buffer>;
  /** Writes a small file atomically: readers see the old content or the new one. */
  putContent(path: string, content: string | Uint8Array, opts?: { durable?: boolean }): Promise<void>;
  /**
   * Reads `[offset, end]` (inclusive `end`, to the end of the file when absent). Throws
   * `PathNotFoundError` now rather than mid-stream.
   */
  reader(path: string, offset?: number, end?: number): Promise<Readable>;
  /** Opens `path` for writing; with `append`, after what an earlier writer left there. */
  writer(path: string, append: boolean): Promise<FileWriter>;
  /** Throws `PathNotFoundError`. A path under which files exist is a directory. */
  stat(path: string): Promise<FileInfo>;
  /** The full paths of the direct children of a directory. Throws `PathNotFoundError`. */
  list(path: string): Promise<string[]>;
  /** Moves a file, replacing `dest`; atomic for readers of `dest`. */
  move(source: string, dest: string): Promise<void>;
  /** Removes a file or a directory with everything under it. Throws `PathNotFoundError`. */
  delete(path: string): Promise<void>;
  /** A URL a client can fetch the file from directly (a presigned GET), or undefined to stream it. */
  redirectURL?(path: string, method: 'GET' | 'HEAD'): Promise<string | undefined>;
  /** Releases connections and timers. */
  close?(): Promise<void>;
}

/** The driver's one error the layer above acts on: the path does not exist. */
export class PathNotFoundError extends Error {
  constructor(readonly path: string, readonly driver: string) {
    super(`${driver}: path not found: ${path}`);
  }
}

export function isPathNotFound(e: unknown): e is PathNotFoundError {
  return e instanceof PathNotFoundError;
}

/** The result of `op`, or undefined when it failed with `PathNotFoundError`. */
export async function orUndefined<T>(op: Promise<T>): Promise<T | undefined> {
  try {
    return await op;
  } catch (e) {
    if (isPathNotFound(e)) return undefined;
    throw e;
  }
}

/** The last component of a driver path. */
export function baseName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

/** Child names of a directory; empty when it does not exist. */
export async function listNames(driver: StorageDriver, path: string): Promise<string[]> {
  return ((await orUndefined(driver.list(path))) ?? []).map(baseName);
}
