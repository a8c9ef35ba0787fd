/**
 * The registry client: one `RegistryClient` for the whole extension, one `Registry` per registry
 * host, each operation a method that takes an optional AbortSignal and throws only `RegistryError`.
 */
import { pipeline, Readable, Transform, type TransformCallback } from 'node:stream';
import { Digester, digestOf, parseDigest } from '../oci/digest';
import { isIndexMediaType } from '../oci/mediaTypes';
import { DOCKER_HUB, registryApiHost } from '../oci/reference';
import type { Descriptor, ImageIndex, ImageManifest, Manifest, Platform } from '../oci/types';
import { isIndex } from '../oci/types';
import { CATALOG_SCOPE, repositoryScope, TokenCache, type CredentialProvider } from './auth';
import { DockerHubApi, DOCKER_HUB_API_URL } from './dockerHub';
import { isRegistryError, RegistryError } from './errors';
import {
  bareMediaType, choosePlatform, DEFAULT_MAX_MANIFEST_BYTES, isDigestReference, MANIFEST_ACCEPT, parsePlatform,
  platformEntries, verifyManifest, type PlatformEntry,
} from './manifests';
import { fallbackNext, nextLink, walkPages, type Page, type PageCursor } from './paging';
import { harborSearchNames, nameMatcher, searchPages, searchTerm, type SearchOptions, type SearchResult, type SearchSource } from './search';
import { RegistrySession, type AuthScheme } from './session';
import { Transport, type HttpResponse, type TransportOptions } from './transport';

export interface RegistryClientOptions extends TransportOptions {
  /** Where credentials come from; called once per registry and remembered until `forget()`. */
  credentials?: CredentialProvider;
  /** OAuth2 `client_id` sent with identity-token grants. */
  clientId?: string;
  maxManifestBytes?: number;
  /** Docker Hub's own API (for listing a namespace); overridable for tests. */
  dockerHubApiUrl?: string;
  /** Clock for token expiry. */
  nowMs?: () => number;
}

export interface CallOptions {
  signal?: AbortSignal;
}

export interface PageOptions extends CallOptions {
  /** Items per page (`n`). Default 100. */
  pageSize?: number;
  /** The `next` of a previous page: fetch the page after it. */
  cursor?: PageCursor;
}

export interface CatalogOptions extends PageOptions {
  /** For registries without a catalog but with a namespace API (Docker Hub): the user or organisation. */
  namespace?: string;
}

export type CatalogPage =
  | { kind: 'page'; page: Page<string>; source: 'catalog' | 'docker-hub' }
  /** The registry does not list its repositories: offer to add repositories by name. */
  | { kind: 'unsupported'; reason: 'unauthorized' | 'denied' | 'not-found' | 'needs-namespace' | 'unsupported'; message: string };

export interface CredentialCheck {
  registry: string;
  /** How the registry asked to authenticate. */
  auth: AuthScheme;
  /** Whether credentials were found and used. */
  signedIn: boolean;
  /** `Docker-Distribution-API-Version`, when sent. */
  apiVersion?: string;
}

export interface ManifestHead {
  digest: string;
  mediaType: string;
  size: number;
}

export interface FetchedManifest extends ManifestHead {
  /** The exact bytes, for retagging and copying without changing the digest. */
  bytes: Buffer;
  manifest: Manifest;
}

export interface ImageConfigInfo {
  /** The image manifest the config came from (for an index: the chosen platform's). */
  manifestDigest: string;
  configDigest: string;
  created?: string;
  os?: string;
  architecture?: string;
  variant?: string;
  /** The whole config document. */
  raw: Record<string, unknown>;
}

export interface ImageSize {
  /** Manifest, config and layers of every platform, each blob counted once. */
  totalBytes: number;
  platforms: Array<{ digest: string; platform?: Platform; attestation: boolean; bytes: number; layersBytes: number }>;
}

export interface Referrers {
  descriptors: Descriptor[];
  /** `api`: the referrers endpoint; `tag`: the `sha256-<hex>` fallback tag; `none`: neither exists. */
  source: 'api' | 'tag' | 'none';
}

export interface BlobUpload {
  digest: string;
  size: number;
  /** The bytes, or a stream factory (called again on a retry), or a one-shot stream. */
  body: Buffer | (() => Readable) | Readable;
  /** Bytes sent so far, as they go. */
  onProgress?: (bytesSent: number) => void;
}

export interface DeleteResult {
  /** What was deleted: the tag itself, or the manifest (and with it every tag pointing at it). */
  deleted: 'tag' | 'manifest';
  digest?: string;
}

const DEFAULT_PAGE_SIZE = 100;
const MAX_CONFIG_BYTES = 8 * 1024 * 1024;
const MAX_REFERRER_PAGES = 100;

function encodePath(repository: string): string {
  return repository.split('/').map(encodeURIComponent).join('/');
}

/** Counts bytes (and hashes them) as a blob streams through. */
class Meter extends Transform {
  readonly digester: Digester;
  bytes = 0;
  constructor(algorithm: 'sha256' | 'sha512', private readonly onProgress?: (bytes: number) => void) {
    super();
    this.digester = new Digester(algorithm);
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.bytes += chunk.length;
    this.digester.update(chunk);
    this.onProgress?.(this.bytes);
    cb(null, chunk);
  }
}

/** Names per catalog page when walking a whole catalog for a search: few requests, well under any page limit. */
const SEARCH_PAGE_SIZE = 1000;
const DOCKER_HUB_SEARCH_MAX_PAGES = 10;

export class RegistryClient {
  private readonly transport: Transport;
  private readonly tokens: TokenCache;
  private readonly registries = new Map<string, Registry>();

  constructor(private readonly opts: RegistryClientOptions = {}) {
    this.transport = new Transport(opts);
    this.tokens = new TokenCache(opts.nowMs);
  }

  /** The registry named as in references: `docker.io`, `ghcr.io`, `localhost:5000`. */
  registry(name: string): Registry {
    let r = this.registries.get(name);
    if (!r) {
      const session = new RegistrySession(name, registryApiHost(name), {
        transport: this.transport, tokens: this.tokens, credentials: this.opts.credentials,
        clientId: this.opts.clientId ?? 'berth', nowMs: this.opts.nowMs ?? Date.now,
      });
      r = new Registry(session, this.opts.maxManifestBytes ?? DEFAULT_MAX_MANIFEST_BYTES, this.opts.dockerHubApiUrl ?? DOCKER_HUB_API_URL);
      this.registries.set(name, r);
    }
    return r;
  }

  /** Forgets credentials and tokens of one registry (after sign-in/out) or of all. */
  forget(name?: string): void {
    for (const [key, r] of this.registries) if (name === undefined || key === name) r.forget();
  }

  /** Closes idle connections. */
  close(): void {
    this.transport.close();
  }
}

export class Registry {
  private hub: DockerHubApi | undefined;
  private readonly pagesWithLink = new Set<'repositories' | 'tags'>();

  constructor(readonly session: RegistrySession, private readonly maxManifestBytes: number, private readonly dockerHubApiUrl: string) {}

  /** As in references: `docker.io`. */
  get name(): string {
    return this.session.registry;
  }

  forget(): void {
    this.session.forget();
    this.hub?.forget();
  }

  /** GET /v2/: is this a registry, and do the credentials work? */
  async checkCredentials(opts: CallOptions = {}): Promise<CredentialCheck> {
    const what = 'check access to the registry';
    let res: HttpResponse;
    try {
      res = await this.session.request({ method: 'GET', path: '/v2/', scopes: [], what, ...opts });
    } catch (e) {
      if (isRegistryError(e, 'not-found')) {
        throw new RegistryError({ kind: 'not-a-registry', host: this.name, status: 404, message: `${this.name} has no registry API at /v2/; check the address (it may be a web page rather than a registry).` });
      }
      throw e;
    }
    const apiVersion = res.header('docker-distribution-api-version');
    await res.drain();
    this.session.markAnonymous();
    const credential = await this.session.getCredential();
    const auth = this.session.authScheme ?? 'anonymous';
    return { registry: this.name, auth, signedIn: auth !== 'anonymous' && credential !== undefined, ...(apiVersion ? { apiVersion } : {}) };
  }

  // ---- listing ------------------------------------------------------------------------------

  /**
   * One page of the registry's repositories. Where a registry has no catalog, the result says so
   * (`unsupported`) instead of throwing, so a tree can offer "add a repository by name".
   */
  async catalogPage(opts: CatalogOptions = {}): Promise<CatalogPage> {
    const pageSize = opts.pageSize ?? DEFAULT_PAGE_SIZE;
    if (this.name === DOCKER_HUB) {
      if (!opts.namespace) {
        return { kind: 'unsupported', reason: 'needs-namespace', message: 'Docker Hub does not list all repositories; name a user or organisation to list its repositories, or add repositories by name.' };
      }
      this.hub ??= new DockerHubApi(this.session.transport, () => this.session.getCredential(), this.dockerHubApiUrl);
      const page = await this.hub.repositoriesPage(opts.namespace, pageSize, opts.cursor?.url, opts.signal);
      return { kind: 'page', page, source: 'docker-hub' };
    }
    try {
      const page = await this.listPage(opts.cursor ?? `/v2/_catalog?n=${pageSize}`, pageSize, [CATALOG_SCOPE], 'list the repositories', 'repositories', opts.signal);
      return { kind: 'page', page, source: 'catalog' };
    } catch (e) {
      if (isRegistryError(e, 'unauthorized')) await this.throwIfCredentialsRefused(opts.signal);
      if (isRegistryError(e) && (e.kind === 'unauthorized' || e.kind === 'denied' || e.kind === 'not-found' || e.kind === 'unsupported')) {
        // Many registries (clouds, Docker Hub mirrors) refuse `_catalog` even to signed-in users.
        const reason = e.kind === 'not-found' ? 'not-found' : e.kind;
        return { kind: 'unsupported', reason, message: `${this.name} does not list its repositories for this account (HTTP ${e.status ?? '?'}). Add repositories by name.` };
      }
      throw e;
    }
  }

  /**
   * A 401 on the catalog means "no catalog for you" only when the credentials themselves are
   * accepted: stale or wrong ones also fail `/v2/`, and then the person must sign in again.
   */
  private async throwIfCredentialsRefused(signal?: AbortSignal): Promise<void> {
    if (!(await this.session.getCredential())) return;
    try {
      await this.checkCredentials(signal ? { signal } : {});
    } catch (check) {
      if (isRegistryError(check, 'unauthorized')) throw check;
    }
  }

  /** Every page of the catalog, fetched as the caller iterates (throws if the registry has none). */
  catalogPages(opts: Omit<CatalogOptions, 'cursor'> = {}): AsyncGenerator<Page<string>> {
    const get = async (cursor?: PageCursor): Promise<Page<string>> => {
      const r = await this.catalogPage({ ...opts, ...(cursor ? { cursor } : {}) });
      if (r.kind === 'unsupported') throw new RegistryError({ kind: 'unsupported', host: this.name, message: r.message });
      return r.page;
    };
    return walkPages(() => get(), get);
  }

  /**
   * Repositories whose name matches `filter` (substring, `*` wildcards) in the whole registry: through
   * `source`'s search API, or by walking every catalog page (`catalog`). Cancelling returns the partial answer.
   */
  async searchRepositories(filter: string, source: SearchSource, opts: SearchOptions & { pageSize?: number } = {}): Promise<SearchResult> {
    const matches = nameMatcher(filter);
    const pageSize = opts.pageSize ?? SEARCH_PAGE_SIZE;
    const signal = opts.signal ? { signal: opts.signal } : {};
    const term = searchTerm(filter);
    switch (source) {
      case 'catalog':
        return searchPages(this.catalogPages({ pageSize, ...signal }), source, matches, opts);
      case 'harbor':
        return searchPages(walkPages(() => this.harborSearch(term, opts.signal), () => Promise.resolve({ items: [] })), source, matches, opts);
      case 'docker-hub': {
        this.hub ??= new DockerHubApi(this.session.transport, () => this.session.getCredential(), this.dockerHubApiUrl);
        const hub = this.hub;
        const page = async (cursor?: PageCursor): Promise<Page<string>> => {
          const p = await hub.searchPage(term, Math.min(pageSize, 100), cursor?.url, opts.signal);
          return { items: p.items, ...(p.next ? { next: { url: p.next } } : {}) };
        };
        // Docker Hub's search ranks by popularity and matches descriptions too: a few pages hold what a person looks for.
        return searchPages(walkPages(() => page(), page, DOCKER_HUB_SEARCH_MAX_PAGES), source, matches, opts);
      }
    }
  }

  /** Harbor's search API (`/api/v2.0/search`): every repository whose name holds `term`, in one answer. */
  private async harborSearch(term: string, signal?: AbortSignal): Promise<Page<string>> {
    const url = new URL(`/api/v2.0/search?q=${encodeURIComponent(term)}`, await this.session.baseUrl(signal));
    const c = await this.session.getCredential();
    const headers: Record<string, string> = { Accept: 'application/json' };
    if (c && 'password' in c) headers['Authorization'] = `Basic ${Buffer.from(`${c.username}:${c.password}`).toString('base64')}`;
    const res = await this.session.transport.send({ method: 'GET', url, headers, what: `search ${this.name} for "${term}"`, ...(signal ? { signal } : {}) });
    const text = await res.text(16 * 1024 * 1024);
    if (res.status !== 200) {
      const kind = res.status === 401 ? 'unauthorized' : res.status === 403 ? 'denied' : res.status === 404 ? 'unsupported' : 'server-error';
      throw new RegistryError({ kind, host: this.name, status: res.status, message: `${this.name} did not answer Harbor's search API (HTTP ${res.status}); is it a Harbor registry?` });
    }
    try {
      return { items: harborSearchNames(JSON.parse(text)) };
    } catch (e) {
      throw new RegistryError({ kind: 'invalid-response', host: this.name, cause: e, message: `${this.name} answered the search with something that is not JSON.` });
    }
  }

  /** One page of a repository's tags, in the registry's (lexical) order. */
  async tagsPage(repository: string, opts: PageOptions = {}): Promise<Page<string>> {
    const pageSize = opts.pageSize ?? DEFAULT_PAGE_SIZE;
    return this.listPage(opts.cursor ?? `/v2/${encodePath(repository)}/tags/list?n=${pageSize}`, pageSize, [repositoryScope(repository, ['pull'])], `list the tags of ${repository}`, 'tags', opts.signal);
  }

  tagsPages(repository: string, opts: Omit<PageOptions, 'cursor'> = {}): AsyncGenerator<Page<string>> {
    return walkPages(() => this.tagsPage(repository, opts), (cursor) => this.tagsPage(repository, { ...opts, cursor }));
  }

  private async listPage(cursor: PageCursor | string, pageSize: number, scopes: string[], what: string, field: 'repositories' | 'tags', signal?: AbortSignal): Promise<Page<string>> {
    const path = typeof cursor === 'string' ? cursor : cursor.url;
    // A registry seen paging with Link ends where Link stops, even for a cursor kept as a bare URL.
    const linked = (typeof cursor !== 'string' && cursor.linked === true) || this.pagesWithLink.has(field);
    const res = await this.session.request({ method: 'GET', path, scopes, what, headers: { Accept: 'application/json' }, ...(signal ? { signal } : {}) });
    // A page of 10,000 long names is well under 16 MiB; anything bigger is not a page.
    const text = await res.text(16 * 1024 * 1024);
    let items: string[];
    try {
      const body = JSON.parse(text) as Record<string, unknown>;
      const list = body[field];
      items = Array.isArray(list) ? list.filter((x): x is string => typeof x === 'string') : [];
    } catch (e) {
      throw new RegistryError({ kind: 'invalid-response', host: this.name, cause: e, message: `${this.name} answered the request to ${what} with something that is not JSON.` });
    }
    const link = nextLink(res.header('link'), res.url);
    if (link) {
      this.pagesWithLink.add(field);
      return { items, next: { url: link.toString(), linked: true } };
    }
    const next = linked ? undefined : fallbackNext(res.url, items, pageSize);
    return { items, ...(next ? { next: { url: next.toString() } } : {}) };
  }

  // ---- manifests ----------------------------------------------------------------------------

  /** HEAD a manifest: its digest, type and size without the body (GET when HEAD gives no digest). */
  async headManifest(repository: string, reference: string, opts: CallOptions = {}): Promise<ManifestHead> {
    const what = `look up ${repository}:${reference}`;
    const res = await this.session.request({
      method: 'HEAD', path: `/v2/${encodePath(repository)}/manifests/${reference}`, scopes: [repositoryScope(repository, ['pull'])], what,
      headers: { Accept: MANIFEST_ACCEPT.join(', ') }, ...opts,
    });
    await res.drain();
    const digest = res.header('docker-content-digest') ?? (isDigestReference(reference) ? reference : undefined);
    const size = Number(res.header('content-length'));
    const mediaType = bareMediaType(res.header('content-type'));
    if (!digest || !Number.isFinite(size) || !mediaType || mediaType === 'application/json') {
      const m = await this.getManifest(repository, reference, opts);
      return { digest: m.digest, mediaType: m.mediaType, size: m.size };
    }
    return { digest, mediaType, size };
  }

  /** GET a manifest with every type accepted, verified against its digest. */
  async getManifest(repository: string, reference: string, opts: CallOptions = {}): Promise<FetchedManifest> {
    const what = `get the manifest of ${repository}${isDigestReference(reference) ? '@' : ':'}${reference}`;
    const res = await this.session.request({
      method: 'GET', path: `/v2/${encodePath(repository)}/manifests/${reference}`, scopes: [repositoryScope(repository, ['pull'])], what,
      headers: { Accept: MANIFEST_ACCEPT.join(', ') }, ...opts,
    });
    const bytes = await res.bytes(this.maxManifestBytes);
    const parsed = verifyManifest(this.name, what, bytes, res.header('content-type'), reference, res.header('docker-content-digest'));
    return { digest: parsed.digest, mediaType: parsed.mediaType, size: bytes.length, bytes, manifest: parsed.manifest };
  }

  /** The platforms of an index (or the one platform of an image, from its config). */
  async platforms(repository: string, reference: string, opts: CallOptions = {}): Promise<PlatformEntry[]> {
    const m = await this.getManifest(repository, reference, opts);
    if (isIndex(m.manifest)) return platformEntries(m.manifest);
    const config = await this.readConfig(repository, m.manifest, m.digest, opts);
    const platform: Platform | undefined = config.os && config.architecture
      ? { os: config.os, architecture: config.architecture, ...(config.variant ? { variant: config.variant } : {}) }
      : undefined;
    return [{ digest: m.digest, mediaType: m.mediaType, size: m.size, attestation: false, ...(platform ? { platform } : {}) }];
  }

  /**
   * The image config (created date, os/arch…). For an index, of `platform` (`linux/arm64`) or the
   * default platform (linux/amd64, else the first image).
   */
  async imageConfig(repository: string, reference: string, opts: CallOptions & { platform?: string } = {}): Promise<ImageConfigInfo> {
    return this.configOf(repository, await this.getManifest(repository, reference, opts), { ...opts, reference });
  }

  /**
   * The image config of a manifest already fetched: the config blob alone for an image manifest
   * (no second fetch of the manifest), the chosen platform's manifest and then its config for an index.
   */
  async configOf(repository: string, fetched: { digest: string; manifest: Manifest }, opts: CallOptions & { platform?: string; reference?: string } = {}): Promise<ImageConfigInfo> {
    const reference = opts.reference ?? fetched.digest;
    const named = `${repository}${isDigestReference(reference) ? '@' : ':'}${reference}`;
    let m = fetched;
    for (let depth = 0; isIndex(m.manifest) && depth < 4; depth++) {
      const entry = choosePlatform(platformEntries(m.manifest), opts.platform ? parsePlatform(opts.platform) : undefined);
      if (!entry) {
        throw new RegistryError({ kind: 'not-found', host: this.name, message: `${named} has no image for platform ${opts.platform ?? 'linux/amd64'}.` });
      }
      m = await this.getManifest(repository, entry.digest, opts);
    }
    if (isIndex(m.manifest)) throw new RegistryError({ kind: 'invalid-response', host: this.name, message: `${named} nests indexes too deeply.` });
    return this.readConfig(repository, m.manifest, m.digest, opts);
  }

  private async readConfig(repository: string, manifest: ImageManifest, manifestDigest: string, opts: CallOptions): Promise<ImageConfigInfo> {
    const bytes = await this.getBlobBytes(repository, manifest.config.digest, MAX_CONFIG_BYTES, opts);
    let raw: Record<string, unknown> = {};
    try {
      const parsed = JSON.parse(bytes.toString('utf8')) as unknown;
      if (parsed && typeof parsed === 'object') raw = parsed as Record<string, unknown>;
    } catch {
      // Artifacts may carry a config that is not JSON; it simply has no image fields.
    }
    const str = (k: string): string | undefined => (typeof raw[k] === 'string' ? (raw[k] as string) : undefined);
    const created = str('created');
    const os = str('os');
    const architecture = str('architecture');
    const variant = str('variant');
    return {
      manifestDigest, configDigest: manifest.config.digest, raw,
      ...(created ? { created } : {}), ...(os ? { os } : {}), ...(architecture ? { architecture } : {}), ...(variant ? { variant } : {}),
    };
  }

  /** Sizes as stored: per platform (manifest + config + layers) and in total with each blob once. */
  async imageSize(repository: string, reference: string, opts: CallOptions = {}): Promise<ImageSize> {
    const top = await this.getManifest(repository, reference, opts);
    const counted = new Map<string, number>([[top.digest, top.size]]);
    const platforms: ImageSize['platforms'] = [];
    const addImage = (digest: string, size: number, image: ImageManifest, platform: Platform | undefined, attestation: boolean): void => {
      const layersBytes = image.layers.reduce((sum, l) => sum + l.size, 0);
      platforms.push({ digest, attestation, bytes: size + image.config.size + layersBytes, layersBytes, ...(platform ? { platform } : {}) });
      counted.set(digest, size);
      for (const d of [image.config, ...image.layers]) counted.set(d.digest, d.size);
    };
    if (isIndex(top.manifest)) {
      for (const entry of platformEntries(top.manifest)) {
        if (isIndexMediaType(entry.mediaType)) continue;
        const child = await this.getManifest(repository, entry.digest, opts);
        if (!isIndex(child.manifest)) addImage(child.digest, child.size, child.manifest, entry.platform, entry.attestation);
      }
    } else {
      addImage(top.digest, top.size, top.manifest, undefined, false);
    }
    let totalBytes = 0;
    for (const size of counted.values()) totalBytes += size;
    return { totalBytes, platforms };
  }

  /** PUT a manifest's exact bytes under a tag or its digest; returns the digest. */
  async putManifest(repository: string, reference: string, bytes: Buffer, mediaType: string, opts: CallOptions = {}): Promise<string> {
    const what = `push the manifest ${repository}:${reference}`;
    const res = await this.session.request({
      method: 'PUT', path: `/v2/${encodePath(repository)}/manifests/${reference}`, scopes: [repositoryScope(repository, ['pull', 'push'])], what,
      headers: { 'Content-Type': mediaType }, body: bytes, ...opts,
    });
    await res.drain();
    const digest = digestOf(bytes);
    const reported = res.header('docker-content-digest');
    if (reported && reported !== digest && !('problem' in parseDigest(reported)) && reported.startsWith('sha256:')) {
      throw new RegistryError({ kind: 'invalid-response', host: this.name, message: `${this.name} stored ${repository}:${reference} as ${reported}, not ${digest}; it changed the manifest.` });
    }
    return digest;
  }

  /** Puts the same manifest bytes under a new tag (no engine, no blob transfer). Returns the digest. */
  async retag(repository: string, fromReference: string, toTag: string, opts: CallOptions = {}): Promise<string> {
    const m = await this.getManifest(repository, fromReference, opts);
    return this.putManifest(repository, toTag, m.bytes, m.mediaType, opts);
  }

  /**
   * Deletes a tag on its own (DELETE by tag). Registries that delete only by digest answer
   * `unsupported`; deleting the manifest instead removes every tag pointing at it, so that is the
   * caller's choice (`deleteManifest`).
   */
  async deleteTag(repository: string, tag: string, opts: CallOptions = {}): Promise<DeleteResult> {
    const what = `delete the tag ${repository}:${tag}`;
    const res = await this.session.request({
      method: 'DELETE', path: `/v2/${encodePath(repository)}/manifests/${tag}`, scopes: [repositoryScope(repository, ['delete'])], what,
      expect: [200, 202, 204, 400], ...opts,
    });
    if (res.status === 400) {
      const err = await this.session.failure(res, { method: 'DELETE', what });
      // The spec's answer when tag deletion is off is 400 (distribution 2.8 says DIGEST_INVALID).
      if (err.code !== 'NAME_INVALID' && err.code !== 'TAG_INVALID') {
        throw new RegistryError({ kind: 'unsupported', host: this.name, status: 400, errors: err.errors, message: `${this.name} does not delete tags on their own. Delete the manifest instead; that removes every tag pointing at it.` });
      }
      throw err;
    }
    await res.drain();
    return { deleted: 'tag' };
  }

  /** Deletes a manifest by digest, resolving a tag to its digest first. */
  async deleteManifest(repository: string, reference: string, opts: CallOptions = {}): Promise<DeleteResult> {
    const digest = isDigestReference(reference) ? reference : (await this.headManifest(repository, reference, opts)).digest;
    const res = await this.session.request({
      method: 'DELETE', path: `/v2/${encodePath(repository)}/manifests/${digest}`, scopes: [repositoryScope(repository, ['delete'])],
      what: `delete the manifest ${repository}@${digest}`, ...opts,
    });
    await res.drain();
    return { deleted: 'manifest', digest };
  }

  /** Referrers of a manifest, from the API or, where it is absent (404), the `sha256-<hex>` tag. */
  async referrers(repository: string, digest: string, opts: CallOptions & { artifactType?: string } = {}): Promise<Referrers> {
    const scopes = [repositoryScope(repository, ['pull'])];
    const filter = (ds: Descriptor[]): Descriptor[] => (opts.artifactType ? ds.filter((d) => d.artifactType === opts.artifactType) : ds);
    let path = `/v2/${encodePath(repository)}/referrers/${digest}${opts.artifactType ? `?artifactType=${encodeURIComponent(opts.artifactType)}` : ''}`;
    const descriptors: Descriptor[] = [];
    for (let page = 0; page < MAX_REFERRER_PAGES; page++) {
      const res = await this.session.request({
        method: 'GET', path, scopes, what: `list the referrers of ${repository}@${digest}`,
        headers: { Accept: 'application/vnd.oci.image.index.v1+json' }, expect: [200, 404], ...(opts.signal ? { signal: opts.signal } : {}),
      });
      if (res.status === 404) {
        await res.drain();
        if (page > 0) break;
        return this.referrersFromTag(repository, digest, filter, opts);
      }
      const body = await res.bytes(this.maxManifestBytes);
      let index: ImageIndex;
      try {
        index = JSON.parse(body.toString('utf8')) as ImageIndex;
      } catch (e) {
        throw new RegistryError({ kind: 'invalid-response', host: this.name, cause: e, message: `${this.name} answered the referrers request with something that is not JSON.` });
      }
      descriptors.push(...(index.manifests ?? []));
      const next = nextLink(res.header('link'), res.url);
      if (!next) break;
      path = next.toString();
    }
    return { descriptors: filter(descriptors), source: 'api' };
  }

  private async referrersFromTag(repository: string, digest: string, filter: (ds: Descriptor[]) => Descriptor[], opts: CallOptions): Promise<Referrers> {
    const parsed = parseDigest(digest);
    if ('problem' in parsed) throw new RegistryError({ kind: 'bad-request', host: this.name, message: `"${digest}" is not a valid digest.` });
    const tag = `${parsed.algorithm}-${parsed.hex.slice(0, 64)}`;
    try {
      const m = await this.getManifest(repository, tag, opts);
      if (!isIndex(m.manifest)) return { descriptors: [], source: 'none' };
      return { descriptors: filter(m.manifest.manifests), source: 'tag' };
    } catch (e) {
      if (isRegistryError(e, 'not-found')) return { descriptors: [], source: 'none' };
      throw e;
    }
  }

  // ---- blobs --------------------------------------------------------------------------------

  /** The blob's size if the repository has it, else undefined. */
  async blobExists(repository: string, digest: string, opts: CallOptions = {}): Promise<number | undefined> {
    const res = await this.session.request({
      method: 'HEAD', path: `/v2/${encodePath(repository)}/blobs/${digest}`, scopes: [repositoryScope(repository, ['pull'])],
      what: `look up the blob ${digest} in ${repository}`, expect: [200, 404], ...opts,
    });
    await res.drain();
    if (res.status === 404) return undefined;
    const size = Number(res.header('content-length'));
    return Number.isFinite(size) ? size : 0;
  }

  /** Streams a blob. The stream is not verified; `getBlobBytes` is, for small blobs. */
  async openBlob(repository: string, digest: string, opts: CallOptions = {}): Promise<{ stream: Readable; size: number | undefined }> {
    const res = await this.session.request({
      method: 'GET', path: `/v2/${encodePath(repository)}/blobs/${digest}`, scopes: [repositoryScope(repository, ['pull'])],
      what: `download the blob ${digest} from ${repository}`, ...opts,
    });
    const size = Number(res.header('content-length'));
    return { stream: res.body, size: Number.isFinite(size) ? size : undefined };
  }

  /** A small blob (a config) in memory, verified against its digest. */
  async getBlobBytes(repository: string, digest: string, maxBytes: number, opts: CallOptions = {}): Promise<Buffer> {
    const res = await this.session.request({
      method: 'GET', path: `/v2/${encodePath(repository)}/blobs/${digest}`, scopes: [repositoryScope(repository, ['pull'])],
      what: `download the blob ${digest} from ${repository}`, ...opts,
    });
    const bytes = await res.bytes(maxBytes);
    const parsed = parseDigest(digest);
    if (!('problem' in parsed) && digestOf(bytes, parsed.algorithm) !== digest) {
      throw new RegistryError({ kind: 'invalid-response', host: this.name, message: `${this.name} returned content for blob ${digest} that does not match its digest.` });
    }
    return bytes;
  }

  /**
   * Mounts a blob from another repository of this registry. Returns true when mounted; false when
   * the registry could not (then nothing was started: the upload session it opened is cancelled).
   */
  async mountBlob(repository: string, digest: string, fromRepository: string, opts: CallOptions = {}): Promise<boolean> {
    const res = await this.session.request({
      method: 'POST', path: `/v2/${encodePath(repository)}/blobs/uploads/?mount=${encodeURIComponent(digest)}&from=${encodeURIComponent(fromRepository)}`,
      scopes: [repositoryScope(repository, ['pull', 'push']), repositoryScope(fromRepository, ['pull'])],
      what: `mount the blob ${digest} from ${fromRepository} into ${repository}`, expect: [201, 202], ...opts,
    });
    await res.drain();
    if (res.status === 201) return true;
    const location = res.header('location');
    if (location) {
      // Best effort: an abandoned session would otherwise linger until the registry purges it.
      await this.session.request({ method: 'DELETE', path: location, scopes: [repositoryScope(repository, ['pull', 'push'])], what: 'cancel an upload', expect: [200, 202, 204, 404, 405], ...opts })
        .then((r) => r.drain(), () => undefined);
    }
    return false;
  }

  /** Uploads a blob (POST then PUT, monolithic), streaming it; the registry verifies the digest. */
  async uploadBlob(repository: string, blob: BlobUpload, opts: CallOptions = {}): Promise<void> {
    // A stream handed in may fail (or be aborted) while the upload session is opened: keep it handled.
    const given = blob.body instanceof Readable ? blob.body : undefined;
    const ignore = (): void => undefined;
    given?.on('error', ignore);
    try {
      await this.uploadBlobTo(repository, blob, opts);
    } finally {
      given?.destroy();
      given?.off('error', ignore);
    }
  }

  private async uploadBlobTo(repository: string, blob: BlobUpload, opts: CallOptions): Promise<void> {
    const scopes = [repositoryScope(repository, ['pull', 'push'])];
    const what = `upload the blob ${blob.digest} to ${repository}`;
    const post = await this.session.request({ method: 'POST', path: `/v2/${encodePath(repository)}/blobs/uploads/`, scopes, what, expect: [202], ...opts });
    await post.drain();
    const location = post.header('location');
    if (!location) throw new RegistryError({ kind: 'invalid-response', host: this.name, message: `${this.name} opened an upload for ${repository} without a Location.` });
    const url = new URL(location, post.url);
    url.searchParams.set('digest', blob.digest);
    const parsed = parseDigest(blob.digest);
    const algorithm = 'problem' in parsed ? 'sha256' : parsed.algorithm;
    const headers = { 'Content-Type': 'application/octet-stream', 'Content-Length': String(blob.size) };
    if (Buffer.isBuffer(blob.body)) {
      const bytes = blob.body;
      blob.onProgress?.(0);
      const res = await this.session.request({ method: 'PUT', path: url.toString(), scopes, what, headers, body: bytes, expect: [201], ...opts });
      await res.drain();
      blob.onProgress?.(bytes.length);
      return;
    }
    const source = typeof blob.body === 'function' ? blob.body() : blob.body;
    const meter = new Meter(algorithm, blob.onProgress);
    // pipeline destroys both streams on any error, so a failed source or upload leaves nothing dangling.
    pipeline(source, meter, () => undefined);
    let res: HttpResponse;
    try {
      res = await this.session.request({ method: 'PUT', path: url.toString(), scopes, what, headers, stream: meter, expect: [201], ...opts });
    } catch (e) {
      meter.destroy();
      throw e;
    }
    await res.drain();
    const sent = meter.digester.digest();
    if (meter.bytes !== blob.size || sent !== blob.digest) {
      throw new RegistryError({ kind: 'invalid-response', host: this.name, message: `The blob ${blob.digest} read ${meter.bytes} bytes with digest ${sent}; the source served different content.` });
    }
  }
}

export type { PlatformEntry };
