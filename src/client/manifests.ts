/** Manifest content negotiation, verification and reading, kept apart from the HTTP calls. */
import { digestOf, parseDigest } from '../oci/digest';
import { isIndexMediaType, MediaType } from '../oci/mediaTypes';
import type { Descriptor, ImageIndex, Manifest, Platform } from '../oci/types';
import { RegistryError } from './errors';

/** The deprecated OCI artifact manifest (image-spec 1.1 release candidates); still found in the wild. */
export const OCI_ARTIFACT_MANIFEST = 'application/vnd.oci.artifact.manifest.v1+json';

/** Every manifest type we can read, most specific first, so a registry never has to convert. */
export const MANIFEST_ACCEPT: readonly string[] = [
  MediaType.ociIndex,
  MediaType.ociManifest,
  MediaType.dockerManifestList,
  MediaType.dockerManifest,
  OCI_ARTIFACT_MANIFEST,
  // Only to recognise and refuse them clearly instead of failing with a 404.
  MediaType.dockerSchema1Signed,
  MediaType.dockerSchema1,
];

export const DEFAULT_MAX_MANIFEST_BYTES = 4 * 1024 * 1024;

/** `application/json; charset=utf-8` → `application/json` (the spec tells clients to ignore parameters). */
export function bareMediaType(contentType: string | undefined): string | undefined {
  const t = contentType?.split(';')[0]?.trim().toLowerCase();
  return t || undefined;
}

export function isDigestReference(reference: string): boolean {
  return reference.includes(':');
}

export interface ParsedManifest {
  manifest: Manifest;
  mediaType: string;
  digest: string;
}

/**
 * Checks a fetched manifest against what was asked and what the registry said (digest, type), then
 * parses it. A digest reference must match the bytes; a tag's `Docker-Content-Digest` must too.
 */
export function verifyManifest(host: string, what: string, bytes: Buffer, contentType: string | undefined, reference: string, headerDigest: string | undefined): ParsedManifest {
  const expected = isDigestReference(reference) ? reference : headerDigest;
  let digest = digestOf(bytes);
  if (expected) {
    const parsed = parseDigest(expected);
    if ('problem' in parsed) {
      if (isDigestReference(reference)) throw new RegistryError({ kind: 'bad-request', host, message: `"${reference}" is not a digest this client can verify.` });
    } else {
      digest = digestOf(bytes, parsed.algorithm);
      if (digest !== expected) {
        throw new RegistryError({ kind: 'invalid-response', host, message: `${host} returned a manifest for ${what} whose digest ${digest} does not match ${expected}; the content may be corrupt or tampered with.` });
      }
    }
  }
  let manifest: Manifest & { schemaVersion?: number; mediaType?: string };
  try {
    manifest = JSON.parse(bytes.toString('utf8')) as Manifest;
  } catch (e) {
    throw new RegistryError({ kind: 'invalid-response', host, cause: e, message: `${host} returned a manifest for ${what} that is not JSON.` });
  }
  const type = bareMediaType(contentType);
  if ((manifest.schemaVersion as number | undefined) === 1 || type === MediaType.dockerSchema1 || type === MediaType.dockerSchema1Signed) {
    throw new RegistryError({ kind: 'unsupported', host, message: `${what} is a Docker schema 1 manifest, which is deprecated and not supported; push the image again with a current docker or buildah.` });
  }
  if (manifest.mediaType && type && manifest.mediaType !== type && type !== 'application/json' && type !== 'application/octet-stream') {
    throw new RegistryError({ kind: 'invalid-response', host, message: `${host} served ${what} as ${type} but the manifest says it is ${manifest.mediaType}.` });
  }
  const mediaType = manifest.mediaType ?? (type && type !== 'application/json' ? type : Array.isArray((manifest as ImageIndex).manifests) ? MediaType.ociIndex : MediaType.ociManifest);
  return { manifest, mediaType, digest };
}

export interface PlatformEntry {
  digest: string;
  mediaType: string;
  size: number;
  platform?: Platform;
  /** Attestations (provenance, SBOM) that buildx puts in an index as `unknown/unknown`. */
  attestation: boolean;
  annotations?: Record<string, string>;
}

export function isAttestation(d: Descriptor): boolean {
  return d.annotations?.['vnd.docker.reference.type'] === 'attestation-manifest' || (d.platform?.os === 'unknown' && d.platform.architecture === 'unknown');
}

export function platformEntries(index: ImageIndex): PlatformEntry[] {
  return index.manifests.map((d) => ({
    digest: d.digest, mediaType: d.mediaType, size: d.size,
    ...(d.platform ? { platform: d.platform } : {}),
    attestation: isAttestation(d),
    ...(d.annotations ? { annotations: d.annotations } : {}),
  }));
}

/**
 * Picks the entry for a platform (`linux/arm64/v8`, or the parts given), else the first real image
 * (linux/amd64 preferred), never an attestation unless nothing else exists.
 */
export function choosePlatform(entries: PlatformEntry[], wanted?: Partial<Platform>): PlatformEntry | undefined {
  const images = entries.filter((e) => !e.attestation && !isIndexMediaType(e.mediaType));
  if (wanted) {
    return images.find((e) => e.platform
      && (!wanted.os || e.platform.os === wanted.os)
      && (!wanted.architecture || e.platform.architecture === wanted.architecture)
      && (!wanted.variant || e.platform.variant === wanted.variant));
  }
  return images.find((e) => e.platform?.os === 'linux' && e.platform.architecture === 'amd64') ?? images[0] ?? entries[0];
}

/** `linux/arm64/v8` → a partial platform. */
export function parsePlatform(text: string): Partial<Platform> {
  const [os, architecture, variant] = text.split('/');
  return { ...(os ? { os } : {}), ...(architecture ? { architecture } : {}), ...(variant ? { variant } : {}) };
}
