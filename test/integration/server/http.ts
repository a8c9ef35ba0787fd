/** Raw HTTP helpers for the server's protocol tests: every call as the spec words it, nothing hidden. */
import * as assert from 'node:assert/strict';
import { request } from 'node:http';

export interface Reply {
  status: number;
  headers: Headers;
  body: Buffer;
  text: string;
  /** The spec error codes in the body, when it is the spec's JSON. */
  codes: string[];
}

export async function call(url: string, init: RequestInit & { duplex?: 'half' } = {}): Promise<Reply> {
  const res = await fetch(url, { redirect: 'manual', ...init } as RequestInit);
  const body = Buffer.from(await res.arrayBuffer());
  const text = body.toString('utf8');
  let codes: string[] = [];
  if ((res.headers.get('content-type') ?? '').includes('json')) {
    try {
      const parsed = JSON.parse(text) as { errors?: { code: string }[] };
      codes = (parsed.errors ?? []).map((e) => e.code);
    } catch {
      codes = [];
    }
  }
  return { status: res.status, headers: res.headers, body, text, codes };
}

/** Asserts a spec error: the status and the first error code of the JSON body. */
export function assertError(r: Reply, status: number, code: string): void {
  assert.equal(r.status, status, `expected ${status} ${code}, got ${r.status} ${r.text.slice(0, 300)}`);
  assert.ok(r.codes.includes(code), `expected error code ${code}, got ${JSON.stringify(r.codes)} in ${r.text.slice(0, 300)}`);
}

/** Absolute URL of a `Location` header (distribution sends absolute ones, Berth relative). */
export function locationOf(base: string, r: Reply, params: Record<string, string> = {}): string {
  const location = r.headers.get('location');
  assert.ok(location, `no Location in ${r.status} reply`);
  const url = new URL(location, base);
  for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
  return url.toString();
}

export function withParams(url: string, params: Record<string, string>): string {
  const u = new URL(url);
  for (const [k, v] of Object.entries(params)) u.searchParams.set(k, v);
  return u.toString();
}

/** Starts an upload session and returns its absolute location. */
export async function startUpload(base: string, repo: string): Promise<string> {
  const r = await call(`${base}/v2/${repo}/blobs/uploads/`, { method: 'POST' });
  assert.equal(r.status, 202, r.text);
  return locationOf(base, r);
}

/**
 * Sends a request whose path is written as it is (fetch would normalise `..` and `//`), and returns
 * status, headers and body.
 */
export function rawRequest(base: string, method: string, path: string, body?: Buffer): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; text: string }> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, method, path, headers: body ? { 'Content-Length': body.length } : {} }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** A body that fetch sends with chunked transfer encoding (no Content-Length), as docker does. */
export function chunkedBody(parts: Buffer[]): ReadableStream<Uint8Array> {
  let i = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      const next = parts[i++];
      if (next) controller.enqueue(new Uint8Array(next));
      else controller.close();
    },
  });
}
