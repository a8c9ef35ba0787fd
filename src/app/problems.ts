/**
 * Turns any failure into a kind and a sentence a person can act on. The client's typed
 * errors carry a `kind`; Node's network and TLS errors carry a `code`.
 */
import type { RegistryErrorKind } from '../client/errors';
import type { EngineErrorKind } from '../engine/errors';

/** The client's error kinds a person can act on differently, plus a dismissed prompt and anything else. */
export type ProblemKind =
  | Extract<RegistryErrorKind, 'unauthorized' | 'denied' | 'not-found' | 'tls' | 'unreachable' | 'not-a-registry' | 'rate-limited' | 'unsupported'>
  | 'cancelled'
  | 'unknown';

export interface Problem {
  kind: ProblemKind;
  message: string;
}

/** What each kind the client (RegistryError) and the engine (EngineError) produce means to a person. */
const KINDS: Partial<Record<RegistryErrorKind | EngineErrorKind, ProblemKind>> = {
  unauthorized: 'unauthorized',
  denied: 'denied',
  'not-found': 'not-found',
  tls: 'tls',
  unreachable: 'unreachable',
  timeout: 'unreachable',
  'registry-unreachable': 'unreachable',
  'not-a-registry': 'not-a-registry',
  'rate-limited': 'rate-limited',
  unsupported: 'unsupported',
  'deletion-disabled': 'unsupported',
  cancelled: 'cancelled',
  aborted: 'cancelled',
};

const TLS_CODES = /CERT|SSL|TLS|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)/;
const NET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ETIMEDOUT', 'UND_ERR_CONNECT_TIMEOUT']);

function field(err: unknown, name: string): string | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const v = (err as Record<string, unknown>)[name];
  return typeof v === 'string' ? v : undefined;
}

export function problemOf(err: unknown): Problem {
  const message = err instanceof Error ? err.message : String(err);
  if (err instanceof Error && err.name === 'AbortError') return { kind: 'cancelled', message: 'Cancelled.' };
  const kind = field(err, 'kind');
  if (kind !== undefined) {
    const k = KINDS[kind as keyof typeof KINDS];
    if (k) return { kind: k, message };
  }
  // fetch() wraps the socket error in `cause`.
  const cause = err instanceof Error ? (err as Error & { cause?: unknown }).cause : undefined;
  const code = field(err, 'code') ?? field(cause, 'code');
  if (code !== undefined) {
    if (TLS_CODES.test(code)) return { kind: 'tls', message: `The registry's certificate is not trusted (${code}). Trust its CA file, or skip verification for this registry.` };
    if (NET_CODES.has(code)) return { kind: 'unreachable', message: `The registry did not answer (${code}). Check the address and that it is running.` };
  }
  return { kind: 'unknown', message };
}

/**
 * The client's or the engine's own kind and HTTP status of a failure, read from its fields: the
 * client lives in another bundle, so `instanceof RegistryError` is not true here.
 */
export function errorFacts(err: unknown): { kind?: RegistryErrorKind | EngineErrorKind; status?: number } {
  const kind = field(err, 'kind');
  const status = typeof err === 'object' && err !== null ? (err as { status?: unknown }).status : undefined;
  return {
    ...(kind !== undefined ? { kind: kind as RegistryErrorKind | EngineErrorKind } : {}),
    ...(typeof status === 'number' ? { status } : {}),
  };
}

/** An error whose message is already meant for a person (no stack, no error class). */
export class UserError extends Error {
  override readonly name = 'UserError';
}

/** Thrown when the person dismissed a prompt: the command stops quietly. */
export class Cancelled extends Error {
  override readonly name = 'Cancelled';
  constructor() {
    super('Cancelled.');
  }
}
