/**
 * The pull-through cache's client for its upstream registry: GET/HEAD on `/v2/…` with the
 * upstream's auth (Basic, or docker's bearer-token flow with the configured credentials), tokens
 * cached per scope until shortly before they expire. Self-contained on purpose: the cache must
 * keep working whatever happens to the extension's richer client.
 */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { Readable } from 'node:stream';
import { MANIFEST_MEDIA_TYPES } from '../../oci/mediaTypes';
import { parseChallenges, readTokenResponse, TokenCache, type Challenge, type TokenResponse } from '../../client/auth';

/** One HTTP exchange: the response head, and the body as a stream the caller consumes or destroys. */
export interface TransportResponse {
  status: number;
  headers: Headers;
  body: Readable;
}

export type Transport = (url: URL, init: { method: string; headers: Record<string, string>; signal: AbortSignal }) => Promise<TransportResponse>;

const MAX_REDIRECTS = 5;

function exchange(url: URL, init: Parameters<Transport>[1]): Promise<TransportResponse> {
  return new Promise((resolve, reject) => {
    const req = (url.protocol === 'https:' ? httpsRequest : httpRequest)(url, { method: init.method, headers: init.headers, signal: init.signal }, (res: IncomingMessage) => {
      const headers = new Headers();
      for (const [k, v] of Object.entries(res.headers)) {
        if (v !== undefined) headers.set(k, Array.isArray(v) ? v.join(', ') : v);
      }
      resolve({ status: res.statusCode ?? 0, headers, body: res });
    });
    req.once('error', reject);
    req.end();
  });
}

/**
 * node:http(s) directly: on node 20 the global fetch reads large bodies several times slower,
 * which would make every cache miss crawl. Follows redirects (registries send blob GETs to a
 * CDN), dropping credentials when the redirect leaves the host.
 */
export const nodeTransport: Transport = async (url, init) => {
  let current = url;
  let headers = init.headers;
  for (let hop = 0; ; hop++) {
    const res = await exchange(current, { ...init, headers });
    const location = res.headers.get('location');
    if (![301, 302, 303, 307, 308].includes(res.status) || !location || hop >= MAX_REDIRECTS) return res;
    res.body.destroy();
    const next = new URL(location, current);
    if (next.host !== current.host) headers = Object.fromEntries(Object.entries(headers).filter(([k]) => k.toLowerCase() !== 'authorization'));
    current = next;
  }
};

/** A Transport over a fetch function (tests inject a fake fetch this way). */
export function fetchTransport(fetchFn: typeof fetch): Transport {
  return async (url, init) => {
    const res = await fetchFn(url, { ...init, redirect: 'follow' });
    const body = res.body ? Readable.fromWeb(res.body as Parameters<typeof Readable.fromWeb>[0]) : Readable.from([]);
    return { status: res.status, headers: res.headers, body };
  };
}

export interface UpstreamOptions {
  remoteUrl: URL;
  username?: string;
  password?: string;
  /** Time to get the response head; the body may then take as long as it needs. */
  headersTimeoutMs?: number;
  /** Injected for tests; node:http(s) otherwise. */
  transport?: Transport;
  nowMs?: () => number;
}

export interface UpstreamResponse {
  status: number;
  headers: Headers;
  /** Present for GETs that succeeded; the caller must consume or destroy it. */
  body?: Readable;
}

export class UpstreamError extends Error {}

/**
 * The challenge the upstream client answers: bearer where offered, else basic. Parsing is the
 * registry client's (`src/client/auth.ts`), which handles several challenges and quoted commas.
 */
export function parseChallenge(header: string | null): Challenge | undefined {
  const challenges = parseChallenges(header ?? undefined);
  return challenges.find((c) => c.scheme === 'bearer') ?? challenges.find((c) => c.scheme === 'basic') ?? challenges[0];
}

export const MANIFEST_ACCEPT = MANIFEST_MEDIA_TYPES.join(', ');

export class UpstreamClient {
  private readonly tokens: TokenCache;
  private readonly transport: Transport;
  private readonly now: () => number;
  /** Remembered after the first 401, so later requests authenticate up front. */
  private challenge: Challenge | undefined;

  constructor(private readonly opts: UpstreamOptions) {
    this.transport = opts.transport ?? nodeTransport;
    this.now = opts.nowMs ?? Date.now;
    this.tokens = new TokenCache(this.now);
  }

  get remote(): string {
    return this.opts.remoteUrl.origin;
  }

  manifest(repository: string, reference: string, method: 'GET' | 'HEAD'): Promise<UpstreamResponse> {
    return this.request(method, `/v2/${repository}/manifests/${reference}`, repository, { Accept: MANIFEST_ACCEPT });
  }

  blob(repository: string, digest: string, method: 'GET' | 'HEAD'): Promise<UpstreamResponse> {
    return this.request(method, `/v2/${repository}/blobs/${digest}`, repository, {});
  }

  tags(repository: string): Promise<UpstreamResponse> {
    return this.request('GET', `/v2/${repository}/tags/list`, repository, {});
  }

  private async request(method: 'GET' | 'HEAD', path: string, repository: string, headers: Record<string, string>): Promise<UpstreamResponse> {
    const scope = `repository:${repository}:pull`;
    let res = await this.send(method, new URL(path, this.opts.remoteUrl), { ...headers, ...(await this.authHeader(scope, false)) });
    if (res.status === 401) {
      res.body.destroy();
      this.challenge = parseChallenge(res.headers.get('www-authenticate'));
      const auth = await this.authHeader(scope, true);
      if (!auth.Authorization) return { status: 401, headers: res.headers };
      res = await this.send(method, new URL(path, this.opts.remoteUrl), { ...headers, ...auth });
    }
    if (method === 'GET' && res.status >= 200 && res.status < 300) return res;
    res.body.destroy();
    return { status: res.status, headers: res.headers };
  }

  /** Sends a request; the timeout covers the response head only, so a long body is never cut. */
  private async send(method: string, url: URL, headers: Record<string, string>): Promise<TransportResponse> {
    const timeoutMs = this.opts.headersTimeoutMs ?? 30_000;
    const ac = new AbortController();
    const timer = setTimeout(() => ac.abort(new UpstreamError(`${url.origin} did not answer within ${timeoutMs} ms`)), timeoutMs);
    try {
      return await this.transport(url, { method, headers, signal: ac.signal });
    } catch (e) {
      throw new UpstreamError(`upstream ${url.origin} unreachable: ${(e as Error).message}`);
    } finally {
      clearTimeout(timer);
    }
  }

  private basic(): string | undefined {
    const { username, password } = this.opts;
    return username !== undefined ? `Basic ${Buffer.from(`${username}:${password ?? ''}`).toString('base64')}` : undefined;
  }

  private async authHeader(scope: string, fresh: boolean): Promise<Record<string, string>> {
    const c = this.challenge;
    if (!c) return {};
    if (c.scheme === 'basic') {
      const b = this.basic();
      return b ? { Authorization: b } : {};
    }
    if (c.scheme !== 'bearer' || !c.params['realm']) return {};
    const cached = this.tokens.get(scope);
    if (!fresh && cached) return { Authorization: `Bearer ${cached}` };
    const url = new URL(c.params['realm']);
    if (c.params['service']) url.searchParams.set('service', c.params['service']);
    url.searchParams.set('scope', scope);
    const basic = this.basic();
    const res = await this.send('GET', url, basic ? { Authorization: basic } : {});
    if (res.status !== 200) {
      res.body.destroy();
      return {};
    }
    const chunks: Buffer[] = [];
    for await (const c of res.body as AsyncIterable<Buffer>) chunks.push(c);
    let body: TokenResponse;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as typeof body;
    } catch {
      return {};
    }
    const token = readTokenResponse(body, this.now());
    if (!token) return {};
    this.tokens.set(scope, token);
    return { Authorization: `Bearer ${token.token}` };
  }
}
