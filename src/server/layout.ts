/**
 * Paths of distribution's filesystem storage driver, so that a root written by Berth is served by
 * distribution 2.8 and the other way round. Observed from distribution 2.8 itself:
 *
 *   <root>/docker/registry/v2/blobs/<alg>/<2 hex>/<hex>/data
 *   <root>/docker/registry/v2/repositories/<name>/_layers/<alg>/<hex>/link                 "alg:hex"
 *   <root>/docker/registry/v2/repositories/<name>/_manifests/revisions/<alg>/<hex>/link
 *   <root>/docker/registry/v2/repositories/<name>/_manifests/tags/<tag>/current/link
 *   <root>/docker/registry/v2/repositories/<name>/_manifests/tags/<tag>/index/<alg>/<hex>/link
 *   <root>/docker/registry/v2/repositories/<name>/_uploads/<uuid>/{data,startedat,hashstates/…}
 *
 * Berth-only data (rebuildable from the above) lives under `<root>/.berth/`.
 *
 * Every function here joins what it is given and checks nothing: handler.ts checks each component
 * that comes from a request before any path is built (repository names in checkName, tags and digests
 * where a reference is parsed, upload ids with isUploadId), so no request can name a path outside the root.
 */
import { posix } from 'node:path';
import { parseDigest, type ParsedDigest } from '../oci/digest';

// Driver paths are slash-separated on every platform (see storage/driver.ts).
const { join } = posix;

export const UPLOAD_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export class Layout {
  readonly v2: string;
  readonly berth: string;

  constructor(readonly root: string) {
    this.v2 = join(root, 'docker', 'registry', 'v2');
    this.berth = join(root, '.berth');
  }

  get blobsDir(): string {
    return join(this.v2, 'blobs');
  }

  get repositoriesDir(): string {
    return join(this.v2, 'repositories');
  }

  blobDir(d: ParsedDigest): string {
    return join(this.v2, 'blobs', d.algorithm, d.hex.slice(0, 2), d.hex);
  }

  blobData(d: ParsedDigest): string {
    return join(this.blobDir(d), 'data');
  }

  repoDir(name: string): string {
    return join(this.repositoriesDir, ...name.split('/'));
  }

  layerLink(name: string, d: ParsedDigest): string {
    return join(this.repoDir(name), '_layers', d.algorithm, d.hex, 'link');
  }

  layersDir(name: string): string {
    return join(this.repoDir(name), '_layers');
  }

  manifestsDir(name: string): string {
    return join(this.repoDir(name), '_manifests');
  }

  revisionsDir(name: string): string {
    return join(this.manifestsDir(name), 'revisions');
  }

  revisionLink(name: string, d: ParsedDigest): string {
    return join(this.revisionsDir(name), d.algorithm, d.hex, 'link');
  }

  tagsDir(name: string): string {
    return join(this.manifestsDir(name), 'tags');
  }

  tagDir(name: string, tag: string): string {
    return join(this.tagsDir(name), tag);
  }

  tagCurrentLink(name: string, tag: string): string {
    return join(this.tagDir(name, tag), 'current', 'link');
  }

  tagIndexLink(name: string, tag: string, d: ParsedDigest): string {
    return join(this.tagDir(name, tag), 'index', d.algorithm, d.hex, 'link');
  }

  uploadsDir(name: string): string {
    return join(this.repoDir(name), '_uploads');
  }

  uploadDir(name: string, id: string): string {
    return join(this.uploadsDir(name), id);
  }

  uploadData(name: string, id: string): string {
    return join(this.uploadDir(name, id), 'data');
  }

  /** Berth's own file beside distribution's: the user who started the upload (absent: anonymous). */
  uploadOwner(name: string, id: string): string {
    return join(this.uploadDir(name, id), 'berth-owner');
  }

  uploadStartedAt(name: string, id: string): string {
    return join(this.uploadDir(name, id), 'startedat');
  }

  /** Berth's referrers index: one small JSON descriptor per referrer, under the subject's digest. */
  referrersDir(name: string, subject: ParsedDigest): string {
    // `_subjects` cannot be a repository path component, so it never collides with a nested repository.
    return join(this.berth, 'referrers', ...name.split('/'), '_subjects', `${subject.algorithm}-${subject.hex}`);
  }

  referrerEntry(name: string, subject: ParsedDigest, referrer: ParsedDigest): string {
    return join(this.referrersDir(name, subject), `${referrer.algorithm}-${referrer.hex}.json`);
  }

  /** Marks that the referrers index of a repository has been built from its manifests. */
  referrersComplete(name: string): string {
    return join(this.berth, 'referrers', ...name.split('/'), '_complete');
  }

  referrersRepoDir(name: string): string {
    return join(this.berth, 'referrers', ...name.split('/'));
  }

  /**
   * The media type a repository's client declared for a manifest without a `mediaType` field. Kept per
   * repository: the same bytes pushed elsewhere with another type must not change how this one is served.
   * `_repositories` and `_digests` cannot be repository path components, so nothing collides.
   */
  manifestTypeFile(name: string, d: ParsedDigest): string {
    return join(this.berth, 'manifest-types', '_repositories', ...name.split('/'), '_digests', `${d.algorithm}-${d.hex}`);
  }

  /** Where types were recorded per digest before they were kept per repository; read only. */
  legacyManifestTypeFile(d: ParsedDigest): string {
    return join(this.berth, 'manifest-types', d.algorithm, d.hex);
  }

}

/** The contents of a link file: the digest it points at. */
export function linkContent(d: ParsedDigest): string {
  return d.digest;
}

export function parseLink(content: string): ParsedDigest | undefined {
  const d = parseDigest(content.trim());
  return 'problem' in d ? undefined : d;
}

/** An upload UUID from a request path (names and tags have their own checks in the handler). */
export const isUploadId = (id: string): boolean => UPLOAD_ID.test(id);
