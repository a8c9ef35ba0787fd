/**
 * The pull-through cache's client for its upstream registry: GET/HEAD on `/v2/…` with the
 * upstream's auth (Basic, or docker's bearer-token flow with the configured credentials), tokens
 * cached per scope until shortly before they expire. Self-contained on purpose: the cache must
 * keep working whatever happens to the extension's richer client.
 */
import { Readable } from 'node:stream';
import { MANIFEST_MEDIA_TYPES } from '../../oci/mediaTypes';

export interface UpstreamOptions {
  remoteUrl: URL;
  username?: string;
  password?: string;
  /** Time to get the response head; the body may then take as long as it needs. */
  headersTimeoutMs?: number;
  /** Injected for tests; the global fetch otherwise. */
  fetch?: typeof fetch;
  nowMs?: () => number;
}

export interface UpstreamResponse {
  status: number;
  headers: Headers;
  /** Present for GETs that succeeded; the caller must consume or destroy it. */
  body?: Readable;
}

export class UpstreamError extends Error {}

interface Challenge {
  scheme: string;
  params: Record<string, string>;
}

/** Parses `Bearer realm="…",service="…",scope="…"` (quoted values may hold commas). */
export function parseChallenge(header: string | null): Challenge | undefined {
  if (!header) return undefined;
  const m = /^\s*(\w+)\s*(.*)$/s.exec(header);
  if (!m) return undefined;
  const params: Record<string, string> = {};
  const re = /([\w-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))/g;
  for (let p = re.exec(m[2] ?? ''); p; p = re.exec(m[2] ?? '')) params[(p[1] as string).toLowerCase()] = (p[2] ?? p[3] ?? '').replace(/\\(.)/g, '$1');
  return { scheme: (m[1] as string).toLowerCase(), params };
}

export const MANIFEST_ACCEPT = MANIFEST_MEDIA_TYPES.join(', ');

export class UpstreamClient {
  private readonly tokens = new Map<string, { token: string; expiresAtMs: number }>();
  private readonly fetchFn: typeof fetch;
  private readonly now: () => number;
  /** Remembered after the first 401, so later requests authenticate up front. */
  private challenge: Challenge | undefined;

  constructor(private readonly opts: UpstreamOptions) {
    this.fetchFn = opts.fetch ?? fetch;
    this.now = opts.nowMs ?? Date.now;
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
    let res = await this.send(method, path, { ...headers, ...(await this.authHeader(scope, false)) });
    if (res.status === 401) {
      await res.body?.cancel().catch(() => undefined);
      this.challenge = parseChallenge(res.headers.get('www-authenticate'));
      const auth = await this.authHeader(scope, true);
      if (!auth.Authorization) return { status: 401, headers: res.headers };
      res = await this.send(method, path, { ...headers, ...auth });
    }
    const ok = res.status >= 200 && res.status < 300;
    if (method === 'GET' && ok && res.body) {
      return { status: res.status, headers: res.headers, body: Readable.fromWeb(res.body as Parameters<typeof Readable.fromWeb>[0]) };
    }
    await res.body?.cancel().catch(() => undefined);
    return { status: res.status, headers: res.headers };
  }

  private async send(method: string, path: string, headers: Record<string, string>): Promise<Response> {
    const ac = new AbortController();
    const timer = setTimeout(() => ac.abort(new UpstreamError(`upstream ${this.remote} did not answer within ${this.opts.headersTimeoutMs ?? 30_000} ms`)), this.opts.headersTimeoutMs ?? 30_000);
    try {
      return await this.fetchFn(new URL(path, this.opts.remoteUrl), { method, headers, signal: ac.signal, redirect: 'follow' });
    } catch (e) {
      throw new UpstreamError(`upstream ${this.remote} unreachable: ${(e as Error).message}`);
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
    if (!fresh && cached && cached.expiresAtMs > this.now()) return { Authorization: `Bearer ${cached.token}` };
    const url = new URL(c.params['realm']);
    if (c.params['service']) url.searchParams.set('service', c.params['service']);
    url.searchParams.set('scope', scope);
    const basic = this.basic();
    let res: Response;
    try {
      res = await this.fetchFn(url, { headers: basic ? { Authorization: basic } : {}, signal: AbortSignal.timeout(this.opts.headersTimeoutMs ?? 30_000) });
    } catch (e) {
      throw new UpstreamError(`upstream token endpoint ${url.origin} unreachable: ${(e as Error).message}`);
    }
    if (!res.ok) {
      await res.body?.cancel().catch(() => undefined);
      return {};
    }
    const body = (await res.json()) as { token?: string; access_token?: string; expires_in?: number };
    const token = body.token ?? body.access_token;
    if (!token) return {};
    // Renew a little early so a token never expires between check and use.
    const lifetimeMs = Math.max(10, (body.expires_in ?? 60) - 10) * 1000;
    this.tokens.set(scope, { token, expiresAtMs: this.now() + lifetimeMs });
    return { Authorization: `Bearer ${token}` };
  }
}
