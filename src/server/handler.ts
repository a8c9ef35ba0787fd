/**
 * The registry API (OCI distribution spec v1.1.1, end-1 … end-13, plus `_catalog`) as a handler over
 * node:http's request and response: routing, validation, access checks, and the spec's JSON errors.
 * Storage does the I/O; server.ts does listening and shutdown.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { digestOf, parseDigest, type DigestAlgorithm, type ParsedDigest } from '../oci/digest';
import { MediaType } from '../oci/mediaTypes';
import { MAX_NAME_WITH_HOST, REPOSITORY_NAME, TAG } from '../oci/names';
import { RegistryError, RegistryErrors } from './errors';
import { allowAll, type Access, type EventTarget, type RegistryEvent, type RequestRecord, type ServerHooks } from './hooks';
import { isUploadId } from './layout';
import { JsonDepthGuard, manifestTooDeep, type ParsedManifest } from './manifest';
import { INLINE_PARSE_MAX_BYTES, inlineManifestParser, type ManifestParser } from './manifestParser';
import { runPool } from '../oci/pool';
import { DigestMismatchError, sendBlob, StorageError, StoreUnavailableError, UploadOffsetError, UploadUnknownError, type BlobInfo, type ManifestRef, type Storage } from './storage';

export interface HandlerOptions {
  storage: Storage;
  hooks: ServerHooks;
  /** DELETE of manifests, tags and blobs (distribution's `storage.delete.enabled`). */
  deleteEnabled: boolean;
  maxManifestBytes: number;
  /** Where the storage lives (the root folder), named when the disk is full. */
  storageName?: string;
  /** Called for failures that are the server's fault (5xx), with the request id. */
  onServerError?: (error: unknown, requestId: string) => void;
  /** Parses pushed manifests (default: on the event loop, for small manifests only). */
  manifestParser?: ManifestParser;
}

/** A manifest body over the limit is read and dropped up to this size, beyond it the connection is cut. */
const DISCARD_LIMIT_BYTES = 64 * 1024 * 1024;
/** Existence checks of a pushed manifest's references running at once. */
const REFERENCE_CHECKS_IN_FLIGHT = 16;
/** Missing references named in one MANIFEST_BLOB_UNKNOWN answer; checking stops there. */
const MAX_REPORTED_MISSING = 100;

/** Larger pages are cut here and continued through `Link`, as the spec allows. */
const MAX_PAGE_ENTRIES = 10_000;

interface Ctx {
  req: IncomingMessage;
  res: ServerResponse;
  id: string;
  method: string;
  query: URLSearchParams;
  route: string;
  repository?: string;
  user?: string;
}

type RouteHandler = (ctx: Ctx, params: string[]) => Promise<void>;

interface Route {
  name: string;
  /** The first group, when the route has one, is the repository name: checkName runs before the handler. */
  pattern: RegExp;
  methods: Partial<Record<string, RouteHandler>>;
}

/** Lexical order as the spec words it ("case-insensitive alphanumeric"), ties broken by byte order so it is total. */
export function lexicalCompare(a: string, b: string): number {
  const la = a.toLowerCase();
  const lb = b.toLowerCase();
  if (la !== lb) return la < lb ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Sorts by `lexicalCompare`, lowering each entry once rather than per comparison. */
export function sortLexically(list: string[]): string[] {
  return list.map((v) => ({ v, l: v.toLowerCase() }))
    .sort((a, b) => (a.l !== b.l ? (a.l < b.l ? -1 : 1) : a.v < b.v ? -1 : a.v > b.v ? 1 : 0))
    .map((e) => e.v);
}

/** One page of a sorted list: entries after `last`, at most `n`, and whether more follow. */
export function pageOf(sorted: string[], n: number | undefined, last: string | undefined): { items: string[]; more: boolean } {
  let start = 0;
  if (last !== undefined) {
    start = sorted.findIndex((t) => lexicalCompare(t, last) > 0);
    if (start < 0) start = sorted.length;
  }
  const limit = n === undefined ? Math.max(sorted.length - start, 0) : Math.min(n, MAX_PAGE_ENTRIES);
  const items = sorted.slice(start, start + limit);
  return { items, more: limit > 0 && start + limit < sorted.length };
}

/** `Range: bytes=…` for a blob of `size` bytes: one range, or undefined to send it whole. */
export function parseRange(header: string | undefined, size: number): { start: number; end: number } | 'unsatisfiable' | undefined {
  if (!header) return undefined;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  // Multiple ranges or other units: RFC 9110 lets a server ignore Range and send everything.
  if (!m || (m[1] === '' && m[2] === '')) return undefined;
  const [, a = '', b = ''] = m;
  let start: number;
  let end: number;
  if (a === '') {
    const suffix = Number(b);
    if (suffix === 0) return 'unsatisfiable';
    start = Math.max(0, size - suffix);
    end = size - 1;
  } else {
    start = Number(a);
    end = b === '' ? size - 1 : Math.min(Number(b), size - 1);
    if (b !== '' && Number(b) < start) return undefined;
  }
  if (start >= size || !Number.isSafeInteger(start)) return 'unsatisfiable';
  return { start, end };
}

/** `Content-Range` of an upload chunk: `<start>-<end>` inclusive (some clients prefix `bytes `). */
export function parseContentRange(header: string | undefined): { start: number; end: number } | undefined | 'invalid' {
  if (header === undefined) return undefined;
  const m = /^(?:bytes[ =])?(\d+)-(\d+)(?:\/(?:\d+|\*))?$/.exec(header.trim());
  if (!m) return 'invalid';
  const start = Number(m[1]);
  const end = Number(m[2]);
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end)) return 'invalid';
  return { start, end };
}

/** Validates a repository name from a request path: the spec's regex, ≤ 255 characters with the host. */
export function checkName(name: string, host = ''): void {
  if (!REPOSITORY_NAME.test(name)) {
    throw new RegistryError('NAME_INVALID', `"${name.slice(0, 300)}" is not a valid repository name: use lowercase letters, digits and separators (. _ __ -), with / between components`, { name: name.slice(0, 300) });
  }
  if (name.length + (host ? host.length + 1 : 0) > MAX_NAME_WITH_HOST) {
    throw new RegistryError('NAME_INVALID', `repository name is too long: with the host it must be at most ${MAX_NAME_WITH_HOST} characters`, { name });
  }
}

export function checkDigest(value: string | null | undefined, what = 'digest'): ParsedDigest {
  if (!value) throw new RegistryError('DIGEST_INVALID', `the ${what} is missing`);
  const d = parseDigest(value);
  if ('problem' in d) {
    const why = d.problem === 'unsupported-algorithm' ? 'only sha256 and sha512 are supported'
      : d.problem === 'bad-length' ? 'the hex part has the wrong length or is not lowercase hex'
        : 'expected algorithm:hex';
    throw new RegistryError('DIGEST_INVALID', `invalid ${what} "${value.slice(0, 200)}": ${why}`, { digest: value.slice(0, 200) });
  }
  return d;
}

export function parseReference(ref: string): ManifestRef {
  if (ref.includes(':')) return { digest: checkDigest(ref, 'manifest digest') };
  if (!TAG.test(ref)) {
    throw new RegistryError('MANIFEST_INVALID', `"${ref.slice(0, 200)}" is not a valid tag: up to 128 of [A-Za-z0-9_.-], not starting with . or -`, { tag: ref.slice(0, 200) });
  }
  return { tag: ref };
}

function parsePageSize(value: string | null): number | undefined {
  if (value === null) return undefined;
  if (!/^\d+$/.test(value)) throw new RegistryError('UNSUPPORTED', `n must be a non-negative integer, not "${value.slice(0, 50)}"`, undefined, 400);
  return Number(value);
}

const ANY = (name: string): Access => ({ type: 'repository', name, actions: ['pull'] });
const PUSH = (name: string): Access => ({ type: 'repository', name, actions: ['pull', 'push'] });
const DELETE = (name: string): Access => ({ type: 'repository', name, actions: ['delete'] });

export class RegistryHandler {
  private readonly routes: Route[];

  constructor(private readonly opts: HandlerOptions) {
    this.routes = [
      { name: 'base', pattern: /^\/v2\/?$/, methods: { GET: (c) => this.base(c), HEAD: (c) => this.base(c) } },
      { name: 'catalog', pattern: /^\/v2\/_catalog$/, methods: { GET: (c) => this.catalog(c) } },
      { name: 'tags.list', pattern: /^\/v2\/(.+)\/tags\/list$/, methods: { GET: (c, p) => this.tags(c, p) } },
      {
        name: 'manifests', pattern: /^\/v2\/(.+)\/manifests\/([^/]+)$/,
        methods: { GET: (c, p) => this.getManifest(c, p), HEAD: (c, p) => this.getManifest(c, p), PUT: (c, p) => this.putManifest(c, p), DELETE: (c, p) => this.deleteManifest(c, p) },
      },
      { name: 'blobs.uploads', pattern: /^\/v2\/(.+)\/blobs\/uploads\/?$/, methods: { POST: (c, p) => this.startUpload(c, p) } },
      {
        name: 'blobs.upload', pattern: /^\/v2\/(.+)\/blobs\/uploads\/([^/]+)$/,
        methods: { GET: (c, p) => this.uploadStatus(c, p), PATCH: (c, p) => this.patchUpload(c, p), PUT: (c, p) => this.putUpload(c, p), DELETE: (c, p) => this.cancelUpload(c, p) },
      },
      {
        name: 'blobs', pattern: /^\/v2\/(.+)\/blobs\/([^/]+)$/,
        methods: { GET: (c, p) => this.getBlob(c, p), HEAD: (c, p) => this.getBlob(c, p), DELETE: (c, p) => this.deleteBlob(c, p) },
      },
      { name: 'referrers', pattern: /^\/v2\/(.+)\/referrers\/([^/]+)$/, methods: { GET: (c, p) => this.referrers(c, p) } },
    ];
  }

  private get storage(): Storage {
    return this.opts.storage;
  }

  /** Handles one request; never throws, never leaves a request unanswered. */
  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = process.hrtime.bigint();
    const socket = req.socket;
    const readAtStart = socket.bytesRead;
    const writtenAtStart = socket.bytesWritten;
    const rawUrl = req.url ?? '/';
    const q = rawUrl.indexOf('?');
    const rawPath = q < 0 ? rawUrl : rawUrl.slice(0, q);
    const ctx: Ctx = {
      req, res, id: randomUUID(), method: req.method ?? 'GET',
      query: new URLSearchParams(q < 0 ? '' : rawUrl.slice(q + 1)), route: 'unknown',
    };
    res.setHeader('Docker-Distribution-API-Version', 'registry/2.0');
    let errorCode: string | undefined;
    let recorded = false;
    const record = (aborted: boolean): void => {
      if (recorded) return;
      recorded = true;
      const entry: RequestRecord = {
        id: ctx.id, route: ctx.route, method: ctx.method, path: rawPath.slice(0, 1024),
        // 499, as nginx logs it: the client went away before the answer was complete.
        status: aborted ? 499 : res.statusCode,
        bytesIn: (aborted ? undefined : bodyBytes(req)) ?? Math.max(0, socket.bytesRead - readAtStart), bytesOut: Math.max(0, socket.bytesWritten - writtenAtStart),
        durationMs: Number(process.hrtime.bigint() - started) / 1e6,
        remoteAddr: socket.remoteAddress ?? '', userAgent: String(req.headers['user-agent'] ?? '').slice(0, 200),
        ...(ctx.repository ? { repository: ctx.repository } : {}),
        ...(ctx.user ? { user: ctx.user } : {}),
        ...(aborted ? { errorCode: 'CLIENT_CLOSED_REQUEST' } : errorCode ? { errorCode } : {}),
      };
      for (const m of this.opts.hooks.metrics) safely(() => m.observe(entry));
      for (const l of this.opts.hooks.requestLog) safely(() => l.log(entry));
    };
    res.once('finish', () => record(false));
    res.once('close', () => record(!res.writableFinished));
    try {
      await this.dispatch(ctx, rawPath);
    } catch (e) {
      const failedDisk = diskFailed(e, this.opts.storageName, req.method === 'GET' || req.method === 'HEAD');
      const err = e instanceof RegistryError ? e : e instanceof StorageError ? registryErrorOf(e) : diskFull(e, this.opts.storageName) ?? failedDisk;
      if (!err || failedDisk) {
        if (!err && isClientGone(req, res)) return;
        // A failing disk is the operator's to fix: the log keeps the details the answer leaves out.
        this.opts.onServerError?.(e, ctx.id);
      }
      errorCode = err?.code;
      // The disk filled while a body was arriving: drain it so the client reads the 507, not a reset.
      if (err?.code === 'INSUFFICIENT_STORAGE' && !req.complete && !req.destroyed) lingerAfterAnswer(req, res);
      this.sendError(res, err ?? new RegistryError('UNSUPPORTED', 'internal error; see the registry log', { requestId: ctx.id }, 500));
    }
  }

  private sendError(res: ServerResponse, err: RegistryError): void {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    const body = JSON.stringify(err.body());
    res.statusCode = err.status;
    for (const [k, v] of Object.entries(err.headers)) res.setHeader(k, v);
    res.setHeader('Content-Type', 'application/json');
    res.setHeader('Content-Length', Buffer.byteLength(body));
    endAnswer(res, body);
  }

  private async dispatch(ctx: Ctx, rawPath: string): Promise<void> {
    for (const extra of this.opts.hooks.extraRoutes) {
      const hit = typeof extra.path === 'string' ? extra.path === rawPath : extra.path.test(rawPath);
      if (hit && (!extra.method || extra.method === ctx.method)) {
        ctx.route = `extra:${extra.name ?? String(extra.path)}`;
        await extra.handle(ctx.req, ctx.res);
        return;
      }
    }
    let path: string;
    try {
      path = decodeURIComponent(rawPath);
    } catch {
      throw new RegistryError('NAME_INVALID', 'the request path is not valid percent-encoding', undefined, 400);
    }
    if (path.includes('\0') || path.includes('\\')) throw new RegistryError('NAME_INVALID', 'the request path holds a forbidden character', undefined, 400);
    if (!path.startsWith('/v2/') && path !== '/v2') throw new RegistryError('UNSUPPORTED', `no such endpoint: ${path.slice(0, 200)}; the registry API lives under /v2/`, undefined, 404);
    for (const route of this.routes) {
      const m = route.pattern.exec(path);
      if (!m) continue;
      ctx.route = route.name;
      const params = m.slice(1).map((p) => p ?? '');
      const fn = route.methods[ctx.method];
      if (!fn) {
        ctx.res.setHeader('Allow', Object.keys(route.methods).join(', '));
        throw new RegistryError('UNSUPPORTED', `${ctx.method} is not supported on ${route.name}`, undefined, 405);
      }
      const name = params[0];
      if (route.name !== 'base' && route.name !== 'catalog' && name !== undefined) {
        checkName(name, hostOf(ctx.req));
        ctx.repository = name;
      }
      await fn(ctx, params);
      return;
    }
    throw new RegistryError('NAME_UNKNOWN', `no such endpoint: ${path.slice(0, 200)}`, undefined, 404);
  }

  private async authorize(ctx: Ctx, access: Access[]): Promise<void> {
    const decision = await this.opts.hooks.access.authorize(ctx.req, access);
    if (decision.allowed) {
      if (decision.user) ctx.user = decision.user;
      return;
    }
    // The access asked for, as distribution's detail: a DENIED body without a detail and with the code's
    // default message reaches dockerd's client as a bare error code, which it retries as if the refusal were
    // transient (five times per layer, for close to a minute) instead of reporting it.
    const detail = access.map((a) => ({ Type: a.type, Name: a.name, Action: a.actions.join(',') }));
    if (decision.status === 401) {
      throw new RegistryError('UNAUTHORIZED', decision.message ?? 'authentication required', detail, 401, { 'WWW-Authenticate': decision.challenge });
    }
    if (decision.status === 429) {
      throw new RegistryError('TOOMANYREQUESTS', decision.message ?? 'too many requests', undefined, 429, { 'Retry-After': String(decision.retryAfterSeconds) });
    }
    throw new RegistryError('DENIED', decision.message ?? 'requested access to the resource is denied', detail, 403);
  }

  /** True when `access` is granted, without failing the request (optional accesses such as a mount's source). */
  private async mayAccess(ctx: Ctx, access: Access[]): Promise<boolean> {
    return (await this.opts.hooks.access.authorize(ctx.req, access)).allowed;
  }

  private emit(ctx: Ctx, action: RegistryEvent['action'], target: Omit<EventTarget, 'repository' | 'url'>, extra: Partial<RegistryEvent> = {}): void {
    const sinks = this.opts.hooks.events;
    if (sinks.length === 0 || !ctx.repository) return;
    const host = hostOf(ctx.req);
    const kind = target.mediaType === 'application/octet-stream' ? 'blobs' : 'manifests';
    const event: RegistryEvent = {
      id: randomUUID(), timestamp: new Date().toISOString(), action, repository: ctx.repository,
      target: { ...target, repository: ctx.repository, url: `${'encrypted' in ctx.req.socket && ctx.req.socket.encrypted ? 'https' : 'http'}://${host}/v2/${ctx.repository}/${kind}/${target.digest}` },
      request: { id: ctx.id, addr: ctx.req.socket.remoteAddress ?? '', host, method: ctx.method, useragent: String(ctx.req.headers['user-agent'] ?? '') },
      actor: ctx.user ? { name: ctx.user } : {},
      ...extra,
    };
    for (const sink of sinks) safely(() => sink.onEvent(event));
  }

  private send(ctx: Ctx, status: number, headers: Record<string, string | number>, body?: string | Buffer): void {
    const { res } = ctx;
    res.statusCode = status;
    for (const [k, v] of Object.entries(headers)) res.setHeader(k, v);
    if (body === undefined) {
      if (!res.hasHeader('Content-Length') && status !== 204 && status !== 304) res.setHeader('Content-Length', 0);
      res.end();
    } else {
      if (!res.hasHeader('Content-Length')) res.setHeader('Content-Length', Buffer.byteLength(body));
      res.end(ctx.method === 'HEAD' ? undefined : body);
    }
  }

  private sendJson(ctx: Ctx, status: number, value: unknown, headers: Record<string, string> = {}): void {
    this.send(ctx, status, { 'Content-Type': 'application/json', ...headers }, JSON.stringify(value));
  }

  // ---- end-1 ----

  private async base(ctx: Ctx): Promise<void> {
    await this.authorize(ctx, []);
    this.sendJson(ctx, 200, {});
  }

  // ---- discovery ----

  private pageLink(path: string, n: number, last: string): string {
    return `<${path}?n=${n}&last=${encodeURIComponent(last)}>; rel="next"`;
  }

  private async catalog(ctx: Ctx): Promise<void> {
    await this.authorize(ctx, [{ type: 'registry', name: 'catalog', actions: ['*'] }]);
    const n = parsePageSize(ctx.query.get('n'));
    const all = await this.storage.listRepositories();
    const repos = sortLexically(this.opts.hooks.access.visibleRepositories?.(ctx.user, all) ?? all);
    const page = pageOf(repos, n, ctx.query.get('last') ?? undefined);
    const lastItem = page.items[page.items.length - 1];
    const headers: Record<string, string> = page.more && n !== undefined && lastItem !== undefined ? { Link: this.pageLink('/v2/_catalog', page.items.length, lastItem) } : {};
    this.sendJson(ctx, 200, { repositories: page.items }, headers);
  }

  private async tags(ctx: Ctx, [name = '']: string[]): Promise<void> {
    await this.authorize(ctx, [ANY(name)]);
    const n = parsePageSize(ctx.query.get('n'));
    const tags = await this.storage.listTags(name);
    if (!tags) throw new RegistryError('NAME_UNKNOWN', `repository "${name}" is not known to this registry`, { name });
    const page = pageOf(sortLexically(tags), n, ctx.query.get('last') ?? undefined);
    const lastItem = page.items[page.items.length - 1];
    const headers: Record<string, string> = page.more && n !== undefined && lastItem !== undefined ? { Link: this.pageLink(`/v2/${name}/tags/list`, page.items.length, lastItem) } : {};
    this.sendJson(ctx, 200, { name, tags: page.items }, headers);
  }

  private async referrers(ctx: Ctx, [name = '', ref = '']: string[]): Promise<void> {
    await this.authorize(ctx, [ANY(name)]);
    const subject = checkDigest(ref, 'subject digest');
    let manifests = await this.storage.referrers(name, subject);
    const headers: Record<string, string> = {};
    const artifactType = ctx.query.get('artifactType');
    if (artifactType) {
      manifests = manifests.filter((m) => m.artifactType === artifactType);
      headers['OCI-Filters-Applied'] = 'artifactType';
    }
    const body = JSON.stringify({ schemaVersion: 2, mediaType: MediaType.ociIndex, manifests });
    this.send(ctx, 200, { ...headers, 'Content-Type': MediaType.ociIndex }, body);
  }

  // ---- manifests ----

  private async getManifest(ctx: Ctx, [name = '', ref = '']: string[]): Promise<void> {
    const reference = parseReference(ref);
    await this.authorize(ctx, [ANY(name)]);
    const m = await this.storage.getManifest(name, reference);
    if (!m) {
      throw new RegistryError('MANIFEST_UNKNOWN', `manifest ${ref} is not in repository ${name}`, 'tag' in reference ? { tag: reference.tag } : { digest: reference.digest.digest });
    }
    const etag = `"${m.digest}"`;
    const common = { 'Docker-Content-Digest': m.digest, ETag: etag };
    if (matchesEtag(ctx.req.headers['if-none-match'], etag)) {
      this.send(ctx, 304, common);
      return;
    }
    this.send(ctx, 200, { ...common, 'Content-Type': m.mediaType, 'Content-Length': m.size }, m.bytes);
    if (ctx.method === 'GET') this.emit(ctx, 'pull', { mediaType: m.mediaType, digest: m.digest, size: m.size, ...('tag' in reference ? { tag: reference.tag } : {}) });
  }

  /**
   * Reads a manifest body up to `maxManifestBytes`. A larger one is read to its end and dropped
   * (up to `DISCARD_LIMIT_BYTES`) before the 413; beyond that the 413 goes out at once and the rest
   * is drained for a while, so the client, still sending, gets the answer rather than a reset.
   */
  private async readManifestBody(ctx: Ctx): Promise<Buffer> {
    const max = this.opts.maxManifestBytes;
    const { req, res } = ctx;
    const tooLarge = (size: string): RegistryError => new RegistryError('MANIFEST_INVALID', `manifest is ${size} bytes; this registry accepts at most ${max} (storage.maxManifestBytes)`, { limit: max }, 413);
    const declared = Number(req.headers['content-length'] ?? NaN);
    if (Number.isFinite(declared) && declared > DISCARD_LIMIT_BYTES) {
      lingerAfterAnswer(req, res);
      throw tooLarge(String(declared));
    }
    // The depth is checked as chunks arrive: a nesting bomb costs a scan, never a JSON.parse.
    const depth = new JsonDepthGuard();
    // A large body of known length is copied into its own buffer as it arrives: no multi-MiB concat
    // at the end, and the buffer can move to a parser thread and back without a copy.
    const into = Number.isFinite(declared) && declared <= max && declared > INLINE_PARSE_MAX_BYTES ? Buffer.allocUnsafeSlow(declared) : undefined;
    const body = await new Promise<Buffer | undefined>((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      let answered = false;
      req.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (answered) return;
        if (size <= max && depth.feed(chunk)) {
          // The HTTP parser never delivers more than Content-Length.
          if (into) chunk.copy(into, size - chunk.length);
          else chunks.push(chunk);
        } else if (size > DISCARD_LIMIT_BYTES) {
          // A body of unknown length (chunked) past the discard limit: answer now rather than cut it.
          answered = true;
          lingerAfterAnswer(req, res);
          resolve(undefined);
        }
      });
      req.once('end', () => resolve(size > max ? undefined : depth.exceeded ? Buffer.alloc(0) : into ? into.subarray(0, size) : Buffer.concat(chunks, size)));
      req.once('error', reject);
      req.once('close', () => {
        if (!req.complete) reject(new Error('client closed the connection while sending a manifest'));
      });
    });
    if (!body) throw tooLarge(Number.isFinite(declared) ? String(declared) : `more than ${max}`);
    if (depth.exceeded) throw manifestTooDeep(depth.maxDepth);
    return body;
  }

  /**
   * What a manifest names that the repository lacks. A few checks at a time, each digest once, and
   * no more than MAX_REPORTED_MISSING reported: a manifest listing 40,000 unknown layers must not
   * queue 80,000 file system calls at once and hold up every other client.
   */
  private async missingReferences(name: string, parsed: ParsedManifest): Promise<RegistryError[]> {
    const missing: RegistryError[] = [];
    // The lists hold each digest once, already checked; parsed here one at a time, as the checks run.
    const checks = [
      ...parsed.blobs.map((digest) => ({ kind: 'blob' as const, digest })),
      ...parsed.manifests.map((digest) => ({ kind: 'manifest' as const, digest })),
    ];
    await runPool(checks, REFERENCE_CHECKS_IN_FLIGHT, async (check) => {
      if (missing.length >= MAX_REPORTED_MISSING) return;
      const { kind } = check;
      const digest = checkDigest(check.digest);
      if (kind === 'blob' ? await this.storage.statBlob(name, digest) : await this.storage.hasManifest(name, digest)) return;
      missing.push(new RegistryError('MANIFEST_BLOB_UNKNOWN', kind === 'blob'
        ? `blob ${digest.digest} is not in repository ${name}; push it before the manifest`
        : `manifest ${digest.digest} is not in repository ${name}; push it before the index`, { digest: digest.digest }));
    });
    return missing;
  }

  private async putManifest(ctx: Ctx, [name = '', ref = '']: string[]): Promise<void> {
    this.checkWritable();
    const reference = parseReference(ref);
    await this.authorize(ctx, [PUSH(name)]);
    // The body may travel to a parser thread and back: only the returned buffer is used after.
    const { parsed, bytes } = await (this.opts.manifestParser ?? inlineManifestParser).pushed(await this.readManifestBody(ctx), ctx.req.headers['content-type'], true);
    const algorithm: DigestAlgorithm = 'digest' in reference ? reference.digest.algorithm : 'sha256';
    const digest = checkDigest(digestOf(bytes, algorithm));
    if ('digest' in reference && reference.digest.digest !== digest.digest) {
      throw new RegistryError('DIGEST_INVALID', `the manifest's digest is ${digest.digest}, not ${reference.digest.digest}`, { digest: reference.digest.digest });
    }
    const missing = await this.missingReferences(name, parsed);
    if (missing.length > 0) throw new RegistryErrors(missing);
    const tag = 'tag' in reference ? reference.tag : undefined;
    const stored = await this.storage.putManifest(name, digest, bytes, parsed.mediaType, tag, parsed);
    this.send(ctx, 201, {
      Location: `/v2/${name}/manifests/${stored.digest}`,
      'Docker-Content-Digest': stored.digest,
      ...(parsed.subject ? { 'OCI-Subject': parsed.subject.digest } : {}),
    });
    this.emit(ctx, 'push', { mediaType: stored.mediaType, digest: stored.digest, size: stored.size, ...(tag ? { tag } : {}) });
  }

  /** A read-only registry (a pull-through cache) refuses before reading a body or asking for credentials. */
  private checkWritable(): void {
    const reason = this.opts.hooks.readOnlyReason;
    if (reason !== undefined) throw new RegistryError('UNSUPPORTED', reason, undefined, 405);
  }

  private checkDeleteEnabled(): void {
    if (!this.opts.deleteEnabled) throw new RegistryError('UNSUPPORTED', 'deletion is disabled on this registry (storage.delete.enabled: false)', undefined, 405);
  }

  private async deleteManifest(ctx: Ctx, [name = '', ref = '']: string[]): Promise<void> {
    this.checkWritable();
    const reference = parseReference(ref);
    await this.authorize(ctx, [DELETE(name)]);
    this.checkDeleteEnabled();
    if ('tag' in reference) {
      const m = await this.storage.getManifest(name, reference);
      if (!m || !(await this.storage.deleteTag(name, reference.tag))) throw new RegistryError('MANIFEST_UNKNOWN', `tag ${reference.tag} is not in repository ${name}`, { tag: reference.tag });
      this.send(ctx, 202, {});
      this.emit(ctx, 'delete', { mediaType: m.mediaType, digest: m.digest, size: m.size, tag: reference.tag });
      return;
    }
    const m = await this.storage.getManifest(name, reference);
    if (!m || !(await this.storage.deleteManifest(name, reference.digest))) {
      throw new RegistryError('MANIFEST_UNKNOWN', `manifest ${reference.digest.digest} is not in repository ${name}`, { digest: reference.digest.digest });
    }
    this.send(ctx, 202, {});
    this.emit(ctx, 'delete', { mediaType: m.mediaType, digest: m.digest, size: m.size });
  }

  // ---- blobs ----

  private async getBlob(ctx: Ctx, [name = '', ref = '']: string[]): Promise<void> {
    const digest = checkDigest(ref);
    await this.authorize(ctx, [ANY(name)]);
    const info = await this.storage.statBlob(name, digest);
    if (!info) throw new RegistryError('BLOB_UNKNOWN', `blob ${digest.digest} is not in repository ${name}`, { digest: digest.digest });
    const etag = `"${info.digest}"`;
    const common: Record<string, string | number> = { 'Docker-Content-Digest': info.digest, ETag: etag, 'Accept-Ranges': 'bytes', 'Cache-Control': 'max-age=31536000' };
    if (matchesEtag(ctx.req.headers['if-none-match'], etag)) {
      this.send(ctx, 304, common);
      return;
    }
    const range = parseRange(ctx.req.headers.range, info.size);
    if (range === 'unsatisfiable') {
      throw new RegistryError('SIZE_INVALID', `requested range is outside the blob's ${info.size} bytes`, { size: info.size }, 416, { 'Content-Range': `bytes */${info.size}` });
    }
    const res = ctx.res;
    res.statusCode = range ? 206 : 200;
    for (const [k, v] of Object.entries(common)) res.setHeader(k, v);
    res.setHeader('Content-Type', 'application/octet-stream');
    res.setHeader('Content-Length', range ? range.end - range.start + 1 : info.size);
    if (range) res.setHeader('Content-Range', `bytes ${range.start}-${range.end}/${info.size}`);
    if (ctx.method === 'HEAD' || info.size === 0) {
      res.end();
      return;
    }
    const redirect = ctx.method === 'GET' && !range ? await this.storage.blobRedirectURL?.(digest, 'GET') : undefined;
    if (redirect) {
      res.statusCode = 307;
      res.removeHeader('Content-Length');
      res.removeHeader('Content-Type');
      res.setHeader('Location', redirect);
      res.end();
      this.emit(ctx, 'pull', { mediaType: 'application/octet-stream', digest: info.digest, size: info.size });
      return;
    }
    const stream = await this.storage.readBlob(digest, range);
    await sendBlob(stream, res);
    this.emit(ctx, 'pull', { mediaType: 'application/octet-stream', digest: info.digest, size: info.size });
  }

  private async deleteBlob(ctx: Ctx, [name = '', ref = '']: string[]): Promise<void> {
    this.checkWritable();
    const digest = checkDigest(ref);
    await this.authorize(ctx, [DELETE(name)]);
    this.checkDeleteEnabled();
    const info = await this.storage.statBlob(name, digest);
    if (!(await this.storage.deleteBlob(name, digest))) throw new RegistryError('BLOB_UNKNOWN', `blob ${digest.digest} is not in repository ${name}`, { digest: digest.digest });
    this.send(ctx, 202, {});
    this.emit(ctx, 'delete', { mediaType: 'application/octet-stream', digest: digest.digest, size: info?.size ?? 0 });
  }

  // ---- uploads ----

  private uploadHeaders(name: string, id: string, offset: number): Record<string, string> {
    return {
      Location: `/v2/${name}/blobs/uploads/${id}`,
      // distribution's convention: 0-0 for an empty upload, so clients parse it the same way.
      Range: `0-${Math.max(0, offset - 1)}`,
      'Docker-Upload-UUID': id,
    };
  }

  private blobCreated(ctx: Ctx, name: string, digest: string): void {
    this.send(ctx, 201, { Location: `/v2/${name}/blobs/${digest}`, 'Docker-Content-Digest': digest });
  }

  private async startUpload(ctx: Ctx, [name = '']: string[]): Promise<void> {
    this.checkWritable();
    await this.authorize(ctx, [PUSH(name)]);
    const mount = ctx.query.get('mount');
    if (mount !== null) {
      const digest = checkDigest(mount, 'mount digest');
      const from = ctx.query.get('from') ?? undefined;
      if (from !== undefined) checkName(from, hostOf(ctx.req));
      // A source the caller may not read is treated as absent: the client uploads instead. Without
      // `from`, only a repository the caller may pull can be the source, unless everyone may pull everything.
      const mayPull = (source: string): Promise<boolean> => this.mayAccess(ctx, [ANY(source)]);
      const readable = from === undefined || (await mayPull(from));
      const mounted = readable ? await this.storage.mountBlob(name, digest, from, this.opts.hooks.access === allowAll ? undefined : mayPull) : undefined;
      if (mounted) {
        this.blobCreated(ctx, name, mounted.digest);
        this.emit(ctx, 'mount', { mediaType: 'application/octet-stream', digest: mounted.digest, size: mounted.size }, from ? { fromRepository: from } : {});
        return;
      }
    }
    const digestParam = ctx.query.get('digest');
    if (digestParam !== null) {
      const digest = checkDigest(digestParam);
      const upload = await this.storage.startUpload(name, ctx.user);
      let blob: BlobInfo;
      try {
        blob = await this.storage.finishUpload(name, upload.id, digest, ctx.req);
      } catch (e) {
        // The store may be what failed (stalled): cleaning up waits on it again, so it does not hold the answer.
        void this.storage.cancelUpload(name, upload.id).catch(() => undefined);
        throw e;
      }
      try {
        this.blobCreated(ctx, name, blob.digest);
        this.emit(ctx, 'push', { mediaType: 'application/octet-stream', digest: blob.digest, size: blob.size });
      } finally {
        await this.storage.cancelUpload(name, upload.id).catch(() => undefined);
      }
      return;
    }
    const upload = await this.storage.startUpload(name, ctx.user);
    this.send(ctx, 202, this.uploadHeaders(name, upload.id, 0));
  }

  private uploadId(id: string): string {
    if (!isUploadId(id)) throw new RegistryError('BLOB_UPLOAD_UNKNOWN', `upload ${id.slice(0, 100)} is unknown`, { uuid: id.slice(0, 100) });
    return id;
  }

  /**
   * An upload belongs to the user who started it: anyone else holding its UUID (from a log, a proxy)
   * is told it is unknown, the same answer as for a UUID that never existed.
   */
  private refuseOtherOwner(ctx: Ctx, id: string, owner: string | undefined): void {
    if (owner !== ctx.user) throw new RegistryError('BLOB_UPLOAD_UNKNOWN', `upload ${id} is unknown, finished, or was started by another user`, { uuid: id });
  }

  /** An upload that does not exist passes here; the storage call that follows refuses it as unknown. */
  private async checkUploadOwner(ctx: Ctx, name: string, id: string): Promise<void> {
    this.refuseOtherOwner(ctx, id, await this.storage.uploadOwner(name, id));
  }

  private async uploadStatus(ctx: Ctx, [name = '', rawId = '']: string[]): Promise<void> {
    const id = this.uploadId(rawId);
    await this.authorize(ctx, [PUSH(name)]);
    const status = await this.storage.uploadStatus(name, id);
    if (!status) throw new RegistryError('BLOB_UPLOAD_UNKNOWN', `upload ${id} is unknown or finished`, { uuid: id });
    this.refuseOtherOwner(ctx, id, status.owner);
    this.send(ctx, 204, this.uploadHeaders(name, id, status.offset));
  }

  /** The start of a chunk from `Content-Range`, after checking it against `Content-Length`. */
  private chunkStart(ctx: Ctx): number | undefined {
    const range = parseContentRange(ctx.req.headers['content-range']);
    if (range === undefined) return undefined;
    if (range === 'invalid') throw new RegistryError('BLOB_UPLOAD_INVALID', 'Content-Range must be <start>-<end>, inclusive byte offsets', undefined, 400);
    if (range.end < range.start) throw new RegistryError('BLOB_UPLOAD_INVALID', 'Content-Range ends before it starts', undefined, 416);
    const length = ctx.req.headers['content-length'];
    if (length !== undefined && Number(length) !== range.end - range.start + 1) {
      throw new RegistryError('SIZE_INVALID', `Content-Range covers ${range.end - range.start + 1} bytes but Content-Length is ${length}`);
    }
    return range.start;
  }

  private async patchUpload(ctx: Ctx, [name = '', rawId = '']: string[]): Promise<void> {
    this.checkWritable();
    const id = this.uploadId(rawId);
    await this.authorize(ctx, [PUSH(name)]);
    await this.checkUploadOwner(ctx, name, id);
    const start = this.chunkStart(ctx);
    const status = await this.storage.appendUpload(name, id, ctx.req, start);
    this.send(ctx, 202, this.uploadHeaders(name, id, status.offset));
  }

  private async putUpload(ctx: Ctx, [name = '', rawId = '']: string[]): Promise<void> {
    this.checkWritable();
    const id = this.uploadId(rawId);
    await this.authorize(ctx, [PUSH(name)]);
    await this.checkUploadOwner(ctx, name, id);
    const digest = checkDigest(ctx.query.get('digest'));
    const start = this.chunkStart(ctx);
    const length = ctx.req.headers['content-length'];
    const hasBody = (length !== undefined && Number(length) > 0) || ctx.req.headers['transfer-encoding'] !== undefined;
    const blob = await this.storage.finishUpload(name, id, digest, hasBody ? ctx.req : undefined, start);
    this.blobCreated(ctx, name, blob.digest);
    this.emit(ctx, 'push', { mediaType: 'application/octet-stream', digest: blob.digest, size: blob.size });
  }

  private async cancelUpload(ctx: Ctx, [name = '', rawId = '']: string[]): Promise<void> {
    this.checkWritable();
    const id = this.uploadId(rawId);
    await this.authorize(ctx, [PUSH(name)]);
    await this.checkUploadOwner(ctx, name, id);
    if (!(await this.storage.cancelUpload(name, id))) throw new RegistryError('BLOB_UPLOAD_UNKNOWN', `upload ${id} is unknown or finished`, { uuid: id });
    this.send(ctx, 204, {});
  }
}

/** How long a refused body is still read and dropped after the answer, before the connection is cut. */
const LINGER_MS = 10_000;

/**
 * Closes the connection once the answer is out, but only after draining what the client is still
 * sending (up to LINGER_MS): closing a socket with unread data sends a reset, and the client's
 * kernel may then drop the answer before the client reads it.
 */
function lingerAfterAnswer(req: IncomingMessage, res: ServerResponse): void {
  res.setHeader('Connection', 'close');
  req.on('data', () => undefined);
  req.resume();
  lingering.set(res, req);
}

const lingering = new WeakMap<ServerResponse, IncomingMessage>();

/**
 * Sends a whole answer. For a refused body still arriving, the answer is written at once but the
 * response is ended (and the connection closed) only when the body has been drained or after LINGER_MS.
 */
function endAnswer(res: ServerResponse, body: string): void {
  const req = lingering.get(res);
  if (!req || req.complete) {
    res.end(body);
    return;
  }
  res.write(body);
  const timer = setTimeout(() => {
    res.end();
    req.destroy();
  }, LINGER_MS);
  timer.unref();
  req.once('end', () => {
    clearTimeout(timer);
    res.end();
  });
  res.once('close', () => clearTimeout(timer));
}

/** A write that failed for lack of space: 507 naming the storage, with the connection closed (the body may still be arriving). */
function diskFull(e: unknown, storageName: string | undefined): RegistryError | undefined {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  if (code !== 'ENOSPC' && code !== 'EDQUOT') return undefined;
  const where = storageName ? ` (${storageName})` : '';
  const why = code === 'EDQUOT' ? 'is over its disk quota' : 'has no space left';
  return new RegistryError('INSUFFICIENT_STORAGE', `the registry's storage${where} ${why}; nothing was stored. Pulls still work; free space on that disk, then push again`,
    undefined, 507, { Connection: 'close' });
}

/**
 * The disk under the storage failed (EIO) or is read-only (EROFS, which the kernel does to a filesystem
 * after disk errors): a 500 that says so and what to do, instead of "internal error".
 */
function diskFailed(e: unknown, storageName: string | undefined, reading: boolean): RegistryError | undefined {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  if (code !== 'EIO' && code !== 'EROFS') return undefined;
  const where = storageName ? ` (${storageName})` : '';
  const message = code === 'EROFS'
    ? `the registry's storage${where} is read-only (EROFS; the kernel does this to a filesystem after disk errors); nothing was stored. Pulls still work; check the disk, make it writable, then push again`
    : reading
      ? `the registry's storage${where} reported an I/O error (EIO) while reading; what it holds may be damaged. Check the disk and the registry log, then try again`
      : `the registry's storage${where} reported an I/O error (EIO); nothing this request sent was stored. Check the disk and the registry log, then try again`;
  return new RegistryError('UNSUPPORTED', message, undefined, 500);
}

/** The spec's answer to what storage reports: the storage says what happened, the handler how to answer. */
function registryErrorOf(e: StorageError): RegistryError | undefined {
  if (e instanceof UploadUnknownError) return new RegistryError('BLOB_UPLOAD_UNKNOWN', e.message, { uuid: e.id });
  if (e instanceof UploadOffsetError) {
    return new RegistryError('BLOB_UPLOAD_INVALID', e.message, { offset: e.offset }, 416, { Range: `0-${Math.max(0, e.offset - 1)}` });
  }
  if (e instanceof DigestMismatchError) return new RegistryError('DIGEST_INVALID', e.message, { digest: e.expected });
  // 503, not 500: the store is unavailable, not the registry broken, and clients retry a 503.
  if (e instanceof StoreUnavailableError) return new RegistryError('UNSUPPORTED', e.message, undefined, 503);
  return undefined;
}

/** The body size a request declared; the socket counter covers chunked bodies. */
function bodyBytes(req: IncomingMessage): number | undefined {
  const n = Number(req.headers['content-length']);
  return Number.isSafeInteger(n) && n >= 0 ? n : undefined;
}

function hostOf(req: IncomingMessage): string {
  return String(req.headers.host ?? '').slice(0, 255);
}

function matchesEtag(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  return header.split(',').some((t) => {
    const v = t.trim().replace(/^W\//, '');
    return v === '*' || v === etag;
  });
}

function isClientGone(req: IncomingMessage, res: ServerResponse): boolean {
  return (req.destroyed && !req.complete) || res.destroyed;
}

function safely(fn: () => void): void {
  try {
    fn();
  } catch {
    /* a failing hook never fails a request */
  }
}
