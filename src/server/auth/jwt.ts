/**
 * Short-lived signed tokens in the shape docker's token spec uses: a JWT (ES256, with `kid`)
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
}

export type TokenCheck = { ok: true; claims: TokenClaims } | { ok: false; reason: 'malformed' | 'signature' | 'expired' | 'not-yet-valid' | 'issuer' | 'audience' | 'kind' };

const b64url = (data: Buffer | string): string => Buffer.from(data).toString('base64url');

export class TokenSigner {
  readonly kid: string;
  private readonly publicKey: KeyObject;

  constructor(private readonly privateKey: KeyObject, readonly issuer: string, readonly service: string) {
    if (privateKey.asymmetricKeyType !== 'ec' || privateKey.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
      throw new Error('the token signing key must be an EC P-256 private key (ES256): openssl ecparam -name prime256v1 -genkey -noout');
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

  issue(sub: string, access: Access[], ttlSeconds: number, nowSeconds: number, kind?: 'refresh'): string {
    const claims: TokenClaims = {
      iss: this.issuer, sub, aud: this.service, exp: nowSeconds + ttlSeconds, nbf: nowSeconds - 1, iat: nowSeconds, jti: randomUUID(), access,
      ...(kind ? { typ: kind } : {}),
    };
    const head = b64url(JSON.stringify({ alg: 'ES256', typ: 'JWT', kid: this.kid }));
    const body = b64url(JSON.stringify(claims));
    const sig = sign('sha256', Buffer.from(`${head}.${body}`), { key: this.privateKey, dsaEncoding: 'ieee-p1363' });
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
    if (header.alg !== 'ES256' || header.kid !== this.kid) return { ok: false, reason: 'signature' };
    const good = verify('sha256', Buffer.from(`${head}.${body}`), { key: this.publicKey, dsaEncoding: 'ieee-p1363' }, Buffer.from(sig, 'base64url'));
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
  const canonical = JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y });
  return b64url(createHash('sha256').update(canonical).digest());
}
