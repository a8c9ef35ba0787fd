/**
 * Parsing and checking pushed manifests (pure: no I/O). The registry stores the bytes as they came;
 * this only reads what it needs to check references and index referrers.
 */
import { parseDigest, type ParsedDigest } from '../oci/digest';
import { MediaType } from '../oci/mediaTypes';
import type { Descriptor } from '../oci/types';
import { RegistryError } from './errors';

/** Manifest types the registry accepts. */
export const ACCEPTED_MANIFEST_TYPES: readonly string[] = [MediaType.ociManifest, MediaType.ociIndex, MediaType.dockerManifest, MediaType.dockerManifestList];

export interface ParsedManifest {
  mediaType: string;
  kind: 'image' | 'index';
  /**
   * Blobs the repository must hold (config and layers, minus foreign layers that carry `urls`), as
   * valid digests, each once. Strings rather than parsed digests: a list of 40,000 crosses from a
   * parsing thread as one cheap structured clone.
   */
  blobs: string[];
  /** Manifests the repository must hold (the children of an index), as valid digests, each once. */
  manifests: string[];
  subject?: ParsedDigest;
  /** The manifest's own `mediaType` field; without one, the type its client declared is recorded beside it. */
  typeField?: string;
  /** The referrers API's artifactType: the manifest's own, else (image manifests) the config's media type. */
  artifactType?: string;
  annotations?: Record<string, string>;
}

/**
 * How deep a manifest's JSON may nest. Real manifests nest four or five levels (an index's
 * platform features); V8's JSON.parse slows down more than linearly with depth, so an 8 MiB bomb of
 * brackets would hold the event loop for seconds. Go's encoding/json, which distribution uses, stops at 10,000.
 */
export const MAX_MANIFEST_DEPTH = 64;

/**
 * Follows the nesting depth of JSON as its bytes arrive, without parsing it, so a bomb is recognised
 * while it is still being received, at a few ms per MiB, in slices no longer than one chunk.
 * Byte-wise is exact for UTF-8: `"` and `\` never occur inside a multi-byte character.
 */
export class JsonDepthGuard {
  private depth = 0;
  private inString = false;
  private escaped = false;
  private deepest = 0;

  constructor(readonly maxDepth = MAX_MANIFEST_DEPTH) {}

  /** The deepest nesting seen so far. */
  get maxSeen(): number {
    return this.deepest;
  }

  get exceeded(): boolean {
    return this.deepest > this.maxDepth;
  }

  /** Reads one more chunk; stops reading (and returns false) once the limit is passed. */
  feed(chunk: Uint8Array): boolean {
    if (this.exceeded) return false;
    let { depth, inString, escaped } = this;
    for (let i = 0; i < chunk.length; i++) {
      const c = chunk[i] as number;
      if (inString) {
        if (escaped) escaped = false;
        else if (c === 0x5c) escaped = true;
        else if (c === 0x22) inString = false;
      } else if (c === 0x22) {
        inString = true;
      } else if (c === 0x7b || c === 0x5b) {
        if (++depth > this.deepest) {
          this.deepest = depth;
          if (depth > this.maxDepth) break;
        }
      } else if (c === 0x7d || c === 0x5d) {
        depth--;
      }
    }
    Object.assign(this, { depth, inString, escaped });
    return !this.exceeded;
  }
}

/** The error for a manifest nested deeper than `maxDepth`. */
export function manifestTooDeep(maxDepth = MAX_MANIFEST_DEPTH): RegistryError {
  return invalid(`manifest nests deeper than ${maxDepth} levels of objects and arrays; no manifest needs that many, so it is refused`);
}

/**
 * JSON.parse for manifests, refusing one nested deeper than `MAX_MANIFEST_DEPTH` before parsing.
 * `depthChecked`: the caller already ran a JsonDepthGuard over these bytes.
 */
export function parseManifestJson(bytes: Uint8Array, depthChecked = false): unknown {
  if (!depthChecked) {
    const guard = new JsonDepthGuard();
    if (!guard.feed(bytes)) throw manifestTooDeep(guard.maxDepth);
  }
  try {
    return JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'));
  } catch (e) {
    throw invalid(`manifest is not valid JSON: ${(e as Error).message}`);
  }
}

function invalid(message: string, detail?: unknown): RegistryError {
  return new RegistryError('MANIFEST_INVALID', message, detail);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The media type from a `Content-Type` header, without parameters. */
export function bareMediaType(header: string | undefined): string | undefined {
  const t = header?.split(';')[0]?.trim().toLowerCase();
  return t ? t : undefined;
}

function checkDescriptor(v: unknown, where: string): Descriptor & { parsed: ParsedDigest } {
  if (!isRecord(v)) throw invalid(`${where} is not a descriptor object`);
  const { mediaType, digest, size } = v;
  if (typeof mediaType !== 'string' || mediaType === '') throw invalid(`${where}.mediaType is missing`);
  if (typeof digest !== 'string') throw invalid(`${where}.digest is missing`);
  const parsed = parseDigest(digest);
  if ('problem' in parsed) throw invalid(`${where}.digest "${digest}" is not a valid digest (${parsed.problem})`);
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) throw invalid(`${where}.size must be a non-negative integer`);
  if (v['urls'] !== undefined && !(Array.isArray(v['urls']) && v['urls'].every((u) => typeof u === 'string'))) throw invalid(`${where}.urls must be a list of strings`);
  return { ...(v as unknown as Descriptor), parsed };
}

function unique(digests: string[]): string[] {
  return [...new Set(digests)];
}

/** Infers the type of a manifest without `mediaType` the way distribution does: by its shape. */
export function inferMediaType(doc: Record<string, unknown>): string {
  return Array.isArray(doc['manifests']) ? MediaType.ociIndex : MediaType.ociManifest;
}

/**
 * Parses a pushed manifest. `contentType` is the request's `Content-Type`; when both it and the
 * manifest's `mediaType` field are present they must agree (the spec requires clients to send the
 * field's value), and the type must be one the registry serves.
 */
export function parseManifest(bytes: Uint8Array, contentType: string | undefined, depthChecked = false): ParsedManifest {
  const doc = parseManifestJson(bytes, depthChecked);
  if (!isRecord(doc)) throw invalid('manifest is not a JSON object');
  const header = bareMediaType(contentType);
  const field = doc['mediaType'];
  if (field !== undefined && typeof field !== 'string') throw invalid('mediaType must be a string');
  if (header === MediaType.dockerSchema1 || header === MediaType.dockerSchema1Signed || doc['schemaVersion'] === 1) {
    throw invalid('Docker schema 1 manifests are not supported; push a schema 2 or OCI manifest');
  }
  if (doc['schemaVersion'] !== 2) throw invalid('schemaVersion must be 2');
  const headerIsManifestType = header !== undefined && ACCEPTED_MANIFEST_TYPES.includes(header);
  if (field && header && headerIsManifestType && field !== header) {
    throw invalid(`Content-Type "${header}" does not match the manifest's mediaType "${field}"`);
  }
  const mediaType = field || (headerIsManifestType ? header : undefined) || inferMediaType(doc);
  if (!ACCEPTED_MANIFEST_TYPES.includes(mediaType)) throw invalid(`unsupported manifest media type "${mediaType}"`);

  const artifactTypeField = doc['artifactType'];
  if (artifactTypeField !== undefined && typeof artifactTypeField !== 'string') throw invalid('artifactType must be a string');
  const annotations = doc['annotations'];
  if (annotations !== undefined && !(isRecord(annotations) && Object.values(annotations).every((a) => typeof a === 'string'))) {
    throw invalid('annotations must map strings to strings');
  }
  const subject = doc['subject'] === undefined ? undefined : checkDescriptor(doc['subject'], 'subject').parsed;
  const common = {
    mediaType,
    ...(field ? { typeField: field } : {}),
    ...(subject ? { subject } : {}),
    ...(annotations ? { annotations: annotations as Record<string, string> } : {}),
  };

  if (mediaType === MediaType.ociIndex || mediaType === MediaType.dockerManifestList) {
    const list = doc['manifests'];
    if (!Array.isArray(list)) throw invalid('an index needs a manifests list');
    const manifests = unique(list.map((m, i) => checkDescriptor(m, `manifests[${i}]`).parsed.digest));
    return { ...common, kind: 'index', blobs: [], manifests, ...(artifactTypeField ? { artifactType: artifactTypeField } : {}) };
  }
  const config = checkDescriptor(doc['config'], 'config');
  const layersField = doc['layers'];
  if (!Array.isArray(layersField)) throw invalid('an image manifest needs a layers list');
  const layers = layersField.map((l, i) => checkDescriptor(l, `layers[${i}]`));
  // Foreign layers (with urls) live elsewhere by design; the registry need not hold them.
  const blobs = unique([config.parsed.digest, ...layers.filter((l) => !(l.urls && l.urls.length > 0)).map((l) => l.parsed.digest)]);
  return { ...common, kind: 'image', blobs, manifests: [], artifactType: artifactTypeField || config.mediaType };
}

/**
 * What a stored manifest says of its own type: its `mediaType` field, or undefined when it has none
 * (then the type its client declared, recorded beside it, decides), and the type its shape implies.
 */
export function manifestOwnType(bytes: Uint8Array): { field: string | undefined; shape: string } {
  try {
    const doc = parseManifestJson(bytes);
    if (isRecord(doc)) {
      const field = doc['mediaType'];
      if (typeof field === 'string' && field) return { field, shape: field };
      if (doc['schemaVersion'] === 1) return { field: undefined, shape: doc['signatures'] ? MediaType.dockerSchema1Signed : MediaType.dockerSchema1 };
      return { field: undefined, shape: inferMediaType(doc) };
    }
  } catch {
    /* not JSON, or a bomb stored by another registry: served as it is, with the recorded or a neutral type */
  }
  return { field: undefined, shape: 'application/octet-stream' };
}

/** What the referrers index keeps of a manifest that names a subject. */
export type ReferrerFacts = Pick<ParsedManifest, 'mediaType' | 'artifactType' | 'annotations'> & { subject: ParsedDigest };

/**
 * Whether a manifest may name a subject, without parsing it: most do not, and parsing a large
 * manifest a second time after the handler's check would double its cost. Escapes could spell the key.
 */
function maySubject(bytes: Uint8Array): boolean {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return b.includes('"subject"') || b.includes('\\u');
}

/** The referrer facts of a stored manifest served as `mediaType`; undefined when it names no subject or does not parse. */
export function manifestReferrer(bytes: Uint8Array, mediaType: string): ReferrerFacts | undefined {
  if (!maySubject(bytes)) return undefined;
  let parsed: ParsedManifest;
  try {
    parsed = parseManifest(bytes, mediaType);
  } catch {
    return undefined;
  }
  return parsed.subject ? referrerFacts(parsed, parsed.subject) : undefined;
}

/** The few fields of a parsed manifest that the referrers index needs. */
export function referrerFacts(m: ParsedManifest, subject: ParsedDigest): ReferrerFacts {
  return {
    mediaType: m.mediaType, subject,
    ...(m.artifactType ? { artifactType: m.artifactType } : {}),
    ...(m.annotations ? { annotations: m.annotations } : {}),
  };
}

/** The referrers-API descriptor of a manifest. */
export function referrerDescriptor(m: Omit<ReferrerFacts, 'subject'>, digest: string, size: number): Descriptor {
  return {
    mediaType: m.mediaType,
    digest,
    size,
    ...(m.artifactType ? { artifactType: m.artifactType } : {}),
    ...(m.annotations ? { annotations: m.annotations } : {}),
  };
}
