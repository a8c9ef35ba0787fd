/** The registry's storage as the HTTP handler sees it: repositories, blobs, uploads, manifests, tags. */
import type { Readable } from 'node:stream';
import type { ParsedDigest } from '../../oci/digest';
import type { Descriptor } from '../../oci/types';
import type { ParsedManifest } from '../manifest';

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
  /** When bytes were last stored, by whichever process: what decides that a session is idle. */
  lastWriteMs?: number;
}

export interface ByteRange {
  /** Inclusive. */
  start: number;
  /** Inclusive. */
  end: number;
}

export type ManifestRef = { tag: string } | { digest: ParsedDigest };

/**
 * Errors are the typed ones of storage/errors.ts (an unknown upload, a chunk at the wrong offset, a
 * digest that does not match); the handler turns them into the spec's responses.
 */
export interface Storage {
  /** A blob as `repository` sees it (linked there), or undefined. */
  statBlob(repository: string, digest: ParsedDigest): Promise<BlobInfo | undefined>;
  /** Streams a blob the caller has just `statBlob`-ed. */
  readBlob(digest: ParsedDigest, range?: ByteRange): Promise<Readable>;
  /** A URL the client may fetch the blob from directly (a presigned URL), when the storage offers one. */
  blobRedirectURL?(digest: ParsedDigest, method: 'GET' | 'HEAD'): Promise<string | undefined>;
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
  /**
   * Who started an upload, without measuring it (on S3 a status lists the upload's parts): the user,
   * or undefined for an anonymous upload and for one that does not exist.
   */
  uploadOwner(repository: string, id: string): Promise<string | undefined>;
  /** Appends a chunk. With `start`, it must equal the current offset, else `UploadOffsetError`. */
  appendUpload(repository: string, id: string, body: Readable, start?: number): Promise<UploadStatus>;
  /** Appends an optional last chunk, verifies the digest and moves the blob into place. */
  finishUpload(repository: string, id: string, digest: ParsedDigest, body?: Readable, start?: number): Promise<BlobInfo>;
  cancelUpload(repository: string, id: string): Promise<boolean>;
  /** Every upload session in the storage, whichever process started it. */
  listUploads(): Promise<{ repository: string; id: string }[]>;

  getManifest(repository: string, ref: ManifestRef): Promise<StoredManifest | undefined>;
  hasManifest(repository: string, digest: ParsedDigest): Promise<boolean>;
  /**
   * Stores a manifest the caller has validated and hashed, under `digest` and optionally a tag.
   * `parsed`: what the caller read of these bytes, so a large manifest is not parsed again.
   */
  putManifest(repository: string, digest: ParsedDigest, bytes: Buffer, mediaType: string, tag?: string, parsed?: ParsedManifest): Promise<StoredManifest>;
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
