/**
 * From a tag or digest (and, for a multi-platform image, a platform) to one image manifest: the
 * starting point of the image page, the file browser and the comparison.
 */
import type { CallOptions, FetchedManifest, Registry } from '../client';
import { RegistryError } from '../client/errors';
import { choosePlatform, parsePlatform, platformEntries } from '../client/manifests';
import { isImageManifestMediaType } from '../oci/mediaTypes';
import type { ImageManifest, Platform } from '../oci/types';
import { formatPlatform, isIndex } from '../oci/types';

/** What to look at: `repository` at `reference` (tag or digest), `platform` (`linux/arm64`) for an index. */
export interface ImageTarget {
  repository: string;
  reference: string;
  platform?: string;
}

export interface ResolvedImage {
  repository: string;
  /** As asked (tag or digest). */
  reference: string;
  /** Digest of the tag's manifest (the index for a multi-platform image). */
  topDigest: string;
  /** Digest of the image manifest read. */
  digest: string;
  mediaType: string;
  manifest: ImageManifest;
  /** Size of the image manifest in bytes. */
  manifestBytes: number;
  /** The platform from the index entry, when the tag is multi-platform. */
  platform?: Platform;
  /** Every platform an index offers (empty for a single-platform image), for pickers and messages. */
  platforms: string[];
}

const MAX_INDEX_DEPTH = 4;

/** `repo:tag`, `repo@sha256:…`, plus ` (linux/arm64)` when a platform was chosen. */
export function describeTarget(t: { repository: string; reference: string; platform?: string | Platform }): string {
  const sep = t.reference.includes(':') ? '@' : ':';
  const platform = typeof t.platform === 'string' ? t.platform : t.platform ? formatPlatform(t.platform) : undefined;
  return `${t.repository}${sep}${t.reference}${platform ? ` (${platform})` : ''}`;
}

/**
 * Reads the manifest at `target` and, through indexes, the image for the platform asked (else
 * linux/amd64, else the first image). Artifacts and other non-image manifests are refused with a
 * message that says what the reference is instead.
 */
export async function resolveImage(registry: Registry, target: ImageTarget, opts: CallOptions = {}): Promise<ResolvedImage> {
  const top = await registry.getManifest(target.repository, target.reference, opts);
  let m: FetchedManifest = top;
  let platform: Platform | undefined;
  let platforms: string[] = [];
  for (let depth = 0; isIndex(m.manifest); depth++) {
    if (depth >= MAX_INDEX_DEPTH) {
      throw new RegistryError({ kind: 'invalid-response', host: registry.name, message: `${describeTarget(target)} nests indexes more than ${MAX_INDEX_DEPTH} deep.` });
    }
    const entries = platformEntries(m.manifest);
    if (depth === 0) platforms = entries.filter((e) => !e.attestation && e.platform).map((e) => formatPlatform(e.platform as Platform));
    const entry = choosePlatform(entries, target.platform ? parsePlatform(target.platform) : undefined);
    if (!entry) {
      const offered = platforms.length ? ` It offers ${platforms.join(', ')}.` : '';
      throw new RegistryError({ kind: 'not-found', host: registry.name, message: `${describeTarget(target)} has no image for platform ${target.platform ?? 'linux/amd64'}.${offered}` });
    }
    platform = entry.platform;
    m = await registry.getManifest(target.repository, entry.digest, opts);
  }
  if (isIndex(m.manifest)) throw new Error('unreachable: index loop ended on an index');
  const manifest = m.manifest;
  if (!isImageManifestMediaType(m.mediaType) && m.mediaType !== 'application/vnd.oci.artifact.manifest.v1+json') {
    throw new RegistryError({ kind: 'unsupported', host: registry.name, message: `${describeTarget(target)} is a ${m.mediaType}, not an image manifest.` });
  }
  if (!Array.isArray(manifest.layers) || !manifest.config) {
    throw new RegistryError({ kind: 'invalid-response', host: registry.name, message: `${describeTarget(target)} has a manifest without config or layers.` });
  }
  return {
    repository: target.repository, reference: target.reference, topDigest: top.digest, digest: m.digest, mediaType: m.mediaType,
    manifest, manifestBytes: m.size, platforms, ...(platform ? { platform } : {}),
  };
}
