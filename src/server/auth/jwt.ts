/**
 * Short-lived signed tokens in the shape docker's token spec uses: a JWT (ES256 or RS256, with `kid`)
 * whose `access` claim lists exactly the granted scope. Signed and checked with node:crypto.
 */
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, randomUUID, sign, verify, type KeyObject } from 'node:crypto';
import type { Access } from './access';

export interface TokenClaims {
  iss: string;
  sub: string;
  aud: string;
  exp: number;
  nbf: number;
  iat: number;
  jti: string;
  access: Access[];
  /** Present on refresh tokens only; they grant no access, they only mint new access tokens. */
  typ?: 'refresh';
  /** A stamp of the password the user had when the token was issued: a new password ends the token. */
  cred?: string;
}

export type TokenCheck = { ok: true; claims: TokenClaims } | { ok: false; reason: 'malformed' | 'signature' | 'expired' | 'not-yet-valid' | 'issuer' | 'audience' | 'kind' };

const b64url = (data: Buffer | string): string => Buffer.from(data).toString('base64url');

export type TokenAlgorithm = 'ES256' | 'RS256';

export class TokenSigner {
  readonly kid: string;
  readonly algorithm: TokenAlgorithm;
  private readonly publicKey: KeyObject;

  constructor(private readonly privateKey: KeyObject, readonly issuer: string, readonly service: string) {
    const details = privateKey.asymmetricKeyDetails;
    if (privateKey.asymmetricKeyType === 'ec' && details?.namedCurve === 'prime256v1') this.algorithm = 'ES256';
    else if (privateKey.asymmetricKeyType === 'rsa' && (details?.modulusLength ?? 0) >= 2048) this.algorithm = 'RS256';
    else {
      throw new Error('the token signing key must be an EC P-256 key (ES256: openssl ecparam -name prime256v1 -genkey -noout) or an RSA key of at least 2048 bits (RS256)');
    }
    this.publicKey = createPublicKey(privateKey);
    this.kid = jwkThumbprint(this.publicKey);
  }

  /** A key for this process only: tokens die with the server, and clients simply ask again. */
  static ephemeral(issuer: string, service: string): TokenSigner {
    return new TokenSigner(generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey, issuer, service);
  }

  static fromPem(pem: string, issuer: string, service: string): TokenSigner {
    return new TokenSigner(createPrivateKey(pem), issuer, service);
  }

  issue(sub: string, access: Access[], ttlSeconds: number, nowSeconds: number, kind?: 'refresh', credential?: string): string {
    const claims: TokenClaims = {
      iss: this.issuer, sub, aud: this.service, exp: nowSeconds + ttlSeconds, nbf: nowSeconds - 1, iat: nowSeconds, jti: randomUUID(), access,
      ...(kind ? { typ: kind } : {}),
      ...(credential !== undefined ? { cred: credential } : {}),
    };
    const head = b64url(JSON.stringify({ alg: this.algorithm, typ: 'JWT', kid: this.kid }));
    const body = b64url(JSON.stringify(claims));
    const sig = sign('sha256', Buffer.from(`${head}.${body}`), this.algorithm === 'ES256' ? { key: this.privateKey, dsaEncoding: 'ieee-p1363' } : this.privateKey);
    return `${head}.${body}.${b64url(sig)}`;
  }

  check(token: string, nowSeconds: number, kind: 'access' | 'refresh' = 'access'): TokenCheck {
    const parts = token.split('.');
    if (parts.length !== 3) return { ok: false, reason: 'malformed' };
    const [head, body, sig] = parts as [string, string, string];
    let header: { alg?: unknown; kid?: unknown };
    let claims: TokenClaims;
    try {
      header = JSON.parse(Buffer.from(head, 'base64url').toString('utf8')) as typeof header;
      claims = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as TokenClaims;
    } catch {
      return { ok: false, reason: 'malformed' };
    }
    // The algorithm is this key's, never the token's choice (no "alg: none", no key confusion).
    if (header.alg !== this.algorithm || header.kid !== this.kid) return { ok: false, reason: 'signature' };
    const key = this.algorithm === 'ES256' ? { key: this.publicKey, dsaEncoding: 'ieee-p1363' as const } : this.publicKey;
    const good = verify('sha256', Buffer.from(`${head}.${body}`), key, Buffer.from(sig, 'base64url'));
    if (!good) return { ok: false, reason: 'signature' };
    if (typeof claims !== 'object' || claims === null || typeof claims.exp !== 'number' || typeof claims.sub !== 'string' || !Array.isArray(claims.access)) {
      return { ok: false, reason: 'malformed' };
    }
    if (claims.iss !== this.issuer) return { ok: false, reason: 'issuer' };
    if (claims.aud !== this.service) return { ok: false, reason: 'audience' };
    if ((kind === 'refresh') !== (claims.typ === 'refresh')) return { ok: false, reason: 'kind' };
    if (nowSeconds >= claims.exp) return { ok: false, reason: 'expired' };
    if (typeof claims.nbf === 'number' && nowSeconds < claims.nbf) return { ok: false, reason: 'not-yet-valid' };
    return { ok: true, claims };
  }
}

/** RFC 7638 thumbprint of the public key: a stable `kid` that names the key without revealing anything. */
export function jwkThumbprint(publicKey: KeyObject): string {
  const jwk = publicKey.export({ format: 'jwk' });
  // RFC 7638: the required members only, in lexical order.
  const canonical = jwk.kty === 'RSA' ? JSON.stringify({ e: jwk.e, kty: jwk.kty, n: jwk.n }) : JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y });
  return b64url(createHash('sha256').update(canonical).digest());
}
