/**
 * Upload limits as a storage wrapper, so every way a blob arrives (monolithic POST, PATCH chunks,
 * the final PUT) passes through them: at most `maxConcurrentUploads` bodies streaming at once
 * (429 TOOMANYREQUESTS with Retry-After beyond), at most `maxBlobBytes` per upload (413), and a
 * minimum rate per body (408 and the slot freed), so trickling bodies cannot hold every slot.
 */
import type { Readable } from 'node:stream';
import type { ParsedDigest } from '../../oci/digest';
import { RegistryError } from '../errors';
import type { BlobInfo, Storage, UploadStatus } from '../storage';
import { overrideStorage } from './forwardStorage';
import { BodyTooLargeError, BodyTooSlowError, byteLimit, rateFloor, Slots } from './limits';

export interface UploadLimitOptions {
  maxBlobBytes: number;
  slots: Slots;
  /** 0 switches the rate floor off. */
  minBytesPerSecond: number;
  rateWindowMs: number;
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
      const floor = rateFloor(opts.minBytesPerSecond, opts.rateWindowMs);
      const limited = byteLimit(remaining, 'the blob');
      body.pipe(floor).pipe(limited);
      body.once('error', (e) => limited.destroy(e));
      floor.once('error', (e) => limited.destroy(e));
      // The limit may trip while the storage is still opening the upload, before its pipeline
      // listens: not an unhandled 'error'. The pipeline still finds the stream errored.
      limited.on('error', () => undefined);
      return await run(limited);
    } catch (e) {
      if (e instanceof BodyTooLargeError) {
        await inner.cancelUpload(repository, id).catch(() => false);
        throw new RegistryError('SIZE_INVALID', `the blob is larger than this registry accepts (${opts.maxBlobBytes} bytes, limits.maxBlobSize)`, { limit: opts.maxBlobBytes }, 413);
      }
      if (e instanceof BodyTooSlowError) {
        // The session stays: the client may resume from the offset it asks for.
        throw new RegistryError('BLOB_UPLOAD_INVALID', `${e.message} bytes/s (limits.minUploadRate over limits.uploadRateWindow); the upload slot was given to others. Resume the upload from its current offset`,
          { minBytesPerSecond: e.minBytesPerSecond }, 408, { Connection: 'close' });
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
