/**
 * Engine failures as types a caller can act on, with messages a person can act on. The engine words
 * the same failure several ways (an HTTP status, a JSON `message`, an `errorDetail` line in the middle
 * of a push), so everything funnels through one classifier.
 */

export type EngineErrorKind =
  /** Nothing answers at the engine's address (not running, wrong socket, no permission). */
  | 'no-engine'
  /** The registry wants (other) credentials. */
  | 'unauthorized'
  /** The credentials are fine but may not do this (push to someone else's repository). */
  | 'denied'
  /** No such local image, or no such repository/tag/manifest in the registry. */
  | 'not-found'
  /** The registry could not be reached (refused, DNS, TLS, plain HTTP registry not marked insecure). */
  | 'registry-unreachable'
  /** The registry asks to slow down (Docker Hub's pull limit, a registry's failed-login limiter). */
  | 'rate-limited'
  /** The image is in use or otherwise conflicts (removing an image a container uses). */
  | 'conflict'
  | 'invalid-reference'
  | 'cancelled'
  | 'failed';

export class EngineError extends Error {
  override readonly name = 'EngineError';
  constructor(
    readonly kind: EngineErrorKind,
    message: string,
    /** What the engine said, word for word, when it said anything. */
    readonly engineMessage?: string,
    readonly statusCode?: number,
  ) {
    super(message);
  }
}

const PATTERNS: Array<[EngineErrorKind, RegExp]> = [
  ['rate-limited', /toomanyrequests|too many requests|rate limit/i],
  ['unauthorized', /unauthorized|authentication required|no basic auth credentials|incorrect username or password|invalid username\/password|401 Unauthorized/i],
  ['denied', /denied|forbidden|insufficient_scope|403 Forbidden/i],
  ['not-found', /not found|no such image|does not exist|manifest unknown|name unknown|blob unknown|unknown: repository/i],
  ['registry-unreachable', /connection refused|no such host|i\/o timeout|dial tcp|server gave HTTP response to HTTPS client|x509:|tls:|certificate|network is unreachable|EOF$/i],
  ['conflict', /conflict|is being used|image is referenced in multiple repositories|unable to delete/i],
  ['invalid-reference', /invalid reference format|invalid tag|repository name must be/i],
];

/** The kind of a failure from what the engine said and, when there was one, its HTTP status. */
export function classifyEngineMessage(message: string, statusCode?: number): EngineErrorKind {
  // "pull access denied … repository does not exist or may require 'docker login'" is about access first.
  if (/pull access denied/i.test(message)) return 'denied';
  // The engine's 404 names the image, and an image may be called "team/denied" or "unauthorized-app".
  if (statusCode === 404) return 'not-found';
  for (const [kind, pattern] of PATTERNS) if (pattern.test(message)) return kind;
  if (statusCode === 401) return 'unauthorized';
  if (statusCode === 403) return 'denied';
  if (statusCode === 404) return 'not-found';
  if (statusCode === 409) return 'conflict';
  if (statusCode === 429) return 'rate-limited';
  if (statusCode === 400) return 'invalid-reference';
  return 'failed';
}

const ADVICE: Record<EngineErrorKind, string> = {
  'no-engine': 'Start Docker (or dockerd), or set DOCKER_HOST to the engine\'s socket.',
  unauthorized: 'Sign in to the registry with a valid username and password or token.',
  denied: 'Check that this account may push to (or pull from) this repository, or use a repository you own.',
  'not-found': 'Check the image name and tag.',
  'registry-unreachable': 'Check the registry address and that the engine can reach it.',
  'rate-limited': 'Wait a while and try again (signing in raises Docker Hub\'s pull limit).',
  conflict: 'Remove the containers or tags that use it first, or remove it with force.',
  'invalid-reference': 'Write the image as [host[:port]/]name[:tag], lowercase.',
  cancelled: '',
  failed: '',
};

/**
 * An unreachable registry has several causes with different cures. Only the engine refusing plain
 * HTTP or a certificate calls for daemon.json: a registry that is just not running must not send the
 * person off to edit insecure-registries (the engine treats 127.0.0.0/8 as insecure anyway).
 */
const UNREACHABLE_ADVICE: Array<[RegExp, string]> = [
  [/server gave HTTP response to HTTPS client/i, 'The registry speaks plain HTTP and the engine insists on HTTPS for it: list it in the engine\'s insecure-registries (daemon.json) and restart the engine, or serve it over TLS.'],
  [/x509:|certificate|tls:/i, 'The engine does not trust the registry\'s certificate: put its CA in /etc/docker/certs.d/<host:port>/ca.crt on the engine\'s machine.'],
  [/connection refused/i, 'Nothing is listening at that address: check the host and port, and that the registry is running.'],
  [/no such host/i, 'The engine cannot resolve that host name: check the registry address.'],
];

function adviceFor(kind: EngineErrorKind, engineMessage: string): string {
  if (kind === 'registry-unreachable') return UNREACHABLE_ADVICE.find(([pattern]) => pattern.test(engineMessage))?.[1] ?? ADVICE[kind];
  return ADVICE[kind];
}

/** An EngineError for `action` ("pushing localhost:5000/app:1") from what the engine said. */
export function engineErrorFrom(action: string, engineMessage: string, statusCode?: number): EngineError {
  const kind = classifyEngineMessage(engineMessage, statusCode);
  const advice = adviceFor(kind, engineMessage);
  return new EngineError(kind, `${action} failed: ${engineMessage.trim()}${advice ? `. ${advice}` : ''}`, engineMessage, statusCode);
}

/**
 * A registry with token auth hands an anonymous client a token without push rights, so "denied"
 * is how it says "sign in first" (Docker Hub does the same): without credentials, that is what it means.
 */
export function withoutCredentials(error: EngineError, sentCredentials: boolean): EngineError {
  if (sentCredentials || error.kind !== 'denied') return error;
  const said = error.engineMessage ?? error.message;
  const action = error.message.slice(0, Math.max(0, error.message.indexOf(' failed: ')));
  return new EngineError('unauthorized', `${action || 'The request'} failed: ${said.trim()}. No credentials were sent: ${ADVICE.unauthorized.charAt(0).toLowerCase()}${ADVICE.unauthorized.slice(1)}`, said, error.statusCode);
}

export function cancelledError(action: string): EngineError {
  return new EngineError('cancelled', `${action} was cancelled`);
}

interface DockerodeLikeError {
  statusCode?: number;
  json?: unknown;
  reason?: string;
  code?: string;
  message?: string;
  name?: string;
}

/** Connection-level failures that mean no engine is there (as opposed to the engine refusing something). */
const NO_ENGINE_CODES: readonly string[] = ['ECONNREFUSED', 'ENOENT', 'EACCES', 'EPERM', 'ECONNRESET', 'EHOSTUNREACH', 'ETIMEDOUT', 'ENOTFOUND', 'EPIPE'];

/** What went wrong talking to the engine, from whatever dockerode or node threw. */
export function fromDockerodeError(action: string, error: unknown, endpoint: string, signal?: AbortSignal): EngineError {
  if (error instanceof EngineError) return error;
  const e = (typeof error === 'object' && error !== null ? error : { message: String(error) }) as DockerodeLikeError;
  if (signal?.aborted || e.name === 'AbortError' || e.code === 'ABORT_ERR') return cancelledError(action);
  if (e.code && NO_ENGINE_CODES.includes(e.code) && e.statusCode === undefined) return noEngineError(endpoint, e.code, e.message ?? '');
  const json = e.json as { message?: unknown } | string | undefined | null;
  const said = typeof json === 'object' && json && typeof json.message === 'string' ? json.message
    : typeof json === 'string' && json.trim() ? json.trim()
      : (e.message ?? String(error)).replace(/^\(HTTP code \d+\)\s*[^-]*-\s*/, '');
  return engineErrorFrom(action, said, e.statusCode);
}

/** The "no engine" error, worded for what the connection attempt ran into. */
export function noEngineError(endpoint: string, code: string, detail: string): EngineError {
  const why: Record<string, string> = {
    ENOENT: `there is no socket at ${endpoint}`,
    ECONNREFUSED: `nothing is listening at ${endpoint}`,
    EACCES: `permission denied on ${endpoint}`,
    EPERM: `permission denied on ${endpoint}`,
    ETIMEDOUT: `${endpoint} did not answer in time`,
  };
  const fix = code === 'EACCES' || code === 'EPERM'
    ? 'Add your user to the "docker" group (then sign out and in again), or point DOCKER_HOST at a socket you may use.'
    : ADVICE['no-engine'];
  return new EngineError('no-engine', `No Docker engine answered: ${why[code] ?? `${endpoint}: ${detail || code}`}. ${fix}`, detail || code);
}
