/**
 * Authentication and authorization for the registry: Basic credentials checked against htpasswd,
 * or docker's bearer-token flow with the built-in token endpoint, and the access rules on top.
 *
 * Outcomes follow what clients act on: 401 with a challenge when new credentials or a new token
 * could help (none sent, wrong password, expired token, token for another scope the caller may
 * hold), 403 DENIED when the caller is known and the rules refuse, 429 after too many wrong passwords.
 */
import { readFileSync } from 'node:fs';
import { AccessPolicy, covers, formatScope, parseScopes, type Access } from './access';
import type { AuthConfig } from './config';
import { TOKEN_PATH } from './config';
import { HtpasswdFile, safeEqual } from './htpasswd';
import { TokenSigner, type TokenClaims } from './jwt';
import { LoginGuard, type LoginOutcome } from './loginGuard';
import type { PasswordCompare } from './passwordChecks';

/** What authorization needs to know of a request; node's IncomingMessage fits after a small mapping. */
export interface AuthRequestInfo {
  headers: Record<string, string | string[] | undefined>;
  remoteAddress: string;
  /** `https` or `http`, to build the token realm on the host the client used. */
  scheme: string;
}

export type AuthDecision =
  | { allowed: true; user?: string }
  | { allowed: false; status: 401 | 403 | 429; code: 'UNAUTHORIZED' | 'DENIED' | 'TOOMANYREQUESTS'; message: string; headers: Record<string, string>; detail?: unknown };

export interface TokenEndpointResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

type Credentials = { kind: 'basic'; user: string; password: string } | { kind: 'bearer'; token: string } | { kind: 'none' };

function header(h: AuthRequestInfo['headers'], name: string): string | undefined {
  const v = h[name];
  return Array.isArray(v) ? v[0] : v;
}

export function readCredentials(authorization: string | undefined): Credentials {
  if (!authorization) return { kind: 'none' };
  const space = authorization.indexOf(' ');
  const scheme = authorization.slice(0, space).toLowerCase();
  const value = authorization.slice(space + 1).trim();
  if (scheme === 'bearer' && value) return { kind: 'bearer', token: value };
  if (scheme === 'basic') {
    const text = Buffer.from(value, 'base64').toString('utf8');
    const colon = text.indexOf(':');
    if (colon > 0) return { kind: 'basic', user: text.slice(0, colon), password: text.slice(colon + 1) };
  }
  return { kind: 'none' };
}

const quote = (s: string): string => `"${s.replace(/["\\]/g, '\\$&')}"`;

export interface RegistryAuthOptions {
  config: AuthConfig;
  policy: AccessPolicy;
  maxFailedLoginsPerMinute: number;
  /** bcrypt comparisons running at once, over all clients. */
  maxConcurrentPasswordChecks: number;
  /** Where bcrypt runs: the registry's worker threads; this thread when not given. */
  comparePassword?: PasswordCompare;
  /** Seconds since the epoch; injected so tests can expire tokens without waiting. */
  nowSeconds?: () => number;
  /** Reports each failed login (user name only, never the password) for the request log. */
  onFailedLogin?: (user: string, remoteAddress: string) => void;
}

export class RegistryAuth {
  readonly htpasswd: HtpasswdFile;
  readonly policy: AccessPolicy;
  readonly signer: TokenSigner | undefined;
  readonly logins: LoginGuard;
  private readonly now: () => number;

  constructor(private readonly opts: RegistryAuthOptions) {
    this.htpasswd = new HtpasswdFile(opts.config.htpasswdPath, opts.comparePassword);
    this.policy = opts.policy;
    this.logins = new LoginGuard({ maxFailuresPerMinute: opts.maxFailedLoginsPerMinute, maxConcurrentChecks: opts.maxConcurrentPasswordChecks });
    this.now = opts.nowSeconds ?? (() => Math.floor(Date.now() / 1000));
    const t = opts.config.token;
    if (t) {
      this.signer = t.keyPath
        ? TokenSigner.fromPem(readFileSync(t.keyPath, 'utf8'), t.issuer, t.service)
        : TokenSigner.ephemeral(t.issuer, t.service);
    }
  }

  get mode(): 'basic' | 'token' {
    return this.signer ? 'token' : 'basic';
  }

  /** Decides whether the request may perform `needed` (empty for `/v2/`: any signed-in caller). */
  async authorize(req: AuthRequestInfo, needed: readonly Access[]): Promise<AuthDecision> {
    const creds = readCredentials(header(req.headers, 'authorization'));
    if (creds.kind === 'bearer' && this.signer) return this.authorizeToken(req, creds.token, needed);
    let user: string | undefined;
    if (creds.kind === 'basic') {
      const login = await this.login(creds.user, creds.password, req.remoteAddress);
      if (login === 'wrong') return this.challenge(req, needed, 'invalid_token', 'wrong user name or password');
      if (login !== 'ok') return tooMany(login);
      user = creds.user;
    }
    if (user === undefined) {
      // No credentials: what anonymous rules grant is allowed as it is; anything else needs a login.
      if (needed.length > 0 && covers(this.policy.grant(undefined, needed), needed)) return { allowed: true };
      return this.challenge(req, needed, undefined, 'authentication required');
    }
    return this.decide(req, user, this.policy.grant(user, needed), needed);
  }

  private authorizeToken(req: AuthRequestInfo, token: string, needed: readonly Access[]): AuthDecision {
    const signer = this.signer as TokenSigner;
    const checked = signer.check(token, this.now());
    if (!checked.ok) return this.challenge(req, needed, 'invalid_token', checked.reason === 'expired' ? 'the token has expired; log in again' : 'the token is not valid here');
    const user = checked.claims.sub === '' ? undefined : checked.claims.sub;
    if (user !== undefined && !this.credentialStillValid(checked.claims)) return this.challenge(req, needed, 'invalid_token', 'the password of this user changed or the user was removed; log in again');
    if (covers(checked.claims.access, needed)) return { allowed: true, ...(user !== undefined ? { user } : {}) };
    // The token does not carry this scope. If the rules would grant it, a new token helps: 401.
    const grantable = this.policy.grant(user, needed);
    if (covers(grantable, needed) || user === undefined) return this.challenge(req, needed, 'insufficient_scope', 'the token does not grant this access; request a token for this scope');
    return this.decide(req, user, grantable, needed);
  }

  private decide(req: AuthRequestInfo, user: string, granted: readonly Access[], needed: readonly Access[]): AuthDecision {
    if (needed.length === 0 || covers(granted, needed)) return { allowed: true, user };
    return {
      allowed: false, status: 403, code: 'DENIED', headers: {},
      message: 'requested access to the resource is denied',
      detail: needed.map((a) => ({ Type: a.type, Name: a.name, Action: a.actions.join(',') })),
    };
  }

  private challenge(req: AuthRequestInfo, needed: readonly Access[], error: string | undefined, message: string): AuthDecision {
    return { allowed: false, status: 401, code: 'UNAUTHORIZED', message, headers: { 'WWW-Authenticate': this.challengeHeader(req, needed, error) }, detail: needed.length ? needed.map((a) => ({ Type: a.type, Name: a.name, Action: a.actions.join(',') })) : undefined };
  }

  challengeHeader(req: AuthRequestInfo, needed: readonly Access[], error?: string): string {
    const t = this.opts.config.token;
    if (!t) return `Basic realm=${quote(this.opts.config.basicRealm)}`;
    const host = header(req.headers, 'host') ?? 'localhost';
    const realm = t.realm ?? `${req.scheme}://${host}${TOKEN_PATH}`;
    const parts = [`realm=${quote(realm)}`, `service=${quote(t.service)}`];
    if (needed.length) parts.push(`scope=${quote(formatScope(needed))}`);
    if (error) parts.push(`error=${quote(error)}`);
    return `Bearer ${parts.join(',')}`;
  }

  private async login(user: string, password: string, remoteAddress: string): Promise<LoginOutcome> {
    const outcome = await this.logins.check(user, remoteAddress, () => this.htpasswd.isRemembered(user, password), () => this.htpasswd.verify(user, password));
    if (outcome === 'wrong') this.opts.onFailedLogin?.(user, remoteAddress);
    return outcome;
  }

  /** `_catalog` shows only what the caller may pull. */
  canPull(user: string | undefined, repository: string): boolean {
    return this.policy.canPull(user, repository);
  }

  /**
   * The token endpoint: `GET` with optional Basic credentials (docker's classic flow; `offline_token=true`
   * adds a refresh token, which `docker login` stores as its identity token), and the OAuth2 `POST`
   * form with `grant_type=password` or `grant_type=refresh_token`.
   */
  async tokenEndpoint(req: AuthRequestInfo & { method: string }, query: URLSearchParams, formBody: string | undefined): Promise<TokenEndpointResponse> {
    const signer = this.signer;
    if (!signer) return jsonResponse(404, { errors: [{ code: 'UNSUPPORTED', message: 'token authentication is not configured on this registry' }] });
    const limited = (outcome: Limited): TokenEndpointResponse => {
      const d = tooMany(outcome) as Extract<AuthDecision, { allowed: false }>;
      return jsonResponse(429, { errors: [{ code: d.code, message: d.message }] }, d.headers);
    };
    const unauthorized = (message: string): TokenEndpointResponse =>
      jsonResponse(401, { errors: [{ code: 'UNAUTHORIZED', message }] }, { 'WWW-Authenticate': `Basic realm=${quote(this.opts.config.basicRealm)}` });

    if (req.method === 'POST') {
      const form = new URLSearchParams(formBody ?? '');
      if (!this.serviceMatches(form.get('service'))) return oauthError(400, 'invalid_request', `unknown service; this registry is "${signer.service}"`);
      const scopes = parseScopes(form.getAll('scope'));
      const grantType = form.get('grant_type');
      let user: string;
      if (grantType === 'password') {
        const name = form.get('username') ?? '';
        const login = await this.login(name, form.get('password') ?? '', req.remoteAddress);
        if (login === 'wrong') return unauthorized('wrong user name or password');
        if (login !== 'ok') return limited(login);
        user = name;
      } else if (grantType === 'refresh_token') {
        // A refresh token is a signature check, not a password guess: there is nothing to rate-limit.
        const checked = signer.check(form.get('refresh_token') ?? '', this.now(), 'refresh');
        if (!checked.ok || checked.claims.sub === '' || !this.credentialStillValid(checked.claims)) {
          return oauthError(401, 'invalid_grant', 'the refresh token is not valid; log in again');
        }
        user = checked.claims.sub;
      } else {
        return oauthError(400, 'unsupported_grant_type', 'use grant_type=password or grant_type=refresh_token');
      }
      const issued = this.issueFor(user, scopes);
      const offline = grantType === 'refresh_token' || form.get('access_type') === 'offline';
      return jsonResponse(200, {
        access_token: issued.token, token_type: 'Bearer', expires_in: issued.expiresIn, issued_at: issued.issuedAt, scope: formatScope(issued.granted),
        ...(offline ? { refresh_token: grantType === 'refresh_token' ? form.get('refresh_token') : this.refreshTokenFor(user) } : {}),
      });
    }

    if (!this.serviceMatches(query.get('service'))) return jsonResponse(400, { errors: [{ code: 'UNSUPPORTED', message: `unknown service; this registry is "${signer.service}"` }] });
    const creds = readCredentials(header(req.headers, 'authorization'));
    let user: string | undefined;
    if (creds.kind === 'basic') {
      const login = await this.login(creds.user, creds.password, req.remoteAddress);
      if (login === 'wrong') return unauthorized('wrong user name or password');
      if (login !== 'ok') return limited(login);
      user = creds.user;
    } else if (query.get('account')) {
      // A named account without a password must not get that account's rights.
      return unauthorized('credentials are required for this account');
    }
    const issued = this.issueFor(user, parseScopes(query.getAll('scope')));
    const refresh = user !== undefined && query.get('offline_token') === 'true' ? { refresh_token: this.refreshTokenFor(user) } : {};
    return jsonResponse(200, { token: issued.token, access_token: issued.token, expires_in: issued.expiresIn, issued_at: issued.issuedAt, ...refresh });
  }

  private serviceMatches(service: string | null): boolean {
    return service === null || service === '' || service === this.signer?.service;
  }

  private issueFor(user: string | undefined, requested: readonly Access[]): { token: string; granted: Access[]; expiresIn: number; issuedAt: string } {
    const signer = this.signer as TokenSigner;
    const ttl = (this.opts.config.token as NonNullable<AuthConfig['token']>).expirationSeconds;
    const granted = this.policy.grant(user, requested);
    const now = this.now();
    return { token: signer.issue(user ?? '', granted, ttl, now, undefined, user === undefined ? undefined : this.htpasswd.credentialStamp(user)), granted, expiresIn: ttl, issuedAt: new Date(now * 1000).toISOString() };
  }

  private refreshTokenFor(user: string): string {
    const t = this.opts.config.token as NonNullable<AuthConfig['token']>;
    return (this.signer as TokenSigner).issue(user, [], t.refreshExpirationSeconds, this.now(), 'refresh', this.htpasswd.credentialStamp(user));
  }

  /** A user's token lives only as long as the password it was issued for. */
  private credentialStillValid(claims: TokenClaims): boolean {
    const current = this.htpasswd.credentialStamp(claims.sub);
    return current !== undefined && typeof claims.cred === 'string' && safeEqual(claims.cred, current);
  }
}

type Limited = Exclude<LoginOutcome, 'ok' | 'wrong'>;

function tooMany(outcome: Limited): AuthDecision {
  const retryAfter = Math.max(1, outcome.retryAfterSeconds);
  return { allowed: false, status: 429, code: 'TOOMANYREQUESTS', headers: { 'Retry-After': String(retryAfter) }, message: outcome.message };
}

function jsonResponse(status: number, body: unknown, headers: Record<string, string> = {}): TokenEndpointResponse {
  return { status, headers: { 'Content-Type': 'application/json', 'Cache-Control': 'no-store', ...headers }, body: JSON.stringify(body) };
}

function oauthError(status: number, error: string, description: string): TokenEndpointResponse {
  return jsonResponse(status, { error, error_description: description, errors: [{ code: status === 401 ? 'UNAUTHORIZED' : 'UNSUPPORTED', message: description }] });
}
