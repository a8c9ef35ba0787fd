/**
 * Authenticated requests to one registry: remembers how the host authenticates (none, Basic, Bearer
 * realm/service), sends credentials or a cached token up front, and on a 401 reads the new challenge,
 * fetches a token for its scopes and asks again once.
 */
import {
  basicAuthorization, challengeScopes, IDENTITY_TOKEN_USERNAME, mergeScopes, parseChallenges, readTokenResponse, TokenCache,
  type Challenge, type Credential, type CredentialProvider, type TokenResponse,
} from './auth';
import { errorFromResponse, RegistryError } from './errors';
import { isLoopbackHost, parseRetryAfter, type HttpResponse, type RequestBody, type Transport } from './transport';
import type { Readable } from 'node:stream';

export type AuthScheme = 'anonymous' | 'basic' | 'bearer';

interface HostAuth {
  scheme: AuthScheme;
  realm?: string;
  service?: string;
}

export interface SessionRequest {
  method: string;
  /** A path from the registry root (`/v2/…`) or an absolute URL (a `Link`, an upload `Location`). */
  path: string;
  scopes: string[];
  what: string;
  headers?: Record<string, string>;
  body?: RequestBody;
  stream?: Readable;
  signal?: AbortSignal;
  timeoutMs?: number;
  /** Statuses returned to the caller; anything else becomes a typed error. Default 200–299. */
  expect?: number[];
}

export interface SessionShared {
  transport: Transport;
  tokens: TokenCache;
  credentials: CredentialProvider | undefined;
  clientId: string;
  nowMs: () => number;
}

export class RegistrySession {
  private auth: HostAuth | undefined;
  private credential: Promise<Credential | undefined> | undefined;
  private readonly pendingTokens = new Map<string, Promise<{ token: string; expiresAtMs: number }>>();

  /**
   * @param registry the name used in references and for credentials (`docker.io`)
   * @param apiHost where the API answers (`registry-1.docker.io`)
   */
  constructor(readonly registry: string, readonly apiHost: string, private readonly shared: SessionShared) {}

  get transport(): Transport {
    return this.shared.transport;
  }

  /** How this host authenticated last, once known. */
  get authScheme(): AuthScheme | undefined {
    return this.auth?.scheme;
  }

  /** Drops remembered credentials and tokens, after the user signs in or out. */
  forget(): void {
    this.credential = undefined;
    this.auth = undefined;
    this.shared.tokens.forgetHost(this.apiHost);
  }

  async baseUrl(signal?: AbortSignal): Promise<string> {
    return this.shared.transport.baseUrl(this.apiHost, signal);
  }

  getCredential(): Promise<Credential | undefined> {
    if (!this.credential) {
      const provider = this.shared.credentials;
      this.credential = Promise.resolve(provider ? provider(this.registry) : undefined).catch((e: unknown) => {
        this.credential = undefined;
        throw new RegistryError({ kind: 'unauthorized', host: this.registry, cause: e, message: `Could not read the credentials for ${this.registry}: ${(e as Error).message ?? String(e)}` });
      });
    }
    return this.credential;
  }

  /** Sends a request with authentication, retrying once after a 401 with a fresh challenge. */
  async request(req: SessionRequest): Promise<HttpResponse> {
    const base = new URL(await this.baseUrl(req.signal));
    const url = new URL(req.path, base);
    // Behind a TLS-terminating proxy a registry may name itself with the wrong scheme in Link and
    // Location: for its own host, keep the scheme that works (or page two would lose its credentials).
    if (url.host === base.host && url.protocol !== base.protocol) url.protocol = base.protocol;
    // Credentials go only to the registry itself, never to another host a Link or Location names.
    const sameHost = url.origin === base.origin;
    const replayable = req.stream === undefined;
    for (let attempt = 0; ; attempt++) {
      const headers: Record<string, string> = { ...req.headers };
      const authorization = sameHost ? await this.authorization(req.scopes, req.signal) : undefined;
      if (authorization) headers['Authorization'] = authorization;
      const res = await this.shared.transport.send({
        method: req.method, url, headers, what: req.what,
        ...(req.body !== undefined ? { body: req.body } : {}),
        ...(req.stream ? { stream: req.stream } : {}),
        ...(req.signal ? { signal: req.signal } : {}),
        ...(req.timeoutMs !== undefined ? { timeoutMs: req.timeoutMs } : {}),
      });
      if (res.status === 401 && attempt === 0 && replayable && sameHost) {
        const challenges = parseChallenges(res.headerValues('www-authenticate'));
        await res.drain();
        await this.onChallenge(challenges, req.scopes, req.what, req.signal);
        continue;
      }
      const expected = req.expect ? req.expect.includes(res.status) : res.status >= 200 && res.status < 300;
      if (expected) return res;
      throw await this.failure(res, req);
    }
  }

  /** Turns an unexpected answer into a typed error, reading (a bounded part of) its body. */
  async failure(res: HttpResponse, req: { method: string; what: string }): Promise<RegistryError> {
    let body = '';
    try {
      body = req.method === 'HEAD' ? '' : await res.text(64 * 1024);
    } catch {
      /* the status says enough */
    }
    const retryAfterMs = parseRetryAfter(res.header('retry-after'));
    const err = errorFromResponse({ host: this.registry, status: res.status, what: req.what, body, method: req.method, ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) });
    if (err.kind === 'unauthorized' && !(await this.getCredential())) {
      return new RegistryError({ kind: 'unauthorized', host: this.registry, status: res.status, errors: err.errors, message: `${this.registry} needs you to sign in to ${req.what}.` });
    }
    return err;
  }

  private async authorization(scopes: string[], signal?: AbortSignal): Promise<string | undefined> {
    const auth = this.auth;
    if (!auth || auth.scheme === 'anonymous') return undefined;
    if (auth.scheme === 'basic') return this.basicHeader();
    const key = TokenCache.key(this.apiHost, auth.realm ?? '', auth.service ?? '', scopes);
    const cached = this.shared.tokens.get(key);
    if (cached) return `Bearer ${cached}`;
    // Parallel requests (a copy's blobs) share one token request per scope.
    let pending = this.pendingTokens.get(key);
    if (!pending) {
      pending = this.fetchToken(auth, scopes, signal).finally(() => this.pendingTokens.delete(key));
      this.pendingTokens.set(key, pending);
    }
    const token = await pending;
    this.shared.tokens.set(key, token);
    return `Bearer ${token.token}`;
  }

  private async basicHeader(): Promise<string | undefined> {
    const c = await this.getCredential();
    if (!c) return undefined;
    if ('password' in c) return basicAuthorization(c.username, c.password);
    return basicAuthorization(c.username ?? IDENTITY_TOKEN_USERNAME, c.identityToken);
  }

  private async onChallenge(challenges: Challenge[], scopes: string[], what: string, signal?: AbortSignal): Promise<void> {
    const bearer = challenges.find((c) => c.scheme === 'bearer' && c.params['realm']);
    const basic = challenges.find((c) => c.scheme === 'basic');
    if (bearer) {
      const auth: HostAuth = { scheme: 'bearer', realm: bearer.params['realm'] ?? '', service: bearer.params['service'] ?? '' };
      this.auth = auth;
      const key = TokenCache.key(this.apiHost, auth.realm ?? '', auth.service ?? '', scopes);
      this.shared.tokens.delete(key);
      // The challenge names what this request needs; asking for the caller's scopes as well lets one token serve both.
      const token = await this.fetchToken(auth, mergeScopes(challengeScopes(bearer), scopes), signal);
      this.shared.tokens.set(key, token);
      return;
    }
    if (basic) {
      this.auth = { scheme: 'basic' };
      return;
    }
    throw new RegistryError({ kind: 'not-a-registry', host: this.registry, status: 401, message: `${this.registry} answered 401 to ${what} without a Basic or Bearer challenge; it does not look like a container registry.` });
  }

  /** GET the realm with Basic credentials, or the OAuth2 POST form for an identity token. */
  private async fetchToken(auth: HostAuth, scopes: string[], signal?: AbortSignal): Promise<{ token: string; expiresAtMs: number }> {
    let realm: URL;
    try {
      realm = new URL(auth.realm ?? '');
    } catch {
      throw new RegistryError({ kind: 'invalid-response', host: this.registry, message: `${this.registry} sent an unusable token realm "${auth.realm ?? ''}".` });
    }
    const credential = await this.getCredential();
    if (realm.protocol !== 'https:' && !(realm.protocol === 'http:' && (isLoopbackHost(realm.host) || this.shared.transport.hostOptions(this.apiHost).scheme === 'http'))) {
      throw new RegistryError({ kind: 'invalid-response', host: this.registry, message: `${this.registry} asks for tokens from ${realm.origin}, which is not HTTPS; refusing to send credentials there.` });
    }
    const what = `get a token for ${scopes.join(' ') || this.registry}`;
    let res: HttpResponse | undefined;
    if (credential && 'identityToken' in credential) {
      const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: credential.identityToken, client_id: this.shared.clientId });
      if (auth.service) form.set('service', auth.service);
      if (scopes.length) form.set('scope', scopes.join(' '));
      res = await this.shared.transport.send({
        method: 'POST', url: realm, what, body: form.toString(),
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, ...(signal ? { signal } : {}),
      });
      // Some token servers only answer GET; they say so with 404 or 405.
      if (res.status === 404 || res.status === 405) {
        await res.drain();
        res = undefined;
      }
    }
    if (!res) {
      const url = new URL(realm);
      if (auth.service) url.searchParams.set('service', auth.service);
      for (const s of scopes) url.searchParams.append('scope', s);
      const headers: Record<string, string> = {};
      if (credential && 'password' in credential) headers['Authorization'] = basicAuthorization(credential.username, credential.password);
      else if (credential) headers['Authorization'] = basicAuthorization(credential.username ?? IDENTITY_TOKEN_USERNAME, credential.identityToken);
      res = await this.shared.transport.send({ method: 'GET', url, what, headers, ...(signal ? { signal } : {}) });
    }
    if (res.status !== 200) {
      const err = await this.failure(res, { method: 'GET', what });
      if (res.status === 401 || res.status === 403) {
        throw new RegistryError({
          kind: 'unauthorized', host: this.registry, status: res.status, errors: err.errors,
          message: credential
            ? `The token service of ${this.registry} refused the saved credentials. Sign in to ${this.registry} again.`
            : `${this.registry} needs you to sign in (its token service refused anonymous access).`,
        });
      }
      throw err;
    }
    let body: TokenResponse;
    try {
      body = JSON.parse(await res.text()) as TokenResponse;
    } catch (e) {
      throw new RegistryError({ kind: 'invalid-response', host: this.registry, cause: e, message: `The token service of ${this.registry} answered with something that is not JSON.` });
    }
    const token = readTokenResponse(body, this.shared.nowMs());
    if (!token) throw new RegistryError({ kind: 'invalid-response', host: this.registry, message: `The token service of ${this.registry} answered without a token.` });
    return token;
  }

  /** Records that the host answered without asking for credentials. */
  markAnonymous(): void {
    if (!this.auth) this.auth = { scheme: 'anonymous' };
  }
}
