/**
 * A small token service for distribution's `auth.token` mode, on 127.0.0.1: it checks Basic
 * credentials or an OAuth2 refresh token, and signs ES256 JWTs with a test key whose certificate
 * distribution trusts through `rootcertbundle`. It can be told to accept only GET or only the POST
 * form, to answer `token`, `access_token` or both, and to hand out stale tokens.
 *
 * `startChallengeReorderProxy` sits in front of a registry and rewrites its Bearer challenge with the
 * parameters in an unusual order, so clients are tested against more than distribution's own order.
 */
import { createPrivateKey, randomUUID, sign, X509Certificate } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import * as http from 'node:http';
import { join } from 'node:path';
import { generateSelfSignedCert } from '../../src/server/tls/cert';
import { removeDir, tempDir } from './proc';

export interface TokenRequestLog {
  method: string;
  /** What the server answered. */
  status: number;
  /** `refresh_token`, `password`, or `basic` for GET. */
  grant: string;
  user: string | undefined;
  scopes: string[];
  service: string | undefined;
  /** The realm's own query parameters came back as given. */
  query: Record<string, string>;
}

export interface TokenServerOptions {
  service?: string;
  issuer?: string;
  /** username → password */
  users?: Record<string, string>;
  /** refresh (identity) token → username */
  refreshTokens?: Record<string, string>;
  /** `get`: POST answers 405; `post`: GET answers 405. Default both. */
  methods?: 'get' | 'post' | 'both';
  tokenField?: 'token' | 'access_token' | 'both';
  expiresInSec?: number;
  /** What anonymous callers may do. Default: nothing (an empty grant). */
  anonymousActions?: string[];
  /** Extra query on the realm URL (kept by clients when they add service and scope). */
  realmQuery?: string;
}

export interface TokenServer {
  /** The realm, with `realmQuery`. */
  realm: string;
  service: string;
  issuer: string;
  /** PEM bundle to give distribution as `rootcertbundle`. */
  rootCertBundle: string;
  requests: TokenRequestLog[];
  /** The next `n` tokens are already expired (beyond distribution's leeway) but claim to last. */
  issueStale(n: number): void;
  /** distribution's `auth.token` config for this server. */
  distributionAuth(realmOverride?: string): Record<string, unknown>;
  stop(): Promise<void>;
}

const b64url = (data: Buffer | string): string => Buffer.from(data).toString('base64url');

export async function startTokenServer(opts: TokenServerOptions = {}): Promise<TokenServer> {
  const dir = tempDir('tokens');
  const service = opts.service ?? 'berth-test-registry';
  const issuer = opts.issuer ?? 'berth-test-issuer';
  const { certPem, caPem, keyPem } = await generateSelfSignedCert({ hosts: ['token-issuer'] });
  const rootCertBundle = join(dir, 'root.pem');
  writeFileSync(rootCertBundle, caPem);
  const key = createPrivateKey(keyPem);
  const x5c = [new X509Certificate(certPem).raw.toString('base64')];
  const requests: TokenRequestLog[] = [];
  let stale = 0;

  const jwt = (user: string | undefined, scopes: string[], granted: (scope: string[]) => string[]): string => {
    const now = Math.floor(Date.now() / 1000);
    const past = stale > 0;
    if (past) stale--;
    const access = scopes.map((s) => {
      const last = s.lastIndexOf(':');
      const first = s.indexOf(':');
      const actions = s.slice(last + 1).split(',');
      return { type: s.slice(0, first), name: s.slice(first + 1, last), actions: granted(actions) };
    }).filter((a) => a.actions.length > 0);
    const claims = {
      iss: issuer, sub: user ?? '', aud: service, jti: randomUUID(), access,
      iat: past ? now - 600 : now - 5, nbf: past ? now - 600 : now - 5, exp: past ? now - 300 : now + (opts.expiresInSec ?? 300),
    };
    const header = { alg: 'ES256', typ: 'JWT', x5c };
    const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
    const signature = sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' });
    return `${input}.${b64url(signature)}`;
  };

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://x');
      const methods = opts.methods ?? 'both';
      const reply = (status: number, body: unknown): void => {
        res.writeHead(status, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify(body));
      };
      if ((req.method === 'POST' && methods === 'get') || (req.method === 'GET' && methods === 'post') || (req.method !== 'GET' && req.method !== 'POST')) {
        requests.push({ method: req.method ?? '', status: 405, grant: '', user: undefined, scopes: [], service: undefined, query: {} });
        return reply(405, { error: 'method not allowed' });
      }
      const query = Object.fromEntries([...url.searchParams.entries()].filter(([k]) => k !== 'scope' && k !== 'service'));
      let user: string | undefined;
      let grant = 'basic';
      let scopes: string[];
      let svc: string | undefined;
      let authenticated = false;
      if (req.method === 'POST') {
        const form = new URLSearchParams(Buffer.concat(chunks).toString());
        grant = form.get('grant_type') ?? '';
        scopes = (form.get('scope') ?? '').split(' ').filter(Boolean);
        svc = form.get('service') ?? undefined;
        if (grant === 'refresh_token') {
          user = opts.refreshTokens?.[form.get('refresh_token') ?? ''];
          authenticated = user !== undefined;
        } else if (grant === 'password') {
          user = form.get('username') ?? undefined;
          authenticated = user !== undefined && opts.users?.[user] === form.get('password');
        }
        if (!authenticated) {
          requests.push({ method: 'POST', status: 401, grant, user, scopes, service: svc, query });
          return reply(401, { error: 'invalid_grant' });
        }
      } else {
        scopes = url.searchParams.getAll('scope').flatMap((s) => s.split(' ')).filter(Boolean);
        svc = url.searchParams.get('service') ?? undefined;
        const header = req.headers.authorization;
        if (header?.startsWith('Basic ')) {
          const decoded = Buffer.from(header.slice(6), 'base64').toString();
          const colon = decoded.indexOf(':');
          const name = decoded.slice(0, colon);
          const secret = decoded.slice(colon + 1);
          if (opts.users?.[name] === secret) user = name;
          else if (opts.refreshTokens?.[secret] !== undefined) user = opts.refreshTokens[secret];
          else {
            requests.push({ method: 'GET', status: 401, grant, user: name, scopes, service: svc, query });
            return reply(401, { errors: [{ code: 'UNAUTHORIZED', message: 'bad credentials' }] });
          }
          authenticated = true;
        }
      }
      requests.push({ method: req.method ?? '', status: 200, grant, user, scopes, service: svc, query });
      const granted = (actions: string[]): string[] => (authenticated ? actions : actions.filter((a) => (opts.anonymousActions ?? []).includes(a)));
      const token = jwt(user, scopes, granted);
      const field = opts.tokenField ?? 'token';
      reply(200, {
        ...(field !== 'access_token' ? { token } : {}),
        ...(field !== 'token' ? { access_token: token } : {}),
        expires_in: opts.expiresInSec ?? 300,
        issued_at: new Date().toISOString(),
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  const realm = `http://127.0.0.1:${port}/token${opts.realmQuery ? `?${opts.realmQuery}` : ''}`;
  return {
    realm, service, issuer, rootCertBundle, requests,
    issueStale(n: number) {
      stale = n;
    },
    distributionAuth(realmOverride?: string) {
      return { token: { realm: realmOverride ?? realm, service, issuer, rootcertbundle: rootCertBundle } };
    },
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      removeDir(dir);
    },
  };
}

export interface ReorderProxy {
  url: string;
  host: string;
  stop(): Promise<void>;
}

/**
 * Forwards every request to `targetUrl` unchanged (Host included, so the registry's Locations point
 * back here) and rewrites Bearer challenges to `scope, error, service, realm` order with spaces.
 */
export async function startChallengeReorderProxy(targetUrl: string): Promise<ReorderProxy> {
  const target = new URL(targetUrl);
  const server = http.createServer((req, res) => {
    const upstream = http.request({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers }, (up) => {
      const headers = { ...up.headers };
      const challenge = up.headers['www-authenticate'];
      if (typeof challenge === 'string' && /^Bearer /i.test(challenge)) {
        const params = new Map<string, string>();
        for (const m of challenge.slice(7).matchAll(/(\w+)="([^"]*)"/g)) params.set(m[1] ?? '', m[2] ?? '');
        const order = ['scope', 'error', 'service', 'realm'].filter((k) => params.has(k));
        headers['www-authenticate'] = `Bearer ${order.map((k) => `${k}="${params.get(k) ?? ''}"`).join(' , ')}`;
      }
      res.writeHead(up.statusCode ?? 502, headers);
      up.pipe(res);
    });
    upstream.on('error', () => {
      if (!res.headersSent) res.writeHead(502);
      res.end();
    });
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    host: `127.0.0.1:${port}`,
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
