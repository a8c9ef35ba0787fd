/**
 * Registry authentication: the `WWW-Authenticate` challenge parser, scopes, credentials as the caller
 * supplies them, and a token cache per host and scope.
 */

/** Credentials for one registry, as the credentials module (config.json, helpers, SecretStorage) finds them. */
export type Credential =
  | { username: string; password: string }
  /** An OAuth2 refresh token (`identitytoken` in config.json); `username` is sent only if a registry needs Basic. */
  | { identityToken: string; username?: string };

/** Looks up credentials for a registry host (as written in references, e.g. `docker.io`, `localhost:5000`). */
export type CredentialProvider = (registry: string) => Promise<Credential | undefined> | Credential | undefined;

export interface Challenge {
  /** Lowercased: `basic`, `bearer`. */
  scheme: string;
  /** Parameter names lowercased, values unquoted. */
  params: Record<string, string>;
}

/**
 * Parses `WWW-Authenticate` values (RFC 7235): several challenges, parameters in any order, quoted
 * strings with commas and `\"` escapes, and several headers (pass an array or a comma-joined string).
 */
export function parseChallenges(header: string | string[] | undefined): Challenge[] {
  if (header === undefined) return [];
  const text = Array.isArray(header) ? header.join(', ') : header;
  const challenges: Challenge[] = [];
  let i = 0;
  const n = text.length;
  const skip = (re: RegExp): void => {
    while (i < n && re.test(text.charAt(i))) i++;
  };
  const token = (): string => {
    const start = i;
    while (i < n && /[!#$%&'*+.^_`|~0-9A-Za-z-]/.test(text.charAt(i))) i++;
    return text.slice(start, i);
  };
  let current: Challenge | undefined;
  while (i < n) {
    skip(/[\s,]/);
    if (i >= n) break;
    const name = token();
    if (!name) {
      i++; // a stray character: skip it rather than loop forever
      continue;
    }
    skip(/[ \t]/);
    if (text.charAt(i) === '=' && current) {
      // `name=value`: a parameter of the current challenge (token68 values end with '=' and have no value after).
      i++;
      skip(/[ \t]/);
      let value: string;
      if (text.charAt(i) === '"') {
        i++;
        value = '';
        while (i < n && text.charAt(i) !== '"') {
          if (text.charAt(i) === '\\' && i + 1 < n) i++;
          value += text.charAt(i);
          i++;
        }
        i++; // closing quote
      } else {
        const vStart = i;
        while (i < n && text.charAt(i) !== ',' && !/\s/.test(text.charAt(i))) i++;
        value = text.slice(vStart, i);
      }
      current.params[name.toLowerCase()] = value;
      continue;
    }
    // A new auth-scheme.
    current = { scheme: name.toLowerCase(), params: {} };
    challenges.push(current);
    // A token68 credential right after the scheme (e.g. `Negotiate abc==`) is not a parameter: skip it.
    skip(/[ \t]/);
    const t68 = /^[A-Za-z0-9\-._~+/]+=*(?=\s*(?:,|$))/.exec(text.slice(i));
    if (t68 && !/^[A-Za-z0-9\-._~+/]+\s*=[^=]/.test(text.slice(i))) i += t68[0].length;
  }
  return challenges;
}

/** Scopes of a challenge's `scope` parameter: space-separated, each `type:name:actions`. */
export function challengeScopes(c: Challenge): string[] {
  return (c.params['scope'] ?? '').split(/\s+/).filter(Boolean);
}

export function repositoryScope(repository: string, actions: Array<'pull' | 'push' | 'delete' | '*'>): string {
  return `repository:${repository}:${actions.join(',')}`;
}

export const CATALOG_SCOPE = 'registry:catalog:*';

/**
 * Merges scopes so each resource appears once with every action asked for
 * (`repository:a:pull` + `repository:a:push` → `repository:a:pull,push`), sorted for stable cache keys.
 */
export function mergeScopes(...lists: string[][]): string[] {
  const byResource = new Map<string, Set<string>>();
  for (const scope of lists.flat()) {
    // The name may itself contain ':' (a registry host with a port in some clouds), so split from both ends.
    const first = scope.indexOf(':');
    const last = scope.lastIndexOf(':');
    if (first < 0 || last === first) {
      byResource.set(scope, byResource.get(scope) ?? new Set());
      continue;
    }
    const resource = scope.slice(0, last);
    const actions = byResource.get(resource) ?? new Set<string>();
    for (const a of scope.slice(last + 1).split(',').filter(Boolean)) actions.add(a);
    byResource.set(resource, actions);
  }
  return [...byResource.entries()]
    .map(([resource, actions]) => (actions.size ? `${resource}:${[...actions].sort().join(',')}` : resource))
    .sort();
}

export interface TokenResponse {
  token?: string;
  access_token?: string;
  expires_in?: number;
  issued_at?: string;
  refresh_token?: string;
}

/** Docker's token spec: a token without `expires_in` lasts 60 s, and clients assume at least that. */
export const MIN_TOKEN_LIFETIME_MS = 60_000;

export interface CachedToken {
  token: string;
  expiresAtMs: number;
}

/** Reads `token` or `access_token` (registries send either), and when it expires. */
export function readTokenResponse(body: TokenResponse, nowMs: number): CachedToken | undefined {
  const token = body.access_token || body.token;
  if (!token) return undefined;
  const lifetimeMs = Math.max(MIN_TOKEN_LIFETIME_MS, (typeof body.expires_in === 'number' ? body.expires_in : 0) * 1000);
  // Renew a little early so a token does not expire between the check and the request.
  return { token, expiresAtMs: nowMs + lifetimeMs - Math.min(10_000, lifetimeMs / 10) };
}

/** Tokens per key (registry, realm, service and scopes) until they expire. */
export class TokenCache {
  private readonly tokens = new Map<string, CachedToken>();
  constructor(private readonly nowMs: () => number = Date.now) {}

  static key(host: string, realm: string, service: string, scopes: string[]): string {
    return [host, realm, service, ...mergeScopes(scopes)].join('\n');
  }

  get(key: string): string | undefined {
    const t = this.tokens.get(key);
    if (!t) return undefined;
    if (t.expiresAtMs <= this.nowMs()) {
      this.tokens.delete(key);
      return undefined;
    }
    return t.token;
  }

  set(key: string, token: CachedToken): void {
    this.tokens.set(key, token);
  }

  delete(key: string): void {
    this.tokens.delete(key);
  }

  /** Forgets every token for a host (after sign-in or sign-out). */
  forgetHost(host: string): void {
    for (const key of this.tokens.keys()) if (key.startsWith(`${host}\n`)) this.tokens.delete(key);
  }

  get size(): number {
    return this.tokens.size;
  }
}

export function basicAuthorization(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
}

/** The docker CLI stores identity tokens with this user name when the registry gave none. */
export const IDENTITY_TOKEN_USERNAME = '<token>';
