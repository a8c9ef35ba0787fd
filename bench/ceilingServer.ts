/**
 * The loopback ceiling: the least a Node HTTP server can do for each request, run as its own
 * process like the registries, so the bench client gets the same treatment against it.
 * Prints `listening on http://HOST:PORT` when ready. Argument: a directory for /store files.
 */
import http from 'node:http';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { open, rename } from 'node:fs/promises';
import { appendingStream } from '../src/server/fsutil';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { once } from 'node:events';

const storeDir = process.argv[2] ?? process.cwd();
const SOURCE_CHUNK = randomBytes(1024 * 1024);
const WRITE_BUFFER_BYTES = 2 * 1024 * 1024;

function drain(req: http.IncomingMessage): Promise<number> {
  return new Promise((resolve, reject) => {
    let bytes = 0;
    req.on('data', (c: Buffer) => { bytes += c.length; });
    req.once('end', () => resolve(bytes));
    req.once('error', reject);
  });
}

/**
 * What a durable streaming registry does at minimum for a push: hash the body, append it to a temp file
 * with few large writes (whatever piled up while the last write ran goes out in one writev), fsync,
 * and rename it into place. The file stays until the server stops, as a registry keeps what it stores:
 * deleting it at once hands its page-cache pages to the next push, which a registry never gets. On a
 * virtual machine whose host backs guest memory lazily, a write into never-touched page cache costs a
 * host fault per page, and that alone halved a 64 MiB push (bench/README.md, "What storing costs").
 */
async function store(req: http.IncomingMessage): Promise<string> {
  const hash = createHash('sha256');
  const tmp = join(storeDir, `upload-${randomUUID()}`);
  const fh = await open(tmp, 'wx');
  try {
    req.on('data', (c: Buffer) => hash.update(c));
    await pipeline(req, appendingStream(fh, 0, WRITE_BUFFER_BYTES));
    await fh.sync();
  } finally {
    await fh.close();
  }
  const digest = hash.digest('hex');
  await rename(tmp, join(storeDir, digest));
  return digest;
}

async function source(res: http.ServerResponse, bytes: number): Promise<void> {
  res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': bytes });
  for (let sent = 0; sent < bytes; sent += SOURCE_CHUNK.length) {
    const n = Math.min(SOURCE_CHUNK.length, bytes - sent);
    if (!res.write(n === SOURCE_CHUNK.length ? SOURCE_CHUNK : SOURCE_CHUNK.subarray(0, n))) await once(res, 'drain');
  }
  res.end();
}

const server = http.createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://x');
  const fail = (e: unknown): void => {
    if (!res.headersSent) res.writeHead(500);
    res.end(String(e));
  };
  if (req.method === 'GET' && url.pathname === '/tiny') {
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': 3 });
    res.end('ok\n');
  } else if (req.method === 'PUT' && url.pathname === '/sink') {
    drain(req).then((bytes) => res.writeHead(201, { 'x-bytes': bytes }).end(), fail);
  } else if (req.method === 'PUT' && url.pathname === '/store') {
    store(req).then((digest) => res.writeHead(201, { 'x-digest': `sha256:${digest}` }).end(), fail);
  } else if (req.method === 'GET' && url.pathname === '/source') {
    source(res, Number(url.searchParams.get('bytes') ?? 0)).catch(fail);
  } else {
    res.writeHead(404).end();
  }
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  const addr = server.address();
  if (addr && typeof addr === 'object') process.stdout.write(`listening on http://127.0.0.1:${addr.port}\n`);
});
process.once('SIGTERM', () => {
  server.close(() => process.exit(0));
  server.closeAllConnections();
});
