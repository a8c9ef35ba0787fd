import { createHash, type Hash } from 'node:crypto';

/** Digest algorithms this project can compute and verify, with the length of their hex encoding. */
export const DIGEST_ALGORITHMS = { sha256: 64, sha512: 128 } as const;
export type DigestAlgorithm = keyof typeof DIGEST_ALGORITHMS;

/** The spec's digest grammar: `algorithm ":" encoded`. */
const DIGEST_GRAMMAR = /^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;

export interface ParsedDigest {
  algorithm: DigestAlgorithm;
  hex: string;
  /** `algorithm:hex` */
  digest: string;
}

export type DigestProblem = 'syntax' | 'unsupported-algorithm' | 'bad-length';

/**
 * Parses a digest and checks it is one we can verify: a known algorithm and
 * lowercase hex of the right length. Returns the reason when it is not.
 */
export function parseDigest(value: string): ParsedDigest | { problem: DigestProblem } {
  if (!DIGEST_GRAMMAR.test(value)) return { problem: 'syntax' };
  const colon = value.indexOf(':');
  const algorithm = value.slice(0, colon);
  const hex = value.slice(colon + 1);
  if (!(algorithm in DIGEST_ALGORITHMS)) return { problem: 'unsupported-algorithm' };
  const alg = algorithm as DigestAlgorithm;
  if (hex.length !== DIGEST_ALGORITHMS[alg] || !/^[a-f0-9]+$/.test(hex)) return { problem: 'bad-length' };
  return { algorithm: alg, hex, digest: value };
}

export function isDigest(value: string): boolean {
  return !('problem' in parseDigest(value));
}

export function digestOf(data: Uint8Array | string, algorithm: DigestAlgorithm = 'sha256'): string {
  return `${algorithm}:${createHash(algorithm).update(data).digest('hex')}`;
}

/** An incremental digest, fed while streaming. */
export class Digester {
  private readonly hash: Hash;
  private bytes = 0;
  constructor(readonly algorithm: DigestAlgorithm = 'sha256') {
    this.hash = createHash(algorithm);
  }
  update(chunk: Uint8Array): void {
    this.hash.update(chunk);
    this.bytes += chunk.length;
  }
  get size(): number {
    return this.bytes;
  }
  digest(): string {
    return `${this.algorithm}:${this.hash.digest('hex')}`;
  }
}
