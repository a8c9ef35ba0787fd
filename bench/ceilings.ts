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
  /** PUT of a 64 MiB body that the server hashes, writes, fsyncs and renames: a minimal durable streaming registry. */
  storeMiBps: number;
  /** GET of a 64 MiB body served from memory. */
  sourceMiBps: number;
}

/** The two loopback ceilings of one push round, measured next to the registries' pushes of that round. */
export interface RoundCeilings {
  /** min(sha256, loopback PUT into a counting sink): what a registry could reach if storing cost nothing. */
  ceilingMiBps: number;
  /** Loopback PUT hashed, written, fsynced and renamed. */
  storeMiBps: number;
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

/** min(sha256 in 64 KiB updates, in 1 MiB updates), median of `reps`: the hashing a registry cannot skip. */
export function sha256Ceiling(reps: number): number {
  const runs = Array.from({ length: reps }, () => Math.min(sha256MiBps(64 * 1024, 256 * MiB), sha256MiBps(MiB, 256 * MiB)));
  return median(runs);
}

/**
 * bench/ceilingServer.ts as its own process, like the registries, so the bench client gets the same
 * treatment against it. It stays up for the whole run: the push benches measure its ceilings in every
 * round, next to the registries, because what loopback gives on a shared machine moves threefold within
 * minutes and a ceiling measured once at the start does not describe a push measured later.
 */
export class CeilingServer {
  private sha256MiBps = Number.POSITIVE_INFINITY;

  private constructor(private readonly dir: string, private readonly pid: number, readonly client: HttpClient) {}

  static async start(concurrency: number): Promise<CeilingServer> {
    const dir = tempDir('bench-ceiling');
    const script = await bundleScript('bench/ceilingServer.ts', dir);
    const started = await startProcess(process.execPath, [script, dir], /listening on (http:\/\/[\d.:]+)/);
    const server = new CeilingServer(dir, started.pid, new HttpClient(started.match[1] as string, concurrency));
    // Untimed: the first large bodies run through code the JIT has not compiled yet.
    for (let i = 0; i < 2; i++) {
      const warm = new GeneratedBlob(0x7fff0000 + i, 16 * MiB);
      await server.put('/sink', warm);
      await server.put('/store', warm);
      await server.get(warm.size);
    }
    return server;
  }

  /** PUT of `blob` to /sink or /store, in MiB/s; /store must answer with the blob's digest. */
  async put(path: '/sink' | '/store', blob: GeneratedBlob): Promise<number> {
    const expected = path === '/store' ? blob.digest() : undefined;
    let digest: unknown;
    const ms = await timeMs(async () => {
      digest = expectStatus(await this.client.request('PUT', path, { headers: { 'content-length': blob.size }, body: blob.chunks() }), 201, `PUT ${path}`).headers['x-digest'];
    });
    if (expected !== undefined && digest !== expected) throw new Error(`PUT /store: digest ${String(digest)}, expected ${expected}`);
    return mibPerSec(blob.size, ms);
  }

  async get(bytes: number): Promise<number> {
    return mibPerSec(bytes, await timeMs(async () => {
      const res = expectStatus(await this.client.request('GET', `/source?bytes=${bytes}`, { discardBody: true }), 200, 'GET /source');
      if (res.bytes !== bytes) throw new Error(`GET /source: ${res.bytes} bytes, expected ${bytes}`);
    }));
  }

  /** Both push ceilings for a blob of `bytes`, once each, in alternating order so neither always goes first. */
  async round(bytes: number, seed: number, rep: number): Promise<RoundCeilings> {
    const sinkBlob = new GeneratedBlob(seed, bytes);
    const storeBlob = new GeneratedBlob(seed + 1, bytes);
    let sink: number;
    let store: number;
    if (rep % 2 === 0) {
      sink = await this.put('/sink', sinkBlob);
      store = await this.put('/store', storeBlob);
    } else {
      store = await this.put('/store', storeBlob);
      sink = await this.put('/sink', sinkBlob);
    }
    return { ceilingMiBps: Math.min(this.sha256MiBps, sink), storeMiBps: store };
  }

  /** The run's sha256 figure caps every round's ceiling: a registry must hash what it stores. */
  useSha256(miBps: number): void {
    this.sha256MiBps = miBps;
  }

  async stop(): Promise<void> {
    this.client.close();
    await stopAndWait(this.pid);
    removeDir(this.dir);
  }
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

export async function measureCeilings(server: CeilingServer, opts: CeilingOptions, log: (line: string) => void): Promise<Ceilings> {
  const reps = Array.from({ length: opts.reps }, (_, i) => i);
  const sha64k = median(reps.map(() => sha256MiBps(64 * 1024, 256 * MiB)));
  const sha1m = median(reps.map(() => sha256MiBps(MiB, 256 * MiB)));
  server.useSha256(Math.min(sha64k, sha1m));
  log(`  sha256: ${sha64k.toFixed(0)} MiB/s (64 KiB updates), ${sha1m.toFixed(0)} MiB/s (1 MiB updates)`);

  const client = server.client;
  // Untimed requests first: a Node server needs thousands of requests before its JIT settles.
  await timeRequests(opts.warmupRequests, opts.concurrency, async () => { expectStatus(await client.request('GET', '/tiny'), 200, 'GET /tiny'); });
  const tiny: LoadResult[] = [];
  const sink: number[] = [];
  const store: number[] = [];
  const source: number[] = [];
  for (const rep of reps) {
    tiny.push(await timeRequests(opts.requests, opts.concurrency, async () => { expectStatus(await client.request('GET', '/tiny'), 200, 'GET /tiny'); }));
    const blob = new GeneratedBlob(opts.seed + rep, opts.blobBytes);
    sink.push(await server.put('/sink', blob));
    store.push(await server.put('/store', blob));
    source.push(await server.get(blob.size));
  }
  const tinyGet: LoadResult = { reqPerSec: median(tiny.map((t) => t.reqPerSec)), p50Ms: median(tiny.map((t) => t.p50Ms)), p99Ms: median(tiny.map((t) => t.p99Ms)) };
  return { sha256MiBps64KiB: sha64k, sha256MiBps1MiB: sha1m, tinyGet, sinkMiBps: median(sink), storeMiBps: median(store), sourceMiBps: median(source) };
}
