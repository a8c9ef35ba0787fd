/**
 * Storage: `Storage` (registry semantics, what the handler calls), `LinkStorage` (those semantics
 * written once over any `StorageDriver`), and the drivers.
 */
export * from './types';
export { sendBlob } from './blobStream';
export { LinkStorage, walkRepositories, type LinkStorageOptions } from './linkStorage';
export { FsDriver } from './fsDriver';
export { PathNotFoundError, type FileInfo, type FileWriter, type StorageDriver } from './driver';
export { DigestMismatchError, StorageError, StoreUnavailableError, UploadOffsetError, UploadUnknownError } from './errors';
