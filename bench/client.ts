/**
 * The one HTTP client every server in the bench is measured with: Node's http with a keep-alive
 * agent, bodies streamed with backpressure, responses either buffered (small) or counted and dropped.
 */
import http from 'node:http';
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import { Digester } from '../src/oci/digest';

export interface HttpResult {
  status: number;
  headers: http.IncomingHttpHeaders;
  /** The body when buffered; empty when `discardBody` was set. */
  body: Buffer;
  /** Body bytes received. */
  bytes: number;
}

export interface RequestOptions {
  headers?: http.OutgoingHttpHeaders;
  /** A buffer (sent with Content-Length) or chunks streamed as they are produced. */
  body?: Buffer | Iterable<Buffer>;
  /** Count the response body and drop it, for large pulls. */
  discardBody?: boolean;
}

export class HttpClient {
  readonly agent: http.Agent;

  private readonly host: string;
  private readonly port: number;

  /** `idleTimeoutMs`: a request whose socket sees no traffic for this long is abandoned. */
  constructor(readonly baseUrl: string, maxSockets = 16, readonly idleTimeoutMs = 60_000) {
    // The socket timeout lives on the agent: arming a timer per request costs the client more than a tiny GET.
    this.agent = new http.Agent({ keepAlive: true, maxSockets, timeout: idleTimeoutMs });
    const url = new URL(baseUrl);
    this.host = url.hostname;
    this.port = Number(url.port || 80);
  }

  close(): void {
    this.agent.destroy();
  }

  /** Resolves a path or a Location header (absolute or relative) against the server. */
  url(pathOrUrl: string): URL {
    return new URL(pathOrUrl, this.baseUrl);
  }

  request(method: string, pathOrUrl: string | URL, opts: RequestOptions = {}): Promise<HttpResult> {
    // Plain paths go straight to http.request; only Location headers need resolving against the server.
    const path = typeof pathOrUrl === 'string' && pathOrUrl.startsWith('/') ? pathOrUrl : (() => {
      const url = typeof pathOrUrl === 'string' ? this.url(pathOrUrl) : pathOrUrl;
      return `${url.pathname}${url.search}`;
    })();
    const headers: http.OutgoingHttpHeaders = { ...opts.headers };
    if (Buffer.isBuffer(opts.body)) headers['content-length'] = opts.body.length;
    else if (opts.body === undefined && (method === 'PUT' || method === 'POST' || method === 'PATCH') && headers['content-length'] === undefined) headers['content-length'] = 0;
    return new Promise<HttpResult>((resolve, reject) => {
      let settled = false;
      const fail = (e: Error): void => {
        if (settled) return;
        settled = true;
        req.destroy();
        reject(new Error(`${method} ${path.split('?')[0] ?? path}: ${e.message}`));
      };
      const req = http.request({ host: this.host, port: this.port, path, method, agent: this.agent, headers }, (res) => {
        const chunks: Buffer[] = [];
        let bytes = 0;
        res.on('data', (chunk: Buffer) => {
          bytes += chunk.length;
          if (!opts.discardBody) chunks.push(chunk);
        });
        res.once('error', fail);
        res.once('end', () => {
          if (settled) return;
          settled = true;
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks), bytes });
        });
      });
      req.once('timeout', () => fail(new Error(`no progress for ${this.idleTimeoutMs} ms`)));
      req.once('error', fail);
      const body = opts.body;
      if (body === undefined) req.end();
      else if (Buffer.isBuffer(body)) req.end(body);
      else writeStreamed(req, body).catch(fail);
    });
  }
}

async function writeStreamed(req: http.ClientRequest, chunks: Iterable<Buffer>): Promise<void> {
  for (const chunk of chunks) {
    if (req.destroyed) return;
    if (!req.write(chunk)) await once(req, 'drain');
  }
  req.end();
}

/** Throws with the response when the status is not the one expected. */
export function expectStatus(res: HttpResult, expected: number | readonly number[], what: string): HttpResult {
  const ok = typeof expected === 'number' ? res.status === expected : expected.includes(res.status);
  if (!ok) throw new Error(`${what}: expected ${String(expected)}, got ${res.status} ${res.body.toString('utf8', 0, 300)}`);
  return res;
}

/** Size of each generated chunk; chunked uploads use ranges that are multiples of it. */
export const GENERATED_CHUNK_BYTES = 1024 * 1024;
const PATTERN = randomBytes(GENERATED_CHUNK_BYTES);

/**
 * Blob content generated on the fly and never held whole in memory: a random pattern
 * with the seed and chunk index stamped into each chunk, so every seed is a distinct blob.
 */
export class GeneratedBlob {
  private cachedDigest: string | undefined;

  constructor(readonly seed: number, readonly size: number) {}

  /** Chunks covering [from, to); `from` must fall on a chunk boundary. */
  *chunks(from = 0, to = this.size): Generator<Buffer> {
    if (from % GENERATED_CHUNK_BYTES !== 0) throw new Error(`range start ${from} is not a multiple of ${GENERATED_CHUNK_BYTES}`);
    for (let offset = from; offset < to; offset += GENERATED_CHUNK_BYTES) {
      const length = Math.min(GENERATED_CHUNK_BYTES, to - offset);
      const chunk = Buffer.allocUnsafe(length);
      PATTERN.copy(chunk, 0, 0, length);
      const stamp = Buffer.alloc(8);
      stamp.writeUInt32BE(this.seed >>> 0, 0);
      stamp.writeUInt32BE(offset / GENERATED_CHUNK_BYTES, 4);
      stamp.copy(chunk, 0, 0, Math.min(8, length));
      yield chunk;
    }
  }

  /** The sha256 digest, computed once by generating the content. */
  digest(): string {
    if (this.cachedDigest === undefined) {
      const d = new Digester('sha256');
      for (const chunk of this.chunks()) d.update(chunk);
      this.cachedDigest = d.digest();
    }
    return this.cachedDigest;
  }
}
