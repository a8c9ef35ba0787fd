/**
 * What can go wrong in storage, as types: the handler decides the HTTP answer (status, code,
 * headers), the storage only says what happened.
 */
export class StorageError extends Error {}

/** The upload does not exist (never started, finished, cancelled or purged). */
export class UploadUnknownError extends StorageError {
  constructor(readonly id: string) {
    super(`upload ${id} is unknown or finished`);
  }
}

/** A chunk that does not start where the upload ends. */
export class UploadOffsetError extends StorageError {
  constructor(readonly id: string, readonly start: number, readonly offset: number) {
    super(`chunk starts at ${start} but the upload holds ${offset} bytes; send the next chunk from ${offset}`);
  }
}

/** The uploaded bytes hash to another digest than the client named; the upload is dropped. */
export class DigestMismatchError extends StorageError {
  constructor(readonly expected: string, readonly actual: string) {
    super(`the uploaded content has digest ${actual}, not ${expected}`);
  }
}

/** The store behind the registry did not answer in time, after its retries (an S3 connect or idle timeout). */
export class StoreUnavailableError extends StorageError {
  constructor(readonly storage: string, readonly settings: string) {
    super(`the registry's storage (${storage}) did not answer in time (${settings}); try again`);
  }
}
