/**
 * HTTP(S) to registries with node:http/https: per-registry TLS (system CAs plus a CA file, or an
 * explicit skip-verify), plain HTTP only when asked or for loopback, HTTPS_PROXY/NO_PROXY, a timeout
 * and an AbortSignal on every request, redirects, and bounded retries with backoff on 429 and 5xx
 * that honour Retry-After.
 */
import { readFileSync } from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import { isIP } from 'node:net';
import { Readable } from 'node:stream';
import * as tls from 'node:tls';
import { errnoCode, errorFromNetwork, RegistryError } from './errors';
import { hostname, isLoopbackHost } from '../oci/host';

/** The one loopback rule lives in oci/host.ts; re-exported for the client's callers. */
export { isLoopbackHost };

/** How to reach one registry host. */
export interface HostOptions {
  /**
   * `https` or `http`. Unset: HTTPS, except loopback hosts (localhost, 127.0.0.0/8, ::1) which are
   * probed once and use plain HTTP when nothing speaks TLS there.
   */
  scheme?: 'https' | 'http';
  /** A PEM file of extra CAs trusted for this host, on top of the system's. */
  caFile?: string;
  /** PEM text of extra CAs (instead of a file). */
  caPem?: string;
  /** Accept any certificate. Only for a registry the user controls and said so for. */
  skipTlsVerify?: boolean;
}

export interface RetryOptions {
  /** Retries after the first attempt, on 429 and 5xx (and resets for GET/HEAD). Default 3. */
  maxRetries?: number;
  /** First backoff, doubled each time. Default 500 ms. */
  baseDelayMs?: number;
  /** Upper bound for one wait, whether from backoff or Retry-After. Default 20 s. */
  maxDelayMs?: number;
}

export interface TransportOptions {
  /** Per-host settings, keyed by `host[:port]` as the API host (e.g. `registry-1.docker.io`). */
  hostOptions?: (host: string) => HostOptions | undefined;
  /** Environment for proxy settings; `process.env` by default. */
  env?: NodeJS.ProcessEnv;
  /** Inactivity timeout for each request (connect, headers, and between body chunks). Default 30 s. */
  timeoutMs?: number;
  retry?: RetryOptions;
  userAgent?: string;
  /** Told about every HTTP exchange (after its headers arrive), for a log or for counting. Never sees headers or bodies. */
  onRequest?: (exchange: { method: string; url: string; status: number }) => void;
  /**
   * Registry warnings (`Warning: 299 - "…"`), each text once, to show unobtrusively as the spec asks.
   * Never acted upon.
   */
  onWarning?: (warning: { host: string; text: string }) => void;
  /** For tests of the retry policy. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

export type RequestBody = Buffer | string | (() => Readable);

export interface HttpRequest {
  method: string;
  url: URL;
  headers?: Record<string, string>;
  /** A buffer, or a factory of streams (called again for a retry). */
  body?: RequestBody;
  /** A one-shot stream: never retried. */
  stream?: Readable;
  signal?: AbortSignal;
  timeoutMs?: number;
  /** Retry 429/5xx; default true for GET/HEAD and for replayable bodies. */
  retry?: boolean;
  /** What the request is for, in words, for error messages: "list tags of app". */
  what: string;
}

export interface HttpResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  /** After redirects. */
  url: URL;
  body: Readable;
  header(name: string): string | undefined;
  /** All values of a header that may repeat (WWW-Authenticate). */
  headerValues(name: string): string[];
  /** Reads the body as text, refusing more than `maxBytes`. */
  text(maxBytes?: number): Promise<string>;
  bytes(maxBytes?: number): Promise<Buffer>;
  /** Discards the body so the connection can be reused. */
  drain(): Promise<void>;
}

export const DEFAULT_TIMEOUT_MS = 30_000;
const MAX_REDIRECTS = 5;
/** Error bodies and small JSON documents; manifests pass their own limit. */
export const DEFAULT_MAX_BODY_BYTES = 4 * 1024 * 1024;

function defaultPort(scheme: string): number {
  return scheme === 'https' ? 443 : 80;
}

/**
 * The proxy for a URL from HTTPS_PROXY/HTTP_PROXY and NO_PROXY (either case), as Go's httpproxy
 * (so the docker CLI) decides: loopback is never proxied; NO_PROXY entries match the host or any
 * subdomain, optionally with a port; `*` disables proxying.
 */
export function proxyFor(url: URL, env: NodeJS.ProcessEnv): string | undefined {
  const get = (name: string): string | undefined => env[name] || env[name.toLowerCase()] || undefined;
  const proxy = url.protocol === 'https:' ? get('HTTPS_PROXY') : get('HTTP_PROXY');
  if (!proxy) return undefined;
  const host = url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (isLoopbackHost(host.includes(':') ? `[${host}]` : host)) return undefined;
  const port = url.port || String(defaultPort(url.protocol.replace(':', '')));
  for (const raw of (get('NO_PROXY') ?? '').split(',')) {
    const entry = raw.trim().toLowerCase();
    if (!entry) continue;
    if (entry === '*') return undefined;
    let name = entry;
    let entryPort: string | undefined;
    const m = /^(.*):(\d+)$/.exec(entry);
    if (m && !entry.endsWith(']') && (m[1] ?? '').indexOf(':') < 0) {
      name = m[1] ?? '';
      entryPort = m[2];
    }
    name = name.replace(/^\[|\]$/g, '');
    if (entryPort && entryPort !== port) continue;
    if (name.startsWith('*.')) name = name.slice(1);
    if (name.startsWith('.') ? host.endsWith(name) || host === name.slice(1) : host === name || host.endsWith(`.${name}`)) return undefined;
  }
  return proxy.includes('://') ? proxy : `http://${proxy}`;
}

/** The texts of `Warning` values with code 299 (the only code registries may send), e.g. `299 - "Deprecated"`. */
export function parseWarnings(value: string): string[] {
  const out: string[] = [];
  for (const m of value.matchAll(/299\s+\S+\s+"((?:[^"\\]|\\.)*)"/g)) out.push((m[1] ?? '').replace(/\\(.)/g, '$1'));
  return out;
}

/** Where Linux distributions and macOS keep the system's trusted CAs as one PEM bundle. */
const SYSTEM_CA_BUNDLES = ['/etc/ssl/certs/ca-certificates.crt', '/etc/pki/tls/certs/ca-bundle.crt', '/etc/ssl/ca-bundle.pem', '/etc/ssl/cert.pem'];
let baseCertificatesCache: string[] | undefined;

/** Node's bundled roots, the system bundle (first one found) and NODE_EXTRA_CA_CERTS, read once. */
export function baseCertificates(env: NodeJS.ProcessEnv): string[] {
  if (baseCertificatesCache) return baseCertificatesCache;
  const pems: string[] = [...tls.rootCertificates];
  const readable = (path: string): string | undefined => {
    try {
      return readFileSync(path, 'utf8');
    } catch {
      return undefined;
    }
  };
  for (const path of SYSTEM_CA_BUNDLES) {
    const pem = readable(path);
    if (pem) {
      pems.push(pem);
      break;
    }
  }
  const extra = env['NODE_EXTRA_CA_CERTS'] ? readable(env['NODE_EXTRA_CA_CERTS']) : undefined;
  if (extra) pems.push(extra);
  baseCertificatesCache = pems;
  return pems;
}

/** Parses Retry-After (seconds or an HTTP date) into milliseconds from now. */
export function parseRetryAfter(value: string | undefined, nowMs = Date.now()): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs);
}

const RETRY_STATUSES = new Set([429, 500, 502, 503, 504]);

function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason instanceof Error ? signal.reason : new DOMException('Aborted', 'AbortError'));
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(new DOMException('Aborted', 'AbortError'));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

async function readAll(stream: Readable, maxBytes: number, what: string, host: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of stream) {
    const buf = chunk as Buffer;
    total += buf.length;
    if (total > maxBytes) {
      stream.destroy();
      throw new RegistryError({ kind: 'invalid-response', host, message: `${host} sent more than ${maxBytes} bytes for ${what}; refusing to read further.` });
    }
    chunks.push(buf);
  }
  return Buffer.concat(chunks);
}

interface ResolvedHost {
  scheme: 'https' | 'http';
  /** Built once per host and settings: parsing a few hundred roots per connection would be wasteful. */
  secureContext?: tls.SecureContext;
  rejectUnauthorized: boolean;
  /** Identifies the settings, so connections made under other settings are not reused. */
  fingerprint: string;
}

export class Transport {
  private readonly schemes = new Map<string, Promise<'https' | 'http'>>();
  private readonly agents = new Map<string, http.Agent>();
  private readonly resolved = new Map<string, ResolvedHost>();
  readonly timeoutMs: number;
  private readonly maxRetries: number;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void>;

  constructor(private readonly opts: TransportOptions = {}) {
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.maxRetries = opts.retry?.maxRetries ?? 3;
    this.baseDelayMs = opts.retry?.baseDelayMs ?? 500;
    this.maxDelayMs = opts.retry?.maxDelayMs ?? 20_000;
    this.sleep = opts.sleep ?? abortableSleep;
  }

  hostOptions(host: string): HostOptions {
    return this.opts.hostOptions?.(host) ?? {};
  }

  /** `https://host` or `http://host`, deciding once per host. */
  async baseUrl(host: string, signal?: AbortSignal): Promise<string> {
    let p = this.schemes.get(host);
    if (!p) {
      p = this.decideScheme(host, signal);
      this.schemes.set(host, p);
      p.catch(() => this.schemes.delete(host));
    }
    return `${await p}://${host}`;
  }

  private async decideScheme(host: string, signal?: AbortSignal): Promise<'https' | 'http'> {
    const o = this.hostOptions(host);
    if (o.scheme) return o.scheme;
    if (o.caFile || o.caPem || o.skipTlsVerify || !isLoopbackHost(host)) return 'https';
    const probe = await this.probeTls(host, signal);
    // Nothing listening yet (a local registry not started): decide again next time.
    if (probe === 'unreachable') queueMicrotask(() => this.schemes.delete(host));
    return probe === 'tls' ? 'https' : 'http';
  }

  /** Whether a TLS handshake succeeds at all (any certificate): a loopback registry without TLS fails at once. */
  private probeTls(host: string, signal?: AbortSignal): Promise<'tls' | 'plain' | 'unreachable'> {
    const name = hostname(host);
    const portText = host.startsWith('[') ? host.slice(host.indexOf(']') + 2) : host.slice(name.length + 1);
    const port = Number(portText) || 443;
    return new Promise((resolve) => {
      let connected = false;
      const socket = tls.connect({ host: name, port, servername: isIP(name) ? undefined : name, rejectUnauthorized: false });
      const done = (result: 'tls' | 'plain' | 'unreachable'): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        socket.destroy();
        resolve(result);
      };
      const onAbort = (): void => done('unreachable');
      const timer = setTimeout(() => done(connected ? 'plain' : 'unreachable'), Math.min(this.timeoutMs, 5_000));
      signal?.addEventListener('abort', onAbort, { once: true });
      socket.once('connect', () => {
        connected = true;
      });
      socket.once('secureConnect', () => done('tls'));
      socket.once('error', () => done(connected ? 'plain' : 'unreachable'));
    });
  }

  private resolveHost(url: URL): ResolvedHost {
    const scheme = url.protocol === 'http:' ? 'http' : 'https';
    const o = this.hostOptions(url.host);
    const fingerprint = `${scheme}|${url.host}|${JSON.stringify([o.caFile ?? '', o.caPem ?? '', o.skipTlsVerify === true])}`;
    const cached = this.resolved.get(fingerprint);
    if (cached) return cached;
    const extra: string[] = [];
    if (o.caPem) extra.push(o.caPem);
    if (o.caFile) {
      try {
        extra.push(readFileSync(o.caFile, 'utf8'));
      } catch (e) {
        throw new RegistryError({ kind: 'tls', host: url.host, cause: e, message: `Cannot read the CA file ${o.caFile} configured for ${url.host} (${errnoCode(e) ?? String(e)}). Fix the path in the registry's settings.` });
      }
    }
    const resolved: ResolvedHost = {
      scheme, rejectUnauthorized: !o.skipTlsVerify, fingerprint,
      // Giving CAs replaces node's default roots, so the defaults and the system's go back in.
      ...(extra.length && scheme === 'https' ? { secureContext: tls.createSecureContext({ ca: [...baseCertificates(this.opts.env ?? process.env), ...extra] }) } : {}),
    };
    this.resolved.set(fingerprint, resolved);
    return resolved;
  }

  private async agentFor(url: URL, resolved: ResolvedHost): Promise<http.Agent> {
    const proxy = proxyFor(url, this.opts.env ?? process.env);
    const key = `${resolved.fingerprint}|${proxy ?? ''}`;
    let agent = this.agents.get(key);
    if (!agent) {
      const tlsOpts = { rejectUnauthorized: resolved.rejectUnauthorized, ...(resolved.secureContext ? { secureContext: resolved.secureContext } : {}) };
      if (proxy) {
        // An ES module, loaded only when a proxy is configured.
        const { HttpsProxyAgent } = await import('https-proxy-agent');
        agent = new HttpsProxyAgent(proxy, { keepAlive: true, ...tlsOpts });
      }
      else agent = resolved.scheme === 'https' ? new https.Agent({ keepAlive: true, ...tlsOpts }) : new http.Agent({ keepAlive: true });
      this.agents.set(key, agent);
    }
    return agent;
  }

  private readonly warningsSeen = new Set<string>();

  private reportWarnings(host: string, rawHeaders: string[]): void {
    for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
      if (rawHeaders[i]?.toLowerCase() !== 'warning') continue;
      for (const text of parseWarnings(rawHeaders[i + 1] ?? '')) {
        const key = `${host}\n${text}`;
        // Bounded: a registry sending a new warning on every response must not grow this forever.
        if (this.warningsSeen.has(key) || this.warningsSeen.size >= 256) continue;
        this.warningsSeen.add(key);
        this.opts.onWarning?.({ host, text });
      }
    }
  }

  /** Closes idle keep-alive connections. */
  close(): void {
    for (const a of this.agents.values()) a.destroy();
    this.agents.clear();
  }

  /** Sends a request, following redirects and retrying 429/5xx within bounds. */
  async send(req: HttpRequest): Promise<HttpResponse> {
    const replayable = req.stream === undefined;
    const mayRetry = req.retry ?? (replayable && (req.method === 'GET' || req.method === 'HEAD' || req.body !== undefined || req.method === 'PUT'));
    for (let attempt = 0; ; attempt++) {
      let res: HttpResponse;
      try {
        res = await this.sendFollowing(req);
      } catch (e) {
        const code = errnoCode(e);
        const idempotent = req.method === 'GET' || req.method === 'HEAD';
        if (mayRetry && idempotent && attempt < this.maxRetries && (code === 'ECONNRESET' || code === 'EPIPE') && !req.signal?.aborted) {
          await this.pause(this.backoffMs(attempt), req);
          continue;
        }
        throw errorFromNetwork(req.url.host, req.what, e);
      }
      if (!RETRY_STATUSES.has(res.status) || !mayRetry || attempt >= this.maxRetries) return res;
      const retryAfterMs = parseRetryAfter(res.header('retry-after'));
      // A wait longer than we are willing to sleep is reported to the caller instead.
      if (retryAfterMs !== undefined && retryAfterMs > this.maxDelayMs) return res;
      await res.drain();
      await this.pause(retryAfterMs ?? this.backoffMs(attempt), req);
    }
  }

  private async pause(ms: number, req: HttpRequest): Promise<void> {
    try {
      await this.sleep(ms, req.signal);
    } catch (e) {
      throw errorFromNetwork(req.url.host, req.what, e);
    }
  }

  private backoffMs(attempt: number): number {
    const exp = this.baseDelayMs * 2 ** attempt;
    return Math.min(this.maxDelayMs, exp / 2 + Math.random() * (exp / 2));
  }

  private async sendFollowing(req: HttpRequest): Promise<HttpResponse> {
    let url = req.url;
    let headers = { ...req.headers };
    for (let hop = 0; ; hop++) {
      const res = await this.sendOnce({ ...req, url, headers });
      const location = res.header('location');
      const redirect = [301, 302, 303, 307, 308].includes(res.status) && location && (req.method === 'GET' || req.method === 'HEAD');
      if (!redirect || hop >= MAX_REDIRECTS) return res;
      await res.drain();
      const next = new URL(location, url);
      // Credentials are for the registry, never for the storage a blob redirects to.
      if (next.origin !== url.origin) {
        headers = Object.fromEntries(Object.entries(headers).filter(([k]) => k.toLowerCase() !== 'authorization'));
      }
      url = next;
    }
  }

  private async sendOnce(req: HttpRequest): Promise<HttpResponse> {
    const url = req.url;
    const resolved = this.resolveHost(url);
    const agent = await this.agentFor(url, resolved);
    const timeoutMs = req.timeoutMs ?? this.timeoutMs;
    const headers: Record<string, string> = { 'User-Agent': this.opts.userAgent ?? 'berth', ...req.headers };
    let body: Buffer | Readable | undefined;
    if (req.stream) body = req.stream;
    else if (typeof req.body === 'function') body = req.body();
    else if (req.body !== undefined) body = Buffer.isBuffer(req.body) ? req.body : Buffer.from(req.body);
    if (Buffer.isBuffer(body)) headers['Content-Length'] = String(body.length);
    else if (body === undefined && ['POST', 'PUT', 'PATCH'].includes(req.method)) headers['Content-Length'] = '0';

    const lib = url.protocol === 'http:' ? http : https;
    const signal = req.signal;
    if (signal?.aborted) throw abortError();
    return new Promise<HttpResponse>((resolve, reject) => {
      let settled = false;
      let response: http.IncomingMessage | undefined;
      // Abort is handled here rather than by node's `signal` option: node destroys the socket with the
      // error, and a keep-alive socket between requests has no error listener, which crashes the process.
      const onAbort = (): void => {
        if (response) {
          if (!response.readableEnded) response.destroy(abortError());
        } else r.destroy(abortError());
      };
      const cleanup = (): void => signal?.removeEventListener('abort', onAbort);
      const fail = (e: unknown): void => {
        cleanup();
        if (settled) return;
        settled = true;
        reject(e);
      };
      const r = lib.request(url, {
        method: req.method, headers, agent,
        ...(resolved.scheme === 'https' ? { rejectUnauthorized: resolved.rejectUnauthorized, ...(resolved.secureContext ? { secureContext: resolved.secureContext } : {}) } : {}),
      });
      signal?.addEventListener('abort', onAbort, { once: true });
      r.setTimeout(timeoutMs, () => {
        const e = new RegistryError({ kind: 'timeout', host: url.host, message: `${url.host} did not answer within ${Math.round(timeoutMs / 1000)} s while trying to ${req.what}. Check the network or proxy, or raise the timeout.` });
        if (response && !response.readableEnded) response.destroy(e);
        else r.destroy(e);
      });
      r.on('error', fail);
      r.once('response', (res) => {
        settled = true;
        response = res;
        res.once('end', cleanup);
        res.once('close', cleanup);
        this.opts.onRequest?.({ method: req.method, url: url.toString(), status: res.statusCode ?? 0 });
        if (this.opts.onWarning && res.headers.warning) this.reportWarnings(url.host, res.rawHeaders);
        resolve(wrapResponse(res, url, req.what));
      });
      if (body instanceof Readable) {
        body.on('error', (e) => r.destroy(e));
        body.pipe(r);
      } else r.end(body);
    });
  }
}

function abortError(): Error {
  return new DOMException('This operation was aborted', 'AbortError');
}

function wrapResponse(res: http.IncomingMessage, url: URL, what: string): HttpResponse {
  const header = (name: string): string | undefined => {
    const v = res.headers[name.toLowerCase()];
    return Array.isArray(v) ? v.join(', ') : v;
  };
  return {
    status: res.statusCode ?? 0,
    headers: res.headers,
    url,
    body: res,
    header,
    headerValues(name: string): string[] {
      const out: string[] = [];
      const lower = name.toLowerCase();
      for (let i = 0; i + 1 < res.rawHeaders.length; i += 2) if (res.rawHeaders[i]?.toLowerCase() === lower) out.push(res.rawHeaders[i + 1] ?? '');
      return out;
    },
    async bytes(maxBytes = DEFAULT_MAX_BODY_BYTES): Promise<Buffer> {
      return readAll(res, maxBytes, what, url.host);
    },
    async text(maxBytes = DEFAULT_MAX_BODY_BYTES): Promise<string> {
      return (await readAll(res, maxBytes, what, url.host)).toString('utf8');
    },
    async drain(): Promise<void> {
      if (res.readableEnded || res.destroyed) return;
      // A small remainder is read so the socket can be reused; a large one is cut off.
      const length = Number(res.headers['content-length'] ?? NaN);
      if (Number.isFinite(length) && length > 64 * 1024) {
        res.destroy();
        return;
      }
      try {
        for await (const _ of res) { /* discard */ }
      } catch {
        /* the body is not needed */
      }
    },
  };
}
