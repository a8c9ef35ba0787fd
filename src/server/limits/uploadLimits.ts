/**
 * Upload limits as a storage wrapper, so every way a blob arrives (monolithic POST, PATCH chunks,
 * the final PUT) passes through them: at most `maxConcurrentUploads` bodies streaming at once
 * (429 TOOMANYREQUESTS with Retry-After beyond), and at most `maxBlobBytes` per upload (413).
 */
import type { Readable } from 'node:stream';
import type { ParsedDigest } from '../../oci/digest';
import { RegistryError } from '../errors';
import type { BlobInfo, Storage, UploadStatus } from '../storage';
import { overrideStorage } from './forwardStorage';
import { BodyTooLargeError, byteLimit, Slots } from './limits';

export interface UploadLimitOptions {
  maxBlobBytes: number;
  slots: Slots;
}

export function limitUploads(inner: Storage, opts: UploadLimitOptions): Storage {
  const guarded = async <T>(repository: string, id: string, body: Readable, start: number | undefined, run: (limited: Readable) => Promise<T>): Promise<T> => {
    const release = opts.slots.tryAcquire();
    if (!release) {
      body.resume();
      throw new RegistryError('TOOMANYREQUESTS', `${opts.slots.capacity} uploads are already in progress; retry shortly (limits.maxConcurrentUploads)`, undefined, 429, { 'Retry-After': '1' });
    }
    try {
      const offset = start ?? (await inner.uploadStatus(repository, id))?.offset ?? 0;
      const remaining = Math.max(0, opts.maxBlobBytes - offset);
      const limited = body.pipe(byteLimit(remaining, 'the blob'));
      body.once('error', (e) => limited.destroy(e));
      return await run(limited);
    } catch (e) {
      if (e instanceof BodyTooLargeError) {
        await inner.cancelUpload(repository, id).catch(() => false);
        throw new RegistryError('SIZE_INVALID', `the blob is larger than this registry accepts (${opts.maxBlobBytes} bytes, limits.maxBlobSize)`, { limit: opts.maxBlobBytes }, 413);
      }
      throw e;
    } finally {
      release();
    }
  };
  return overrideStorage(inner, {
    appendUpload: (repository: string, id: string, body: Readable, start?: number): Promise<UploadStatus> =>
      guarded(repository, id, body, start, (limited) => inner.appendUpload(repository, id, limited, start)),
    finishUpload: (repository: string, id: string, digest: ParsedDigest, body?: Readable, start?: number): Promise<BlobInfo> =>
      body ? guarded(repository, id, body, start, (limited) => inner.finishUpload(repository, id, digest, limited, start)) : inner.finishUpload(repository, id, digest, undefined, start),
  });
}
