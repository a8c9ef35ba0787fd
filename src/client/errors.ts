/**
 * Typed registry errors. Every failure the client reports is a `RegistryError` with a `kind` a UI can
 * branch on (offer "sign in", "trust certificate", "retry later"…) and a message a person can act on.
 */

export type RegistryErrorKind =
  /** No or wrong credentials (401 after the one allowed retry). */
  | 'unauthorized'
  /** Signed in, but not allowed (403, or `DENIED`). */
  | 'denied'
  | 'not-found'
  /** The certificate could not be verified or the TLS handshake failed. */
  | 'tls'
  /** DNS, refused connection, reset, proxy failure. */
  | 'unreachable'
  /** Something answered, but not a registry (no `/v2/`, HTML, 401 without a challenge…). */
  | 'not-a-registry'
  /** 429 after the bounded retries. */
  | 'rate-limited'
  /** 405 (or `UNSUPPORTED`) on DELETE. */
  | 'deletion-disabled'
  /** The registry does not offer this operation (e.g. no catalog). */
  | 'unsupported'
  | 'timeout'
  /** The caller's `AbortSignal` fired. */
  | 'aborted'
  /** The registry answered something that breaks the spec (digest mismatch, bad JSON…). */
  | 'invalid-response'
  /** The request was refused as invalid (400, `NAME_INVALID`, `MANIFEST_INVALID`…). */
  | 'bad-request'
  /** 5xx after the bounded retries. */
  | 'server-error';

/** One entry of the spec's JSON error body. */
export interface SpecError {
  code: string;
  message?: string;
  detail?: unknown;
}

export interface RegistryErrorInit {
  kind: RegistryErrorKind;
  message: string;
  host?: string;
  status?: number;
  /** The spec error codes the registry sent, e.g. `MANIFEST_UNKNOWN`. */
  errors?: SpecError[];
  /** How long the registry asked us to wait, when it said. */
  retryAfterMs?: number;
  cause?: unknown;
}

export class RegistryError extends Error {
  readonly kind: RegistryErrorKind;
  readonly host: string | undefined;
  readonly status: number | undefined;
  readonly errors: SpecError[];
  readonly retryAfterMs: number | undefined;

  constructor(init: RegistryErrorInit) {
    super(init.message, init.cause !== undefined ? { cause: init.cause } : undefined);
    this.name = 'RegistryError';
    this.kind = init.kind;
    this.host = init.host;
    this.status = init.status;
    this.errors = init.errors ?? [];
    this.retryAfterMs = init.retryAfterMs;
  }

  /** The first spec error code, if the registry sent one. */
  get code(): string | undefined {
    return this.errors[0]?.code;
  }
}

export function isRegistryError(e: unknown, kind?: RegistryErrorKind): e is RegistryError {
  // By shape as well as by class: the extension's bundles each carry their own copy of the class.
  const shaped = e instanceof RegistryError || (e instanceof Error && e.name === 'RegistryError' && typeof (e as { kind?: unknown }).kind === 'string');
  return shaped && (kind === undefined || (e as RegistryError).kind === kind);
}

/** Reads the spec's `{"errors":[…]}` body; anything else gives an empty list. */
export function parseSpecErrors(body: string): SpecError[] {
  try {
    const parsed = JSON.parse(body) as { errors?: unknown };
    if (!Array.isArray(parsed.errors)) return [];
    return parsed.errors
      .filter((e): e is { code: unknown; message?: unknown; detail?: unknown } => typeof e === 'object' && e !== null && 'code' in e)
      .map((e) => ({
        code: String(e.code),
        ...(typeof e.message === 'string' ? { message: e.message } : {}),
        ...(e.detail !== undefined ? { detail: e.detail } : {}),
      }));
  } catch {
    return [];
  }
}

export interface HttpFailure {
  host: string;
  status: number;
  /** What was being done, e.g. "list tags of app". */
  what: string;
  body: string;
  retryAfterMs?: number;
  method?: string;
}

function registrySaid(errors: SpecError[]): string {
  const first = errors[0];
  if (!first) return '';
  return ` (registry said ${first.code}${first.message ? `: ${first.message}` : ''})`;
}

/** Maps a non-success HTTP answer to a typed error with an actionable message. */
export function errorFromResponse(f: HttpFailure): RegistryError {
  const errors = parseSpecErrors(f.body);
  const codes = new Set(errors.map((e) => e.code));
  const said = registrySaid(errors);
  const base = { host: f.host, status: f.status, errors, ...(f.retryAfterMs !== undefined ? { retryAfterMs: f.retryAfterMs } : {}) };
  if (f.status === 401 || codes.has('UNAUTHORIZED')) {
    return new RegistryError({ ...base, kind: 'unauthorized', message: `${f.host} refused the credentials to ${f.what}${said}. Sign in to ${f.host} again or check the username and password/token.` });
  }
  if (f.status === 403 || codes.has('DENIED')) {
    return new RegistryError({ ...base, kind: 'denied', message: `${f.host} denied access to ${f.what}${said}. The account is signed in but lacks permission; ask for access or use another account.` });
  }
  if (f.status === 429 || codes.has('TOOMANYREQUESTS')) {
    const wait = f.retryAfterMs !== undefined ? ` Try again in ${Math.ceil(f.retryAfterMs / 1000)} s.` : ' Wait a while and try again; signing in often raises the limit.';
    return new RegistryError({ ...base, kind: 'rate-limited', message: `${f.host} is rate limiting requests to ${f.what}.${wait}` });
  }
  if (f.method === 'DELETE' && (f.status === 405 || codes.has('UNSUPPORTED'))) {
    return new RegistryError({ ...base, kind: 'deletion-disabled', message: `This registry has deletion disabled (${f.host} answered ${f.status} to ${f.what}). Enable deletion on the registry (for distribution: storage.delete.enabled) or delete through its own UI.` });
  }
  if (f.status === 404) {
    return new RegistryError({ ...base, kind: 'not-found', message: `Not found: ${f.what} on ${f.host}${said}. Check the repository name, tag or digest.` });
  }
  if (f.status === 405 || codes.has('UNSUPPORTED')) {
    return new RegistryError({ ...base, kind: 'unsupported', message: `${f.host} does not support ${f.what} (HTTP ${f.status})${said}.` });
  }
  if (f.status >= 500) {
    return new RegistryError({ ...base, kind: 'server-error', message: `${f.host} failed to ${f.what} with HTTP ${f.status}${said}. The registry is having trouble; try again later.` });
  }
  return new RegistryError({ ...base, kind: 'bad-request', message: `${f.host} rejected the request to ${f.what} with HTTP ${f.status}${said}.` });
}

const TLS_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT', 'SELF_SIGNED_CERT_IN_CHAIN', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID', 'ERR_TLS_CERT_ALTNAME_INVALID', 'CERT_UNTRUSTED',
  'CERT_SIGNATURE_FAILURE', 'ERR_SSL_WRONG_VERSION_NUMBER', 'EPROTO', 'ERR_SSL_PACKET_LENGTH_TOO_LONG',
]);
const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE', 'ETIMEDOUT', 'ECONNABORTED']);

export function errnoCode(e: unknown): string | undefined {
  const code = (e as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' ? code : undefined;
}

export function isTlsFailure(e: unknown): boolean {
  const code = errnoCode(e);
  return (code !== undefined && (TLS_CODES.has(code) || code.startsWith('ERR_SSL_') || code.startsWith('ERR_TLS_'))) || /certificate|SSL routines/i.test(String((e as Error | undefined)?.message));
}

/** Maps a failure below HTTP (socket, TLS, DNS, abort) to a typed error. */
export function errorFromNetwork(host: string, what: string, e: unknown): RegistryError {
  if (e instanceof RegistryError) return e;
  const code = errnoCode(e);
  const detail = (e as Error | undefined)?.message ?? String(e);
  if ((e as Error | undefined)?.name === 'AbortError' || code === 'ABORT_ERR') {
    return new RegistryError({ kind: 'aborted', host, message: `Cancelled: ${what} on ${host}.`, cause: e });
  }
  if (isTlsFailure(e)) {
    return new RegistryError({
      kind: 'tls', host, cause: e,
      message: `Could not verify the TLS connection to ${host} (${code ?? detail}). If the registry uses a private or self-signed certificate, add its CA file for ${host}; skip verification only for a registry you control.`,
    });
  }
  if (code && UNREACHABLE_CODES.has(code)) {
    return new RegistryError({ kind: 'unreachable', host, cause: e, message: `Cannot reach ${host} to ${what} (${code}). Check the address, that the registry is running, and any proxy settings.` });
  }
  return new RegistryError({ kind: 'unreachable', host, cause: e, message: `Cannot reach ${host} to ${what}: ${detail}.` });
}
