/**
 * What a registry links to a digest: signatures (cosign, Notation), SBOMs (SPDX, CycloneDX),
 * attestations and provenance, or any other artifact; found through the referrers API, the
 * `sha256-<hex>` tag the spec gives registries without it, and cosign's own `.sig` / `.att` /
 * `.sbom` tags; each with its kind named plainly, its size and creation time.
 */
import type { CallOptions, Registry } from '../client';
import { RegistryError, isRegistryError } from '../client/errors';
import { parseDigest } from '../oci/digest';
import type { Descriptor, ImageManifest } from '../oci/types';
import { isIndex } from '../oci/types';

export type ArtifactKind = 'signature' | 'sbom' | 'attestation' | 'provenance' | 'other';

export interface ArtifactClass {
  kind: ArtifactKind;
  /** Plain words: `Signature (cosign)`, `SBOM (SPDX)`, `Provenance (SLSA)`. */
  label: string;
}

/** Where the link came from: the referrers API, the spec's fallback tag, or a cosign tag. */
export type ArtifactSource = 'referrers-api' | 'referrers-tag' | 'cosign-tag';

export interface ArtifactRow {
  digest: string;
  mediaType: string;
  /** `artifactType`, else the config's media type; what the registry reported. */
  artifactType?: string;
  kind: ArtifactKind;
  label: string;
  /** The manifest plus every blob it lists, in bytes (the manifest alone when it could not be read). */
  sizeBytes: number;
  /** `org.opencontainers.image.created`, from the listing or the artifact's own manifest. */
  created?: string;
  annotations: Record<string, string>;
  source: ArtifactSource;
  /** The tag it lives under, for cosign's tag scheme. */
  tag?: string;
  /** Media types of the artifact's blobs (its payload), once its manifest was read. */
  blobTypes: string[];
}

export interface ArtifactListing {
  artifacts: ArtifactRow[];
  /** How referrers were found: the API, the fallback tag, or neither (only cosign tags, if any). */
  referrers: 'api' | 'tag' | 'none';
}

const CREATED = 'org.opencontainers.image.created';
/** Reading every referrer's manifest gives sizes and kinds; past this many, the listing's data is enough. */
export const MAX_DETAILED_ARTIFACTS = 50;

interface Rule {
  test: (t: string) => boolean;
  kind: ArtifactKind;
  label: string;
}
const exact = (...types: string[]) => (t: string): boolean => types.includes(t);

/** Media types and predicate types, most specific first. */
const TYPE_RULES: Rule[] = [
  { test: exact('application/vnd.dev.cosign.artifact.sig.v1+json', 'application/vnd.dev.cosign.simplesigning.v1+json'), kind: 'signature', label: 'Signature (cosign)' },
  { test: exact('application/vnd.cncf.notary.signature'), kind: 'signature', label: 'Signature (Notation)' },
  { test: (t) => t.startsWith('application/vnd.dev.sigstore.bundle'), kind: 'signature', label: 'Signature (Sigstore bundle)' },
  { test: (t) => /spdx/i.test(t), kind: 'sbom', label: 'SBOM (SPDX)' },
  { test: (t) => /cyclonedx/i.test(t), kind: 'sbom', label: 'SBOM (CycloneDX)' },
  { test: exact('application/vnd.syft+json'), kind: 'sbom', label: 'SBOM (Syft)' },
  { test: exact('application/vnd.dev.cosign.artifact.sbom.v1+json'), kind: 'sbom', label: 'SBOM (cosign)' },
  { test: (t) => t.startsWith('https://slsa.dev/provenance'), kind: 'provenance', label: 'Provenance (SLSA)' },
  { test: exact('application/vnd.dev.cosign.artifact.att.v1+json'), kind: 'attestation', label: 'Attestation (cosign)' },
  { test: exact('application/vnd.in-toto+json'), kind: 'attestation', label: 'Attestation (in-toto)' },
  { test: exact('application/vnd.dsse.envelope.v1+json'), kind: 'attestation', label: 'Attestation (DSSE envelope)' },
  { test: (t) => t.startsWith('https://in-toto.io/') || t.startsWith('https://cosign.sigstore.dev/attestation'), kind: 'attestation', label: 'Attestation (in-toto)' },
];

/** The predicate an attestation carries, where its descriptor or blob says (buildx, cosign). */
function predicateOf(annotations: Record<string, string> | undefined): string | undefined {
  return annotations?.['in-toto.io/predicate-type'] ?? annotations?.['predicateType'];
}

/**
 * Names an artifact from what is known of it: the predicate type (an attestation whose predicate is
 * an SBOM is an SBOM), then `artifactType`, then its blobs' media types. Unknown types stay visible
 * as they are, never guessed.
 */
export function classifyArtifact(artifactType: string | undefined, annotations: Record<string, string> = {}, blobs: Descriptor[] = []): ArtifactClass {
  const candidates = [
    predicateOf(annotations), ...blobs.map((b) => predicateOf(b.annotations)),
    artifactType, ...blobs.map((b) => b.mediaType),
  ].filter((t): t is string => !!t);
  for (const t of candidates) {
    const rule = TYPE_RULES.find((r) => r.test(t));
    if (rule) return { kind: rule.kind, label: rule.label };
  }
  if (blobs.some((b) => b.annotations?.['dev.cosignproject.cosign/signature'] !== undefined)) return { kind: 'signature', label: 'Signature (cosign)' };
  return { kind: 'other', label: artifactType ?? blobs[0]?.mediaType ?? 'Artifact' };
}

/** The fallback tags of a digest: the referrers tag and cosign's three. */
export function fallbackTags(digest: string): { referrers: string; cosign: Array<{ tag: string; kind: ArtifactKind }> } {
  const parsed = parseDigest(digest);
  if ('problem' in parsed) throw new RegistryError({ kind: 'bad-request', message: `"${digest}" is not a digest this client can read.` });
  const base = `${parsed.algorithm}-${parsed.hex.slice(0, 64)}`;
  return {
    referrers: base,
    cosign: [{ tag: `${base}.sig`, kind: 'signature' }, { tag: `${base}.att`, kind: 'attestation' }, { tag: `${base}.sbom`, kind: 'sbom' }],
  };
}

async function rowFrom(registry: Registry, repository: string, d: Descriptor, source: ArtifactSource, detailed: boolean, opts: CallOptions, tag?: string): Promise<ArtifactRow> {
  let annotations = { ...(d.annotations ?? {}) };
  let blobs: Descriptor[] = [];
  let sizeBytes = d.size;
  let artifactType = d.artifactType;
  if (detailed) {
    try {
      const m = await registry.getManifest(repository, d.digest, opts);
      const manifest = m.manifest as Partial<ImageManifest> & { blobs?: Descriptor[] };
      blobs = isIndex(m.manifest) ? m.manifest.manifests : [...(manifest.layers ?? []), ...(manifest.blobs ?? [])];
      sizeBytes = m.size + (manifest.config?.size ?? 0) + blobs.reduce((sum, b) => sum + b.size, 0);
      annotations = { ...(m.manifest.annotations ?? {}), ...annotations };
      artifactType ??= m.manifest.artifactType ?? manifest.config?.mediaType;
    } catch (e) {
      // One unreadable artifact (deleted since, or denied) should not hide the others.
      if (!isRegistryError(e) || e.kind === 'aborted') throw e;
    }
  }
  const c = classifyArtifact(artifactType, annotations, blobs);
  const created = annotations[CREATED];
  return {
    digest: d.digest, mediaType: d.mediaType, kind: c.kind, label: c.label, sizeBytes, annotations, source,
    blobTypes: blobs.map((b) => b.mediaType),
    ...(artifactType ? { artifactType } : {}), ...(created ? { created } : {}), ...(tag ? { tag } : {}),
  };
}

/**
 * Everything that refers to `digest` in `repository`, newest first where times are known. Reads
 * each artifact's manifest (up to MAX_DETAILED_ARTIFACTS) for its payload size and kind.
 */
export async function listArtifacts(registry: Registry, repository: string, digest: string, opts: CallOptions = {}): Promise<ArtifactListing> {
  const tags = fallbackTags(digest);
  const referrers = await registry.referrers(repository, digest, opts);
  const source: ArtifactSource = referrers.source === 'tag' ? 'referrers-tag' : 'referrers-api';
  const rows: ArtifactRow[] = [];
  const seen = new Set<string>();
  for (const [n, d] of referrers.descriptors.entries()) {
    if (seen.has(d.digest)) continue;
    seen.add(d.digest);
    rows.push(await rowFrom(registry, repository, d, source, n < MAX_DETAILED_ARTIFACTS, opts));
  }
  for (const c of tags.cosign) {
    let head;
    try {
      head = await registry.headManifest(repository, c.tag, opts);
    } catch (e) {
      if (isRegistryError(e, 'not-found')) continue;
      throw e;
    }
    if (seen.has(head.digest)) continue;
    seen.add(head.digest);
    rows.push(await rowFrom(registry, repository, { mediaType: head.mediaType, digest: head.digest, size: head.size }, 'cosign-tag', true, opts, c.tag));
  }
  rows.sort((a, b) => (b.created ?? '').localeCompare(a.created ?? ''));
  return { artifacts: rows, referrers: referrers.source };
}

// ---- payloads -------------------------------------------------------------------------------

/** JSON payloads worth opening as documents; anything else is shown by its manifest alone. */
export function isReadablePayload(mediaType: string): boolean {
  return /(^|[+/])json$/.test(mediaType) || mediaType === 'text/spdx' || mediaType.startsWith('text/');
}

export interface ArtifactPayload {
  /** The blob read. */
  blob: Descriptor;
  /** Pretty-printed JSON, or the text as is. */
  text: string;
  /** `json` or `text`, for the document's language. */
  language: 'json' | 'plaintext';
  /** For a DSSE envelope: the in-toto statement inside it, decoded and pretty-printed. */
  statement?: string;
}

/** An SBOM of a large image is a few MiB; past this it is refused rather than held in memory. */
export const MAX_PAYLOAD_BYTES = 32 * 1024 * 1024;

/**
 * The artifact's payloads that can be read as documents: JSON (SBOMs, in-toto statements, DSSE
 * envelopes with their statement decoded, cosign's simple signing) and text.
 */
export async function readArtifactPayloads(registry: Registry, repository: string, digest: string, opts: CallOptions & { maxBytes?: number } = {}): Promise<ArtifactPayload[]> {
  const m = await registry.getManifest(repository, digest, opts);
  if (isIndex(m.manifest)) return [];
  const manifest = m.manifest as Partial<ImageManifest> & { blobs?: Descriptor[] };
  const blobs = [...(manifest.layers ?? []), ...(manifest.blobs ?? [])];
  const maxBytes = opts.maxBytes ?? MAX_PAYLOAD_BYTES;
  const out: ArtifactPayload[] = [];
  for (const blob of blobs) {
    if (!isReadablePayload(blob.mediaType)) continue;
    if (blob.size > maxBytes) {
      throw new RegistryError({ kind: 'unsupported', host: registry.name, message: `The payload ${blob.digest} is ${blob.size} bytes, more than the ${maxBytes} this view reads; pull it with oras or skopeo instead.` });
    }
    const bytes = await registry.getBlobBytes(repository, blob.digest, maxBytes, opts);
    const raw = bytes.toString('utf8');
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch {
      out.push({ blob, text: raw, language: 'plaintext' });
      continue;
    }
    const envelope = parsed as { payload?: unknown; payloadType?: unknown };
    let statement: string | undefined;
    if (typeof envelope.payload === 'string' && typeof envelope.payloadType === 'string') {
      const decoded = Buffer.from(envelope.payload, 'base64').toString('utf8');
      try {
        statement = JSON.stringify(JSON.parse(decoded), null, 2);
      } catch {
        statement = decoded;
      }
    }
    out.push({ blob, text: JSON.stringify(parsed, null, 2), language: 'json', ...(statement !== undefined ? { statement } : {}) });
  }
  return out;
}
