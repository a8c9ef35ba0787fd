/**
 * Images assembled in code, without any base image or network: layers (random bytes or real tar
 * archives), a config, OCI or Docker schema 2 manifests, multi-platform indexes and artifacts with a
 * `subject`; pushed to and read from any registry over plain HTTP with fetch.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { digestOf } from '../../src/oci/digest';
import { MediaType } from '../../src/oci/mediaTypes';
import type { Descriptor, ImageIndex, ImageManifest, Platform } from '../../src/oci/types';

/** Uncompressed layer types are not in `MediaType` because Docker schema 2 rarely uses them. */
const DOCKER_LAYER_TAR = 'application/vnd.docker.image.rootfs.diff.tar';

export type ManifestFormat = 'oci' | 'docker';

/** A blob with its descriptor: what a registry stores and a manifest points to. */
export interface BlobContent {
  descriptor: Descriptor;
  bytes: Buffer;
}

export interface Layer extends BlobContent {
  /** Digest of the uncompressed content: the config's `rootfs.diff_ids` entry. */
  diffId: string;
}

export interface LayerOptions {
  /** gzip the content (the descriptor then names the gzip media type). Default false. */
  gzip?: boolean;
  format?: ManifestFormat;
  /** Overrides the media type chosen from format and compression. */
  mediaType?: string;
  annotations?: Record<string, string>;
}

export interface BuiltManifest {
  /** The exact bytes pushed; registries must store and serve them unchanged. */
  bytes: Buffer;
  digest: string;
  mediaType: string;
  /** A descriptor of this manifest, to put in an index or a `subject`. */
  descriptor: Descriptor;
}

export interface BuiltImage extends BuiltManifest {
  kind: 'image';
  manifest: ImageManifest;
  config: BlobContent;
  layers: Layer[];
  platform: Platform;
}

export interface BuiltIndex extends BuiltManifest {
  kind: 'index';
  manifest: ImageIndex;
  /** Each child, pushed before the index. */
  images: BuiltImage[];
}

export type Built = BuiltImage | BuiltIndex;

export function blobOf(bytes: Buffer | string, mediaType: string, annotations?: Record<string, string>): BlobContent {
  const buf = typeof bytes === 'string' ? Buffer.from(bytes) : bytes;
  return { bytes: buf, descriptor: { mediaType, digest: digestOf(buf), size: buf.length, ...(annotations ? { annotations } : {}) } };
}

/** A layer of the given content (usually a tar archive from `tarArchive`). */
export function layerOf(content: Buffer | string, opts: LayerOptions = {}): Layer {
  const raw = typeof content === 'string' ? Buffer.from(content) : content;
  const gzip = opts.gzip ?? false;
  const format = opts.format ?? 'oci';
  const bytes = gzip ? gzipSync(raw) : raw;
  const mediaType = opts.mediaType ?? (format === 'docker'
    ? (gzip ? MediaType.dockerLayerGzip : DOCKER_LAYER_TAR)
    : (gzip ? MediaType.ociLayerGzip : MediaType.ociLayerTar));
  return { ...blobOf(bytes, mediaType, opts.annotations), diffId: digestOf(raw) };
}

/** A layer of `sizeBytes` random bytes: unique content, so every push really uploads. */
export function randomLayer(sizeBytes = 1024, opts: LayerOptions = {}): Layer {
  return layerOf(randomBytes(sizeBytes), opts);
}

/** A minimal ustar archive of regular files (paths relative, `/`-separated, mode 0755 for `exec`). */
export function tarArchive(files: Record<string, Buffer | string>, opts: { exec?: string[] } = {}): Buffer {
  const parts: Buffer[] = [];
  for (const [path, content] of Object.entries(files)) {
    const data = typeof content === 'string' ? Buffer.from(content) : content;
    if (Buffer.byteLength(path) > 100) throw new Error(`tar path too long for ustar without a prefix: ${path}`);
    const header = Buffer.alloc(512);
    header.write(path, 0, 100, 'utf8');
    header.write((opts.exec?.includes(path) ? '0000755' : '0000644') + '\0', 100, 8, 'ascii');
    header.write('0000000\0', 108, 8, 'ascii');
    header.write('0000000\0', 116, 8, 'ascii');
    header.write(data.length.toString(8).padStart(11, '0') + '\0', 124, 12, 'ascii');
    header.write('00000000000\0', 136, 12, 'ascii');
    header.write('        ', 148, 8, 'ascii');
    header.write('0', 156, 1, 'ascii');
    header.write('ustar\0', 257, 6, 'ascii');
    header.write('00', 263, 2, 'ascii');
    let sum = 0;
    for (const b of header) sum += b;
    header.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 8, 'ascii');
    parts.push(header, data, Buffer.alloc((512 - (data.length % 512)) % 512));
  }
  parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}

export interface ConfigOptions {
  platform?: Platform;
  /** RFC 3339; fixed by default so that the same inputs give the same digest. */
  created?: string;
  diffIds?: string[];
  cmd?: string[];
  labels?: Record<string, string>;
  format?: ManifestFormat;
}

export const DEFAULT_PLATFORM: Platform = { os: 'linux', architecture: 'amd64' };
export const DEFAULT_CREATED = '2024-01-01T00:00:00Z';

export function imageConfig(opts: ConfigOptions = {}): BlobContent {
  const platform = opts.platform ?? DEFAULT_PLATFORM;
  const config = {
    created: opts.created ?? DEFAULT_CREATED,
    architecture: platform.architecture,
    os: platform.os,
    ...(platform.variant ? { variant: platform.variant } : {}),
    config: { ...(opts.cmd ? { Cmd: opts.cmd } : {}), ...(opts.labels ? { Labels: opts.labels } : {}) },
    rootfs: { type: 'layers', diff_ids: opts.diffIds ?? [] },
  };
  return blobOf(JSON.stringify(config), opts.format === 'docker' ? MediaType.dockerConfig : MediaType.ociConfig);
}

function manifestOf(value: object, mediaType: string, platform?: Platform, artifactType?: string): BuiltManifest {
  const bytes = Buffer.from(JSON.stringify(value, null, 2));
  const digest = digestOf(bytes);
  return {
    bytes, digest, mediaType,
    descriptor: { mediaType, digest, size: bytes.length, ...(platform ? { platform } : {}), ...(artifactType ? { artifactType } : {}) },
  };
}

export interface ImageOptions {
  format?: ManifestFormat;
  /** Layers as built by `layerOf`/`randomLayer`; one random 1 KiB layer by default. */
  layers?: Layer[];
  platform?: Platform;
  created?: string;
  cmd?: string[];
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  /** Makes this image a referrer of another manifest (OCI only). */
  subject?: Descriptor;
  artifactType?: string;
  /** Replaces the generated config blob (for artifacts with their own config type). */
  config?: BlobContent;
}

export function buildImage(opts: ImageOptions = {}): BuiltImage {
  const format = opts.format ?? 'oci';
  if (format === 'docker' && (opts.subject || opts.artifactType)) throw new Error('Docker schema 2 manifests have no subject or artifactType; use format "oci"');
  const layers = opts.layers ?? [randomLayer(1024, { format, gzip: format === 'docker' })];
  const platform = opts.platform ?? DEFAULT_PLATFORM;
  const config = opts.config ?? imageConfig({
    platform, format, diffIds: layers.map((l) => l.diffId),
    ...(opts.created ? { created: opts.created } : {}), ...(opts.cmd ? { cmd: opts.cmd } : {}), ...(opts.labels ? { labels: opts.labels } : {}),
  });
  const mediaType = format === 'docker' ? MediaType.dockerManifest : MediaType.ociManifest;
  const manifest: ImageManifest = {
    schemaVersion: 2,
    mediaType,
    ...(opts.artifactType ? { artifactType: opts.artifactType } : {}),
    config: config.descriptor,
    layers: layers.map((l) => l.descriptor),
    ...(opts.subject ? { subject: opts.subject } : {}),
    ...(opts.annotations ? { annotations: opts.annotations } : {}),
  };
  return { kind: 'image', manifest, config, layers, platform, ...manifestOf(manifest, mediaType, platform, opts.artifactType) };
}

export interface IndexOptions {
  format?: ManifestFormat;
  /** One image per platform; built with `buildImage` in the same format by default. */
  images?: BuiltImage[];
  platforms?: Platform[];
  annotations?: Record<string, string>;
  subject?: Descriptor;
  artifactType?: string;
}

export const MULTI_PLATFORMS: Platform[] = [
  { os: 'linux', architecture: 'amd64' },
  { os: 'linux', architecture: 'arm64', variant: 'v8' },
  { os: 'linux', architecture: 'arm', variant: 'v7' },
];

/** An OCI image index or a Docker manifest list over several platforms. */
export function buildIndex(opts: IndexOptions = {}): BuiltIndex {
  const format = opts.format ?? 'oci';
  const images = opts.images ?? (opts.platforms ?? MULTI_PLATFORMS).map((platform) => buildImage({ format, platform }));
  const mediaType = format === 'docker' ? MediaType.dockerManifestList : MediaType.ociIndex;
  const manifest: ImageIndex = {
    schemaVersion: 2,
    mediaType,
    ...(opts.artifactType ? { artifactType: opts.artifactType } : {}),
    manifests: images.map((i) => ({ mediaType: i.mediaType, digest: i.digest, size: i.bytes.length, platform: i.platform })),
    ...(opts.subject ? { subject: opts.subject } : {}),
    ...(opts.annotations ? { annotations: opts.annotations } : {}),
  };
  return { kind: 'index', manifest, images, ...manifestOf(manifest, mediaType, undefined, opts.artifactType) };
}

/** The OCI empty descriptor's content: `{}`. */
export const EMPTY_CONFIG: BlobContent = blobOf('{}', MediaType.ociEmpty);

export interface ArtifactOptions {
  subject: Descriptor;
  artifactType: string;
  /** Payload blobs; one small random blob by default. */
  blobs?: BlobContent[];
  annotations?: Record<string, string>;
}

/** An OCI artifact (empty config, `artifactType`) that refers to `subject`, as `oras attach` makes. */
export function buildArtifact(opts: ArtifactOptions): BuiltImage {
  const blobs = opts.blobs ?? [blobOf(randomBytes(64), 'application/octet-stream')];
  const layers: Layer[] = blobs.map((b) => ({ ...b, diffId: b.descriptor.digest }));
  return buildImage({
    format: 'oci', config: EMPTY_CONFIG, layers, subject: opts.subject, artifactType: opts.artifactType,
    ...(opts.annotations ? { annotations: opts.annotations } : {}),
  });
}

/** Every blob and manifest of `built` (children first), each once. */
export function contentOf(built: Built): BlobContent[] {
  const seen = new Map<string, BlobContent>();
  const add = (c: BlobContent): void => void (seen.has(c.descriptor.digest) || seen.set(c.descriptor.digest, c));
  const visit = (b: Built): void => {
    if (b.kind === 'index') b.images.forEach(visit);
    else [b.config, ...b.layers].forEach(add);
    add({ bytes: b.bytes, descriptor: b.descriptor });
  };
  visit(built);
  return [...seen.values()];
}

/**
 * Writes `built` as an OCI image layout (`oci-layout`, `index.json`, `blobs/`) under `dir`, its top
 * manifest named `refName` (`org.opencontainers.image.ref.name`), for `skopeo copy oci:DIR:REF`.
 */
export function writeOciLayout(dir: string, built: Built, refName: string): void {
  for (const c of contentOf(built)) {
    const [algorithm, hex] = c.descriptor.digest.split(':') as [string, string];
    mkdirSync(join(dir, 'blobs', algorithm), { recursive: true });
    writeFileSync(join(dir, 'blobs', algorithm, hex), c.bytes);
  }
  writeFileSync(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  const top: Descriptor = { ...built.descriptor, annotations: { 'org.opencontainers.image.ref.name': refName } };
  delete top.platform;
  writeFileSync(join(dir, 'index.json'), JSON.stringify({ schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: [top] }));
}

// ---------------------------------------------------------------------------------------------
// Plain HTTP, as the spec words each call.

export class RegistryHttpError extends Error {
  constructor(readonly what: string, readonly status: number, readonly body: string) {
    super(`${what}: HTTP ${status} ${body.slice(0, 500)}`);
  }
}

async function expectStatus(res: Response, expected: number[], what: string): Promise<Response> {
  if (!expected.includes(res.status)) throw new RegistryHttpError(what, res.status, await res.text());
  return res;
}

/** Resolves an upload `Location` (absolute or relative, possibly with its own query) and adds `params`. */
export function uploadUrl(baseUrl: string, location: string, params: Record<string, string> = {}): string {
  const url = new URL(location, baseUrl);
  for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
  return url.toString();
}

export type MonolithicMode = 'post-put' | 'single-post';
/**
 * How a blob travels: monolithic (`post-put`, `single-post`), `chunked` (PATCHes with Content-Range,
 * then a PUT), or `streamed` (one PATCH without Content-Range, as docker sends, then a PUT).
 */
export type UploadMode = MonolithicMode | 'chunked' | 'streamed';

/** Chunk size for `chunked` uploads; small so that even test blobs take several PATCHes. */
export const CHUNK_BYTES = 64 * 1024;

/**
 * Pushes one blob and returns its digest. `single-post` sends the bytes with the POST (end-4b) and,
 * as the spec tells clients, falls back to a PUT when the registry answers 202.
 */
export async function pushBlob(baseUrl: string, repo: string, bytes: Buffer, mode: UploadMode = 'post-put'): Promise<string> {
  const digest = digestOf(bytes);
  const what = `push blob ${digest} to ${repo} (${mode})`;
  const headers = { 'Content-Type': 'application/octet-stream' };
  let res: Response;
  if (mode === 'single-post') {
    res = await expectStatus(await fetch(`${baseUrl}/v2/${repo}/blobs/uploads/?digest=${digest}`, { method: 'POST', headers, body: bytes }), [201, 202], what);
    if (res.status === 201) {
      await res.arrayBuffer();
      return digest;
    }
  } else {
    res = await expectStatus(await fetch(`${baseUrl}/v2/${repo}/blobs/uploads/`, { method: 'POST', headers: { 'Content-Length': '0' } }), [202], what);
  }
  await res.arrayBuffer();
  let location = res.headers.get('location');
  if (!location) throw new Error(`${what}: 202 without Location`);
  let rest = bytes;
  if (mode === 'streamed') {
    // A ReadableStream body makes fetch send chunked transfer encoding with no Content-Length.
    const body = new ReadableStream<Uint8Array>({ start(c) { c.enqueue(bytes); c.close(); } });
    const patch = await expectStatus(await fetch(uploadUrl(baseUrl, location), { method: 'PATCH', headers, body, duplex: 'half' } as RequestInit), [202], what);
    await patch.arrayBuffer();
    location = patch.headers.get('location') ?? location;
    rest = Buffer.alloc(0);
  } else if (mode === 'chunked') {
    for (let offset = 0; offset < bytes.length; offset += CHUNK_BYTES) {
      const chunk = bytes.subarray(offset, offset + CHUNK_BYTES);
      const patch = await expectStatus(await fetch(uploadUrl(baseUrl, location), {
        method: 'PATCH', body: chunk,
        headers: { ...headers, 'Content-Range': `${offset}-${offset + chunk.length - 1}`, 'Content-Length': String(chunk.length) },
      }), [202], what);
      await patch.arrayBuffer();
      location = patch.headers.get('location') ?? location;
    }
    rest = Buffer.alloc(0);
  }
  const put = await expectStatus(await fetch(uploadUrl(baseUrl, location, { digest }), { method: 'PUT', headers, body: rest }), [201], what);
  await put.arrayBuffer();
  return digest;
}

export interface PushedManifest {
  digest: string;
  status: number;
  headers: Headers;
}

export async function pushManifest(baseUrl: string, repo: string, reference: string, m: BuiltManifest): Promise<PushedManifest> {
  const res = await expectStatus(await fetch(`${baseUrl}/v2/${repo}/manifests/${reference}`, {
    method: 'PUT', headers: { 'Content-Type': m.mediaType }, body: m.bytes,
  }), [201], `push manifest ${reference} to ${repo}`);
  await res.arrayBuffer();
  return { digest: res.headers.get('docker-content-digest') ?? m.digest, status: res.status, headers: res.headers };
}

/**
 * Pushes an image (config, layers, manifest) or an index (every child image by digest, then the index)
 * under `reference` (a tag, or the manifest's digest when omitted). Returns the manifest's digest as
 * the registry reported it.
 */
export async function pushBuilt(baseUrl: string, repo: string, built: Built, reference?: string, mode: UploadMode = 'post-put'): Promise<PushedManifest> {
  if (built.kind === 'index') {
    for (const image of built.images) await pushBuilt(baseUrl, repo, image, undefined, mode);
  } else {
    for (const blob of [built.config, ...built.layers]) await pushBlob(baseUrl, repo, blob.bytes, mode);
  }
  return pushManifest(baseUrl, repo, reference ?? built.digest, built);
}

/** Every Accept a manifest GET should send so any stored type comes back as it was pushed. */
export const MANIFEST_ACCEPT = [MediaType.ociManifest, MediaType.ociIndex, MediaType.dockerManifest, MediaType.dockerManifestList].join(', ');

export interface Fetched {
  status: number;
  headers: Headers;
  bytes: Buffer;
}

async function fetched(res: Response): Promise<Fetched> {
  return { status: res.status, headers: res.headers, bytes: Buffer.from(await res.arrayBuffer()) };
}

export async function getManifest(baseUrl: string, repo: string, reference: string, accept = MANIFEST_ACCEPT): Promise<Fetched> {
  return fetched(await fetch(`${baseUrl}/v2/${repo}/manifests/${reference}`, { headers: { Accept: accept } }));
}

export async function headManifest(baseUrl: string, repo: string, reference: string, accept = MANIFEST_ACCEPT): Promise<Fetched> {
  return fetched(await fetch(`${baseUrl}/v2/${repo}/manifests/${reference}`, { method: 'HEAD', headers: { Accept: accept } }));
}

export async function getBlob(baseUrl: string, repo: string, digest: string, headers: Record<string, string> = {}): Promise<Fetched> {
  return fetched(await fetch(`${baseUrl}/v2/${repo}/blobs/${digest}`, { headers }));
}

export async function headBlob(baseUrl: string, repo: string, digest: string): Promise<Fetched> {
  return fetched(await fetch(`${baseUrl}/v2/${repo}/blobs/${digest}`, { method: 'HEAD' }));
}

export async function deleteManifest(baseUrl: string, repo: string, reference: string): Promise<number> {
  const res = await fetch(`${baseUrl}/v2/${repo}/manifests/${reference}`, { method: 'DELETE' });
  await res.arrayBuffer();
  return res.status;
}

/** Points `tag` at the manifest `from` names, pushing the exact bytes the registry serves. */
export async function retag(baseUrl: string, repo: string, from: string, tag: string): Promise<PushedManifest> {
  const got = await getManifest(baseUrl, repo, from);
  if (got.status !== 200) throw new RegistryHttpError(`retag ${repo}:${from}`, got.status, got.bytes.toString());
  const mediaType = got.headers.get('content-type') ?? '';
  const digest = digestOf(got.bytes);
  return pushManifest(baseUrl, repo, tag, { bytes: got.bytes, digest, mediaType, descriptor: { mediaType, digest, size: got.bytes.length } });
}

export async function listTags(baseUrl: string, repo: string): Promise<string[]> {
  const res = await expectStatus(await fetch(`${baseUrl}/v2/${repo}/tags/list`), [200], `list tags of ${repo}`);
  const body = (await res.json()) as { tags?: string[] | null };
  return body.tags ?? [];
}

export async function getReferrers(baseUrl: string, repo: string, digest: string, artifactType?: string): Promise<Fetched & { index: ImageIndex | undefined }> {
  const q = artifactType ? `?artifactType=${encodeURIComponent(artifactType)}` : '';
  const f = await fetched(await fetch(`${baseUrl}/v2/${repo}/referrers/${digest}${q}`));
  let index: ImageIndex | undefined;
  if (f.status === 200) index = JSON.parse(f.bytes.toString()) as ImageIndex;
  return { ...f, index };
}
