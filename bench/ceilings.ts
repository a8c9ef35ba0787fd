/** The machine's ceilings, measured in the same run as the registries: hashing and loopback HTTP. */
import { createHash, randomBytes } from 'node:crypto';
import { startProcess, stopAndWait, tempDir, removeDir } from '../test/support/proc';
import { bundleScript } from './children';
import { expectStatus, GeneratedBlob, HttpClient } from './client';
import { median, MiB, mibPerSec, timeMs, timeRequests, type LoadResult } from './stats';

export interface Ceilings {
  sha256MiBps64KiB: number;
  sha256MiBps1MiB: number;
  tinyGet: LoadResult;
  /** PUT of a 64 MiB body that the server only counts. */
  sinkMiBps: number;
  /** PUT of a 64 MiB body that the server hashes, writes to a temp file and renames: a minimal streaming registry. */
  storeMiBps: number;
  /** GET of a 64 MiB body served from memory. */
  sourceMiBps: number;
}

/** sha256 over `totalBytes` fed in `chunkBytes` updates, as a server hashing socket reads does. */
function sha256MiBps(chunkBytes: number, totalBytes: number): number {
  const chunk = randomBytes(chunkBytes);
  const t0 = performance.now();
  const hash = createHash('sha256');
  for (let done = 0; done < totalBytes; done += chunkBytes) hash.update(chunk);
  hash.digest();
  return mibPerSec(totalBytes, performance.now() - t0);
}

export interface CeilingOptions {
  reps: number;
  blobBytes: number;
  requests: number;
  concurrency: number;
  warmupRequests: number;
  /** Distinct seeds for generated bodies. */
  seed: number;
}

export async function measureCeilings(opts: CeilingOptions, log: (line: string) => void): Promise<Ceilings> {
  const reps = Array.from({ length: opts.reps }, (_, i) => i);
  const sha64k = median(reps.map(() => sha256MiBps(64 * 1024, 256 * MiB)));
  const sha1m = median(reps.map(() => sha256MiBps(MiB, 256 * MiB)));
  log(`  sha256: ${sha64k.toFixed(0)} MiB/s (64 KiB updates), ${sha1m.toFixed(0)} MiB/s (1 MiB updates)`);

  const dir = tempDir('bench-ceiling');
  const script = await bundleScript('bench/ceilingServer.ts', dir);
  const started = await startProcess(process.execPath, [script, dir], /listening on (http:\/\/[\d.:]+)/);
  const client = new HttpClient(started.match[1] as string, opts.concurrency);
  try {
    // Untimed rounds first: a Node server needs thousands of requests before its JIT settles.
    await timeRequests(opts.warmupRequests, opts.concurrency, async () => { expectStatus(await client.request('GET', '/tiny'), 200, 'GET /tiny'); });
    for (let i = 0; i < 2; i++) {
      const warm = new GeneratedBlob(opts.seed - 1 - i, opts.blobBytes / 4);
      expectStatus(await client.request('PUT', '/sink', { headers: { 'content-length': warm.size }, body: warm.chunks() }), 201, 'PUT /sink');
      expectStatus(await client.request('PUT', '/store', { headers: { 'content-length': warm.size }, body: warm.chunks() }), 201, 'PUT /store');
      expectStatus(await client.request('GET', `/source?bytes=${warm.size}`, { discardBody: true }), 200, 'GET /source');
    }
    const tiny: LoadResult[] = [];
    const sink: number[] = [];
    const store: number[] = [];
    const source: number[] = [];
    for (const rep of reps) {
      tiny.push(await timeRequests(opts.requests, opts.concurrency, async () => { expectStatus(await client.request('GET', '/tiny'), 200, 'GET /tiny'); }));
      const blob = new GeneratedBlob(opts.seed + rep, opts.blobBytes);
      const body = (): { headers: Record<string, number>; body: Iterable<Buffer> } => ({ headers: { 'content-length': blob.size }, body: blob.chunks() });
      sink.push(mibPerSec(blob.size, await timeMs(async () => expectStatus(await client.request('PUT', '/sink', body()), 201, 'PUT /sink'))));
      store.push(mibPerSec(blob.size, await timeMs(async () => expectStatus(await client.request('PUT', '/store', body()), 201, 'PUT /store'))));
      source.push(mibPerSec(blob.size, await timeMs(async () => {
        const res = expectStatus(await client.request('GET', `/source?bytes=${blob.size}`, { discardBody: true }), 200, 'GET /source');
        if (res.bytes !== blob.size) throw new Error(`GET /source: ${res.bytes} bytes, expected ${blob.size}`);
      })));
    }
    const tinyGet: LoadResult = { reqPerSec: median(tiny.map((t) => t.reqPerSec)), p50Ms: median(tiny.map((t) => t.p50Ms)), p99Ms: median(tiny.map((t) => t.p99Ms)) };
    return { sha256MiBps64KiB: sha64k, sha256MiBps1MiB: sha1m, tinyGet, sinkMiBps: median(sink), storeMiBps: median(store), sourceMiBps: median(source) };
  } finally {
    client.close();
    await stopAndWait(started.pid);
    removeDir(dir);
  }
}
