/**
 * The `auth:` section, in distribution's shape where it overlaps:
 *
 *   auth:
 *     htpasswd: { realm: Berth Registry, path: /etc/berth/htpasswd }
 *     token:                      # optional: docker's bearer-token flow with the built-in endpoint
 *       realm: https://registry.example:5000/auth/token   # default: /auth/token on the host asked
 *       service: berth-registry
 *       issuer: berth-registry
 *       expiration: 5m
 *       refreshExpiration: 720h
 *       key: /etc/berth/token-key.pem                     # EC P-256 (ES256) or RSA (RS256); default: a new key per start
 */
import { ConfigValueError, optDurationMs, optString, readSection } from '../limits/configValues';

export interface AuthConfig {
  htpasswdPath: string;
  basicRealm: string;
  token?: TokenConfig;
}

export interface TokenConfig {
  realm?: string;
  service: string;
  issuer: string;
  expirationSeconds: number;
  refreshExpirationSeconds: number;
  keyPath?: string;
}

export const TOKEN_PATH = '/auth/token';

export function readAuthConfig(section: unknown, path = 'auth'): AuthConfig | undefined {
  if (section === undefined || section === null) return undefined;
  const s = readSection(section, path, ['htpasswd', 'token']);
  if (s['htpasswd'] === undefined) throw new ConfigValueError(`${path}.htpasswd`, 'is required when auth is configured (htpasswd: {path: FILE})');
  const h = readSection(s['htpasswd'], `${path}.htpasswd`, ['realm', 'path']);
  const htpasswdPath = optString(h, 'path', `${path}.htpasswd`);
  if (!htpasswdPath) throw new ConfigValueError(`${path}.htpasswd.path`, 'is required: the htpasswd file written by `berth-registry user add` or `htpasswd -B`');
  const config: AuthConfig = { htpasswdPath, basicRealm: optString(h, 'realm', `${path}.htpasswd`) ?? 'Berth Registry' };
  if (s['token'] !== undefined && s['token'] !== null) {
    const tp = `${path}.token`;
    const t = readSection(s['token'], tp, ['realm', 'service', 'issuer', 'expiration', 'refreshExpiration', 'key']);
    const realm = optString(t, 'realm', tp);
    if (realm !== undefined && !/^https?:\/\//.test(realm)) throw new ConfigValueError(`${tp}.realm`, 'must be an absolute http(s) URL, as docker requires');
    const expirationMs = optDurationMs(t, 'expiration', tp) ?? 5 * 60_000;
    if (expirationMs < 1000) throw new ConfigValueError(`${tp}.expiration`, 'must be at least 1s');
    const keyPath = optString(t, 'key', tp);
    config.token = {
      ...(realm !== undefined ? { realm } : {}),
      service: optString(t, 'service', tp) ?? 'berth-registry',
      issuer: optString(t, 'issuer', tp) ?? 'berth-registry',
      expirationSeconds: Math.floor(expirationMs / 1000),
      refreshExpirationSeconds: Math.floor((optDurationMs(t, 'refreshExpiration', tp) ?? 30 * 24 * 3_600_000) / 1000),
      ...(keyPath !== undefined ? { keyPath } : {}),
    };
  }
  return config;
}
