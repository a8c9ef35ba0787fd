/** The OCI distribution spec's error codes (section "Error Codes"), plus one for a full disk, and the status each is sent with by default. */
export const ERROR_CODES = {
  BLOB_UNKNOWN: { status: 404, message: 'blob unknown to registry' },
  BLOB_UPLOAD_INVALID: { status: 400, message: 'blob upload invalid' },
  BLOB_UPLOAD_UNKNOWN: { status: 404, message: 'blob upload unknown to registry' },
  DIGEST_INVALID: { status: 400, message: 'provided digest did not match uploaded content' },
  MANIFEST_BLOB_UNKNOWN: { status: 400, message: 'manifest references a manifest or blob unknown to registry' },
  MANIFEST_INVALID: { status: 400, message: 'manifest invalid' },
  MANIFEST_UNKNOWN: { status: 404, message: 'manifest unknown to registry' },
  NAME_INVALID: { status: 400, message: 'invalid repository name' },
  NAME_UNKNOWN: { status: 404, message: 'repository name not known to registry' },
  SIZE_INVALID: { status: 400, message: 'provided length did not match content length' },
  UNAUTHORIZED: { status: 401, message: 'authentication required' },
  DENIED: { status: 403, message: 'requested access to the resource is denied' },
  UNSUPPORTED: { status: 405, message: 'the operation is unsupported' },
  TOOMANYREQUESTS: { status: 429, message: 'too many requests' },
  /** Not in the spec: the registry's disk is full (507, RFC 4918). Clients show the code and message. */
  INSUFFICIENT_STORAGE: { status: 507, message: 'the registry has no space left to store this' },
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export interface ErrorBody {
  errors: { code: ErrorCode; message: string; detail?: unknown }[];
}

/** A client-visible registry error: always turned into the spec's JSON body, never a crash. */
export class RegistryError extends Error {
  readonly status: number;
  constructor(
    readonly code: ErrorCode,
    message?: string,
    readonly detail?: unknown,
    status?: number,
    /** Extra response headers (Range, WWW-Authenticate, Content-Range…). */
    readonly headers: Record<string, string> = {},
  ) {
    super(message ?? ERROR_CODES[code].message);
    this.status = status ?? ERROR_CODES[code].status;
  }

  body(): ErrorBody {
    return { errors: [{ code: this.code, message: this.message, ...(this.detail === undefined ? {} : { detail: this.detail }) }] };
  }
}

/** Several errors in one response (a manifest naming several missing blobs). */
export class RegistryErrors extends RegistryError {
  constructor(readonly all: RegistryError[]) {
    const first = all[0] ?? new RegistryError('MANIFEST_INVALID');
    super(first.code, first.message, first.detail, first.status);
  }

  override body(): ErrorBody {
    return { errors: this.all.flatMap((e) => e.body().errors) };
  }
}
