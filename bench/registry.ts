/** The distribution-API operations the bench times, written once against the spec for every server. */
import { digestOf } from '../src/oci/digest';
import { MANIFEST_MEDIA_TYPES, MediaType } from '../src/oci/mediaTypes';
import { expectStatus, type GeneratedBlob, type HttpClient, type HttpResult } from './client';

const OCTET = 'application/octet-stream';
const ACCEPT_MANIFESTS = MANIFEST_MEDIA_TYPES.join(', ');

function location(res: HttpResult, what: string): string {
  const loc = res.headers.location;
  if (!loc) throw new Error(`${what}: no Location header (status ${res.status})`);
  return loc;
}

function withDigest(c: HttpClient, loc: string, digest: string): URL {
  const url = c.url(loc);
  url.searchParams.set('digest', digest);
  return url;
}

export async function startUpload(c: HttpClient, repo: string): Promise<string> {
  const res = expectStatus(await c.request('POST', `/v2/${repo}/blobs/uploads/`), 202, 'POST upload');
  return location(res, 'POST upload');
}

/** POST for a session, then one PUT ?digest= carrying the whole blob with Content-Length. */
export async function pushMonolithic(c: HttpClient, repo: string, blob: GeneratedBlob): Promise<void> {
  const loc = await startUpload(c, repo);
  expectStatus(await c.request('PUT', withDigest(c, loc, blob.digest()), {
    headers: { 'content-type': OCTET, 'content-length': blob.size },
    body: blob.chunks(),
  }), 201, 'PUT monolithic');
}

/** POST, one PATCH without Content-Length (chunked transfer encoding, as docker sends), then PUT ?digest=. */
export async function pushStreamed(c: HttpClient, repo: string, blob: GeneratedBlob): Promise<void> {
  const loc = await startUpload(c, repo);
  const patched = expectStatus(await c.request('PATCH', loc, { headers: { 'content-type': OCTET }, body: blob.chunks() }), 202, 'PATCH streamed');
  expectStatus(await c.request('PUT', withDigest(c, location(patched, 'PATCH streamed'), blob.digest())), 201, 'PUT after PATCH');
}

/** POST, PATCHes of `chunkBytes` with Content-Range (following each Location), then PUT ?digest=. */
export async function pushChunked(c: HttpClient, repo: string, blob: GeneratedBlob, chunkBytes: number): Promise<void> {
  let loc = await startUpload(c, repo);
  for (let start = 0; start < blob.size; start += chunkBytes) {
    const end = Math.min(blob.size, start + chunkBytes);
    const res = expectStatus(await c.request('PATCH', loc, {
      headers: { 'content-type': OCTET, 'content-length': end - start, 'content-range': `${start}-${end - 1}` },
      body: blob.chunks(start, end),
    }), 202, `PATCH ${start}-${end - 1}`);
    loc = location(res, 'PATCH chunk');
  }
  expectStatus(await c.request('PUT', withDigest(c, loc, blob.digest())), 201, 'PUT after chunks');
}

/** A small blob in two requests: POST for a session, PUT ?digest= with the bytes. */
export async function pushSmall(c: HttpClient, repo: string, data: Buffer): Promise<string> {
  const digest = digestOf(data);
  const loc = await startUpload(c, repo);
  expectStatus(await c.request('PUT', withDigest(c, loc, digest), { headers: { 'content-type': OCTET }, body: data }), 201, 'PUT small blob');
  return digest;
}

/** GETs a blob, counting and dropping the bytes; returns the byte count. */
export async function pullBlob(c: HttpClient, repo: string, digest: string): Promise<number> {
  const res = expectStatus(await c.request('GET', `/v2/${repo}/blobs/${digest}`, { discardBody: true }), 200, 'GET blob');
  return res.bytes;
}

export async function putManifest(c: HttpClient, repo: string, reference: string, manifest: Buffer, mediaType: string = MediaType.ociManifest): Promise<void> {
  expectStatus(await c.request('PUT', `/v2/${repo}/manifests/${reference}`, { headers: { 'content-type': mediaType }, body: manifest }), 201, `PUT manifest ${reference}`);
}

export async function getManifest(c: HttpClient, repo: string, reference: string): Promise<HttpResult> {
  return expectStatus(await c.request('GET', `/v2/${repo}/manifests/${reference}`, { headers: { accept: ACCEPT_MANIFESTS } }), 200, `GET manifest ${reference}`);
}

/** Pushes a tiny config and layer and returns an OCI image manifest naming them. */
export async function pushSampleImage(c: HttpClient, repo: string, label: string): Promise<Buffer> {
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', config: { Labels: { label } }, rootfs: { type: 'layers', diff_ids: [] } }));
  const layer = Buffer.from(`layer for ${label}\n`.repeat(64));
  const configDigest = await pushSmall(c, repo, config);
  const layerDigest = await pushSmall(c, repo, layer);
  return Buffer.from(JSON.stringify({
    schemaVersion: 2,
    mediaType: MediaType.ociManifest,
    config: { mediaType: MediaType.ociConfig, digest: configDigest, size: config.length },
    layers: [{ mediaType: MediaType.ociLayerTar, digest: layerDigest, size: layer.length }],
  }));
}

export interface TagPage {
  tags: string[];
  pages: number;
}

/** Lists tags, following `Link: <…>; rel="next"` when `pageSize` is given. */
export async function listTags(c: HttpClient, repo: string, pageSize?: number): Promise<TagPage> {
  let next: string | undefined = `/v2/${repo}/tags/list${pageSize === undefined ? '' : `?n=${pageSize}`}`;
  const tags: string[] = [];
  let pages = 0;
  while (next !== undefined && pages < 10_000) {
    const res = expectStatus(await c.request('GET', next), 200, 'GET tags/list');
    pages++;
    const parsed = JSON.parse(res.body.toString('utf8')) as { tags?: string[] | null };
    tags.push(...(parsed.tags ?? []));
    const link = res.headers.link;
    const match = typeof link === 'string' ? /<([^>]+)>\s*;\s*rel="?next"?/.exec(link) : null;
    next = match?.[1];
  }
  return { tags, pages };
}
