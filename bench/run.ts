/**
 * `npm run bench`: Berth's embedded registry and Debian's docker-registry (distribution 2.8) side by
 * side in one run, each on a fresh root on 127.0.0.1, measured by the same client, next to the
 * machine's ceilings. Prints a table per benchmark and writes bench-results/latest.json
 * (bench-results/partial.json for a run with --only or --berth-cli).
 *
 * Options: --only ceilings,blob,chunked,manifest,small,tags,memory,s3,activation
 *          --reps N (default 5)   --berth-cpu-prof DIR (profile the Berth server with node --cpu-prof)
 *          --berth-cli FILE (measure another build of the registry CLI in place of dist/registry.js)
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem, release } from 'node:os';
import { join } from 'node:path';
import { REGISTRY_CLI, startBerthRegistry } from '../test/support/berthRegistry';
import { removeDir, startProcess, stopAndWait, tempDir } from '../test/support/proc';
import { startDistribution } from '../test/support/distribution';
import { distributionS3Config, freshBucket, startBerthOnS3 } from '../test/support/ceph';
import { measureActivation, type ActivationReport } from './activation';
import { CeilingServer, measureCeilings, sha256Ceiling, type Ceilings, type RoundCeilings } from './ceilings';
import { PROJECT_ROOT } from './children';
import { GeneratedBlob, HttpClient } from './client';
import { cpuMs, measureMemory } from './memory';
import { getManifest, listTags, pullBlob, pushChunked, pushMonolithic, pushSampleImage, pushSmall, pushStreamed, putManifest } from './registry';
import { formatNumber, median, MiB, mibPerSec, renderTable, timeMs, timeRequests } from './stats';

type TargetName = 'berth' | 'distribution';
const TARGETS: readonly TargetName[] = ['berth', 'distribution'];
const LABELS: Record<TargetName, string> = { berth: 'Berth', distribution: 'distribution' };

interface Target {
  name: TargetName;
  client?: HttpClient;
  pid?: number;
  url?: string;
  unavailable?: string;
  /**
   * Berth only: a second server on its own root with `storage.filesystem.fsync: false`, for the push
   * rows with fsync relaxed. distribution never fsyncs, so it answers those rows with its usual push.
   */
  relaxed?: HttpClient;
  stop(): Promise<void>;
}

/** The server a "fsync off" push row goes to. */
const relaxedClient = (t: Target, c: HttpClient): HttpClient => t.relaxed ?? c;

/**
 * Writes out the page cache the fsync-off pushes left dirty, between measurements: its writeback
 * would otherwise land in whatever runs next (a pull, the other registry's pushes) and be charged
 * to it.
 */
function writeBackDirtyPages(): void {
  spawnSync('sync', { stdio: 'ignore' });
}

interface MetricDef {
  key: string;
  label: string;
  unit: string;
  better: 'higher' | 'lower';
  /** The machine's ceiling for this metric, when there is a comparable one. */
  ceiling?: (c: Ceilings) => number;
  /** For pushes: a minimal Node server that hashes, writes, fsyncs and renames, i.e. what a durable registry must at least do. */
  storeCeiling?: (c: Ceilings) => number;
  /**
   * For pushes: both ceilings come from the bench's own rounds (Bench.roundCeilingBytes), and each
   * fraction is the median of the rounds' own Berth/ceiling, so a ceiling that moves during the run moves both.
   */
  perRound?: true;
  /** Shown for information only: no ratio. */
  informational?: boolean;
  /** The ratio is shown only when this other metric of the bench has the same median on both servers (same work done). */
  comparableWhenEqual?: string;
}

interface MetricValue {
  samples: number[];
  median?: number;
  error?: string;
}

type Measured = Record<string, number>;

interface Bench {
  id: string;
  title: string;
  reps: number;
  /** Runs on servers started for it alone, so that earlier benches do not set its baseline. */
  freshServers?: boolean;
  /** Fresh servers that store in S3 (one Ceph gateway, a bucket each) in place of the filesystem. */
  s3?: boolean;
  metrics: MetricDef[];
  /** Push benches: the ceiling server takes a body of this size in every round, next to the registries. */
  roundCeilingBytes?: number;
  /** Untimed preparation per server; may return measurements of its own (e.g. how fast tags were written). */
  setup?(t: Target, client: HttpClient): Promise<Measured | void>;
  run(t: Target, client: HttpClient, rep: number): Promise<Measured>;
}

const BLOB_BYTES = 64 * MiB;
const CHUNK_BYTES = 8 * MiB;
/** Smaller than BLOB_BYTES: every byte also crosses the gateway and Ceph's object store on the same machine. */
const S3_BLOB_BYTES = 32 * MiB;
const MANIFEST_GETS = 1000;
const MANIFEST_CONCURRENCY = 16;
const SMALL_BLOBS = 200;
const SMALL_CONCURRENCY = 8;
const SMALL_BLOB_BYTES = 1024;
const TAG_COUNT = 1000;
const TAG_PAGE = 100;
const TAG_LISTINGS_PER_REP = 30;
const MEMORY_SIZES = [256 * MiB, 1024 * MiB];
const ACTIVATION_RUNS = 7;
/** Requests sent before timing: a Node server's JIT takes thousands of requests to settle, and a registry in use is warm. */
const WARMUP_REQUESTS = 3000;

interface BenchArgs {
  only?: Set<string>;
  reps: number;
  /** Run the Berth server under node --cpu-prof, profiles written here. */
  cpuProfDir?: string;
  /** Another build of the registry CLI to measure in place of dist/registry.js (to try a change side by side). */
  berthCli?: string;
}

function parseArgs(argv: string[]): BenchArgs {
  const out: BenchArgs = { reps: 5 };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = argv[i + 1];
    if (arg === '--only' && value) { out.only = new Set(value.split(',')); i++; }
    else if (arg === '--reps' && value) { out.reps = Math.max(1, Number(value)); i++; }
    else if (arg === '--berth-cpu-prof' && value) { out.cpuProfDir = value; i++; }
    else if (arg === '--berth-cli' && value) { out.berthCli = value; i++; }
    else throw new Error(`unknown argument "${arg}"; use --only ids, --reps N, --berth-cpu-prof DIR, --berth-cli FILE`);
  }
  return out;
}

const errorText = (e: unknown): string => (e instanceof Error ? e.message : String(e)).split('\n')[0]?.slice(0, 300) ?? '';

async function startTarget(name: TargetName, args: BenchArgs, onS3 = false, withRelaxed = false): Promise<Target> {
  try {
    const server = onS3 ? await startOnS3(name)
      : name === 'distribution' ? await startDistribution()
        : args.cpuProfDir || args.berthCli ? await startCustomBerth(args.berthCli ?? REGISTRY_CLI, args.cpuProfDir)
          : await startBerthRegistry();
    const client = new HttpClient(server.url, MANIFEST_CONCURRENCY);
    const relaxedServer = withRelaxed && name === 'berth' && !onS3
      ? await startCustomBerth(args.berthCli ?? REGISTRY_CLI, undefined, 'storage:\n  filesystem:\n    fsync: false\n') : undefined;
    const relaxed = relaxedServer && new HttpClient(relaxedServer.url, MANIFEST_CONCURRENCY);
    const target: Target = {
      name, client, pid: server.pid, url: server.url, ...(relaxed ? { relaxed } : {}),
      stop: async () => {
        client.close();
        relaxed?.close();
        await Promise.all([server.stop(), relaxedServer?.stop()]);
      },
    };
    const base = await client.request('GET', '/v2/').catch((e: unknown) => ({ status: 0, body: Buffer.from(errorText(e)) }));
    if (base.status !== 200) target.unavailable = `GET /v2/ answered ${base.status} ${base.body.toString('utf8', 0, 200)}`;
    return target;
  } catch (e) {
    return { name, unavailable: errorText(e), stop: async () => undefined };
  }
}

/**
 * Berth from another CLI file and/or under `node --cpu-prof` (which NODE_OPTIONS does not accept), started
 * the way startBerthRegistry does; a profile is written when the server exits on SIGTERM.
 */
async function startCustomBerth(cli: string, cpuProfDir: string | undefined, configYaml?: string): Promise<{ url: string; pid: number; stop(): Promise<void> }> {
  const dir = tempDir('bench-berth');
  const nodeArgs = cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${cpuProfDir}`] : [];
  const configArgs = configYaml === undefined ? [] : ['--config', join(dir, 'config.yml')];
  if (configYaml !== undefined) writeFileSync(join(dir, 'config.yml'), configYaml);
  const started = await startProcess(process.execPath, [...nodeArgs, cli, 'serve', '--listen', '127.0.0.1:0', '--root', join(dir, 'data'), ...configArgs],
    /listening on (http:\/\/[\d.]+:\d+)/);
  return { url: started.match[1] as string, pid: started.pid, stop: async () => { await stopAndWait(started.pid); removeDir(dir); } };
}

/**
 * A server storing in its own bucket on the process's Ceph gateway. Both serve blobs themselves
 * (Berth's redirect off, distribution's redirect disabled) so that a pull measures the registry, not the gateway alone.
 */
async function startOnS3(name: TargetName): Promise<{ url: string; pid: number; stop(): Promise<void> }> {
  const s3 = await freshBucket(`bench-${name}`);
  if (name === 'berth') return startBerthOnS3(s3);
  return startDistribution({ storageDriver: { ...distributionS3Config(s3), redirect: { disable: true } } });
}

interface Timed {
  ms: number;
  /** CPU the server process used meanwhile (all threads, 10 ms resolution): unlike wall time, barely moved by other load on the machine. */
  cpuMs: number;
}

async function timed(t: Target, work: () => Promise<unknown>): Promise<Timed> {
  const cpuBefore = t.pid === undefined ? undefined : cpuMs(t.pid);
  const ms = await timeMs(work);
  const cpuAfter = t.pid === undefined ? undefined : cpuMs(t.pid);
  return { ms, cpuMs: cpuBefore === undefined || cpuAfter === undefined ? Number.NaN : cpuAfter - cpuBefore };
}

const cpuMetric = (key: string, label: string): MetricDef => ({ key, label, unit: 'CPU ms', better: 'lower' });

function blobSeed(bench: string, rep: number, n = 0): number {
  let h = 0;
  for (const ch of bench) h = (h * 31 + ch.charCodeAt(0)) >>> 0;
  return (h + rep * 1000 + n) >>> 0;
}

function benches(reps: number): Bench[] {
  return [
    {
      id: 'blob',
      title: '64 MiB blob push and pull',
      reps,
      roundCeilingBytes: BLOB_BYTES,
      metrics: [
        { key: 'pushMonolithic', label: 'push: POST + PUT ?digest= with body', unit: 'MiB/s', better: 'higher', perRound: true },
        { key: 'pushStreamed', label: 'push: streamed PATCH (chunked encoding) + PUT', unit: 'MiB/s', better: 'higher', perRound: true },
        { key: 'pushMonolithicNoFsync', label: 'push, Berth with fsync off: POST + PUT ?digest=', unit: 'MiB/s', better: 'higher', perRound: true },
        { key: 'pushStreamedNoFsync', label: 'push, Berth with fsync off: streamed PATCH + PUT', unit: 'MiB/s', better: 'higher', perRound: true },
        { key: 'pull', label: 'pull: GET blob', unit: 'MiB/s', better: 'higher', ceiling: (c) => c.sourceMiBps },
        cpuMetric('pushMonolithicCpu', 'server CPU per push: POST + PUT'),
        cpuMetric('pushStreamedCpu', 'server CPU per push: streamed PATCH + PUT'),
        cpuMetric('pullCpu', 'server CPU per pull'),
      ],
      async setup(t, c) {
        // Warms the server's code paths and the socket; not counted.
        for (let i = 0; i < 3; i++) {
          const warm = new GeneratedBlob(blobSeed('blob-warm', i), 16 * MiB);
          await pushMonolithic(c, 'bench/warm', warm);
          await pushStreamed(c, 'bench/warm', new GeneratedBlob(blobSeed('blob-warm', i, 1), 16 * MiB));
          await pullBlob(c, 'bench/warm', warm.digest());
          if (t.relaxed) {
            await pushMonolithic(t.relaxed, 'bench/warm', new GeneratedBlob(blobSeed('blob-warm', i, 2), 16 * MiB));
            await pushStreamed(t.relaxed, 'bench/warm', new GeneratedBlob(blobSeed('blob-warm', i, 3), 16 * MiB));
          }
        }
      },
      async run(t, c, rep) {
        const mono = new GeneratedBlob(blobSeed('blob', rep, 1), BLOB_BYTES);
        const streamed = new GeneratedBlob(blobSeed('blob', rep, 2), BLOB_BYTES);
        mono.digest();
        streamed.digest();
        const pushMono = await timed(t, () => pushMonolithic(c, 'bench/blob', mono));
        const pushStream = await timed(t, () => pushStreamed(c, 'bench/blob', streamed));
        // The pull comes before the fsync-off pushes, whose writeback would otherwise run under it.
        let pulled = 0;
        const pull = await timed(t, async () => { pulled = await pullBlob(c, 'bench/blob', mono.digest()); });
        if (pulled !== BLOB_BYTES) throw new Error(`pull returned ${pulled} bytes, expected ${BLOB_BYTES}`);
        const monoRelaxed = new GeneratedBlob(blobSeed('blob', rep, 3), BLOB_BYTES);
        const streamedRelaxed = new GeneratedBlob(blobSeed('blob', rep, 4), BLOB_BYTES);
        monoRelaxed.digest();
        streamedRelaxed.digest();
        const pushMonoRelaxed = await timeMs(() => pushMonolithic(relaxedClient(t, c), 'bench/relaxed', monoRelaxed));
        const pushStreamRelaxed = await timeMs(() => pushStreamed(relaxedClient(t, c), 'bench/relaxed', streamedRelaxed));
        writeBackDirtyPages();
        return {
          pushMonolithic: mibPerSec(BLOB_BYTES, pushMono.ms), pushStreamed: mibPerSec(BLOB_BYTES, pushStream.ms), pull: mibPerSec(BLOB_BYTES, pull.ms),
          pushMonolithicNoFsync: mibPerSec(BLOB_BYTES, pushMonoRelaxed), pushStreamedNoFsync: mibPerSec(BLOB_BYTES, pushStreamRelaxed),
          pushMonolithicCpu: pushMono.cpuMs, pushStreamedCpu: pushStream.cpuMs, pullCpu: pull.cpuMs,
        };
      },
    },
    {
      id: 'chunked',
      title: `64 MiB chunked push (${CHUNK_BYTES / MiB} MiB PATCH chunks with Content-Range)`,
      reps,
      roundCeilingBytes: BLOB_BYTES,
      metrics: [
        { key: 'pushChunked', label: 'push: chunked PATCH + PUT', unit: 'MiB/s', better: 'higher', perRound: true },
        { key: 'pushChunkedNoFsync', label: 'push, Berth with fsync off: chunked PATCH + PUT', unit: 'MiB/s', better: 'higher', perRound: true },
        cpuMetric('pushChunkedCpu', 'server CPU per push'),
      ],
      async run(t, c, rep) {
        const blob = new GeneratedBlob(blobSeed('chunked', rep), BLOB_BYTES);
        blob.digest();
        const push = await timed(t, () => pushChunked(c, 'bench/chunked', blob, CHUNK_BYTES));
        const relaxedBlob = new GeneratedBlob(blobSeed('chunked', rep, 1), BLOB_BYTES);
        relaxedBlob.digest();
        const pushRelaxed = await timeMs(() => pushChunked(relaxedClient(t, c), 'bench/relaxed-chunked', relaxedBlob, CHUNK_BYTES));
        writeBackDirtyPages();
        return { pushChunked: mibPerSec(BLOB_BYTES, push.ms), pushChunkedCpu: push.cpuMs, pushChunkedNoFsync: mibPerSec(BLOB_BYTES, pushRelaxed) };
      },
    },
    {
      id: 's3',
      title: `${S3_BLOB_BYTES / MiB} MiB blob push and pull, both registries storing in S3 (Ceph RADOS gateway on 127.0.0.1, a bucket each)`,
      reps,
      s3: true,
      metrics: [
        { key: 'pushMonolithic', label: 'push: POST + PUT ?digest= with body', unit: 'MiB/s', better: 'higher' },
        { key: 'pushStreamed', label: 'push: streamed PATCH (chunked encoding) + PUT', unit: 'MiB/s', better: 'higher' },
        { key: 'pushChunked', label: `push: chunked ${CHUNK_BYTES / MiB} MiB PATCH + PUT`, unit: 'MiB/s', better: 'higher' },
        { key: 'pull', label: 'pull: GET blob', unit: 'MiB/s', better: 'higher' },
        cpuMetric('pushMonolithicCpu', 'server CPU per push: POST + PUT'),
        cpuMetric('pullCpu', 'server CPU per pull'),
      ],
      async setup(_t, c) {
        // Warms the server, its S3 client's connections and the gateway's bucket; not counted.
        const warm = new GeneratedBlob(blobSeed('s3-warm', 0), 8 * MiB);
        await pushMonolithic(c, 'bench/warm', warm);
        await pullBlob(c, 'bench/warm', warm.digest());
      },
      async run(t, c, rep) {
        const mono = new GeneratedBlob(blobSeed('s3', rep, 1), S3_BLOB_BYTES);
        const streamed = new GeneratedBlob(blobSeed('s3', rep, 2), S3_BLOB_BYTES);
        const chunked = new GeneratedBlob(blobSeed('s3', rep, 3), S3_BLOB_BYTES);
        for (const b of [mono, streamed, chunked]) b.digest();
        const pushMono = await timed(t, () => pushMonolithic(c, 'bench/s3', mono));
        const pushStream = await timed(t, () => pushStreamed(c, 'bench/s3', streamed));
        const pushChunk = await timed(t, () => pushChunked(c, 'bench/s3', chunked, CHUNK_BYTES));
        let pulled = 0;
        const pull = await timed(t, async () => { pulled = await pullBlob(c, 'bench/s3', mono.digest()); });
        if (pulled !== S3_BLOB_BYTES) throw new Error(`pull returned ${pulled} bytes, expected ${S3_BLOB_BYTES}`);
        return {
          pushMonolithic: mibPerSec(S3_BLOB_BYTES, pushMono.ms), pushStreamed: mibPerSec(S3_BLOB_BYTES, pushStream.ms),
          pushChunked: mibPerSec(S3_BLOB_BYTES, pushChunk.ms), pull: mibPerSec(S3_BLOB_BYTES, pull.ms),
          pushMonolithicCpu: pushMono.cpuMs, pullCpu: pull.cpuMs,
        };
      },
    },
    {
      id: 'manifest',
      title: `${MANIFEST_GETS.toLocaleString('en-US')} manifest GETs by tag at concurrency ${MANIFEST_CONCURRENCY}`,
      reps,
      metrics: [
        { key: 'reqPerSec', label: 'throughput', unit: 'req/s', better: 'higher', ceiling: (c) => c.tinyGet.reqPerSec },
        { key: 'p50Ms', label: 'latency p50', unit: 'ms', better: 'lower', ceiling: (c) => c.tinyGet.p50Ms },
        { key: 'p99Ms', label: 'latency p99', unit: 'ms', better: 'lower', ceiling: (c) => c.tinyGet.p99Ms },
        { key: 'cpuUsPerRequest', label: 'server CPU per request', unit: 'CPU µs', better: 'lower' },
      ],
      async setup(_t, c) {
        const manifest = await pushSampleImage(c, 'bench/manifest', 'manifest');
        await putManifest(c, 'bench/manifest', 'latest', manifest);
        await timeRequests(WARMUP_REQUESTS, MANIFEST_CONCURRENCY, async () => { await getManifest(c, 'bench/manifest', 'latest'); });
      },
      async run(t, c) {
        let r = { reqPerSec: 0, p50Ms: 0, p99Ms: 0 };
        const cpu = await timed(t, async () => { r = await timeRequests(MANIFEST_GETS, MANIFEST_CONCURRENCY, async () => { await getManifest(c, 'bench/manifest', 'latest'); }); });
        return { reqPerSec: r.reqPerSec, p50Ms: r.p50Ms, p99Ms: r.p99Ms, cpuUsPerRequest: (cpu.cpuMs * 1000) / MANIFEST_GETS };
      },
    },
    {
      id: 'small',
      title: `${SMALL_BLOBS} small-blob pushes (${SMALL_BLOB_BYTES} B, POST + PUT) at concurrency ${SMALL_CONCURRENCY}`,
      reps,
      metrics: [
        { key: 'pushesPerSec', label: 'blobs pushed', unit: 'blobs/s', better: 'higher' },
        { key: 'reqPerSec', label: 'requests', unit: 'req/s', better: 'higher', ceiling: (c) => c.tinyGet.reqPerSec },
        { key: 'p99Ms', label: 'push latency p99', unit: 'ms', better: 'lower' },
        { key: 'cpuUsPerPush', label: 'server CPU per push', unit: 'CPU µs', better: 'lower' },
      ],
      async setup(_t, c) {
        await timeRequests(SMALL_BLOBS * 2, SMALL_CONCURRENCY, async (i) => { await pushSmall(c, 'bench/small-warm', Buffer.from(`warm-up blob ${i}`)); });
      },
      async run(t, c, rep) {
        const seed = blobSeed('small', rep);
        const data = (i: number): Buffer => {
          const b = Buffer.alloc(SMALL_BLOB_BYTES, i % 251);
          b.writeUInt32BE(seed, 0);
          b.writeUInt32BE(i, 4);
          return b;
        };
        let r = { reqPerSec: 0, p50Ms: 0, p99Ms: 0 };
        const cpu = await timed(t, async () => { r = await timeRequests(SMALL_BLOBS, SMALL_CONCURRENCY, async (i) => { await pushSmall(c, 'bench/small', data(i)); }); });
        return { pushesPerSec: r.reqPerSec, reqPerSec: r.reqPerSec * 2, p99Ms: r.p99Ms, cpuUsPerPush: (cpu.cpuMs * 1000) / SMALL_BLOBS };
      },
    },
    {
      id: 'tags',
      title: `listing ${TAG_COUNT.toLocaleString('en-US')} tags`,
      reps,
      metrics: [
        { key: 'tagPutsPerSec', label: `writing the tags (manifest PUT, concurrency ${SMALL_CONCURRENCY}, once)`, unit: 'req/s', better: 'higher' },
        { key: 'listAllMs', label: 'tags/list, one response', unit: 'ms', better: 'lower' },
        { key: 'listPagedMs', label: `tags/list?n=${TAG_PAGE}, following Link`, unit: 'ms', better: 'lower', comparableWhenEqual: 'pages' },
        { key: 'pages', label: 'pages returned for the paged listing', unit: 'pages', better: 'lower', informational: true },
        { key: 'cpuUsPerFullListing', label: 'server CPU per one-response listing', unit: 'CPU µs', better: 'lower' },
        { key: 'cpuUsPerPagedListing', label: 'server CPU per paged listing (all pages)', unit: 'CPU µs', better: 'lower', comparableWhenEqual: 'pages' },
      ],
      async setup(_t, c) {
        const manifest = await pushSampleImage(c, 'bench/tags', 'tags');
        const r = await timeRequests(TAG_COUNT, SMALL_CONCURRENCY, async (i) => { await putManifest(c, 'bench/tags', `t${String(i).padStart(4, '0')}`, manifest); });
        for (let i = 0; i < TAG_LISTINGS_PER_REP; i++) await listTags(c, 'bench/tags', i % 2 === 0 ? undefined : TAG_PAGE); // warm-up
        return { tagPutsPerSec: r.reqPerSec };
      },
      async run(t, c) {
        // One listing takes milliseconds: each repetition is the median of several.
        const allMs: number[] = [];
        const pagedMs: number[] = [];
        let pages = 0;
        const check = (listed: number): void => { if (listed !== TAG_COUNT) throw new Error(`listed ${listed} tags, expected ${TAG_COUNT}`); };
        const cpuAll = await timed(t, async () => {
          for (let i = 0; i < TAG_LISTINGS_PER_REP; i++) allMs.push(await timeMs(async () => check((await listTags(c, 'bench/tags')).tags.length)));
        });
        const cpuPaged = await timed(t, async () => {
          for (let i = 0; i < TAG_LISTINGS_PER_REP; i++) {
            pagedMs.push(await timeMs(async () => {
              const paged = await listTags(c, 'bench/tags', TAG_PAGE);
              check(paged.tags.length);
              pages = paged.pages;
            }));
          }
        });
        return { listAllMs: median(allMs), listPagedMs: median(pagedMs), pages, cpuUsPerFullListing: (cpuAll.cpuMs * 1000) / TAG_LISTINGS_PER_REP, cpuUsPerPagedListing: (cpuPaged.cpuMs * 1000) / TAG_LISTINGS_PER_REP };
      },
    },
    {
      id: 'memory',
      title: 'server memory (RSS peak − baseline) streaming big blobs (streamed PATCH push, then pull), fresh servers',
      reps: 1,
      freshServers: true,
      metrics: [
        ...MEMORY_SIZES.flatMap((size) => [
          { key: `push${size / MiB}`, label: `push ${size / MiB} MiB: RSS growth`, unit: 'MiB', better: 'lower' as const },
          { key: `pull${size / MiB}`, label: `pull ${size / MiB} MiB: RSS growth`, unit: 'MiB', better: 'lower' as const },
        ]),
        { key: 'baseline', label: 'RSS before the pushes (after a 16 MiB warm-up)', unit: 'MiB', better: 'lower' },
        { key: 'pushMiBps', label: `push ${MEMORY_SIZES.at(-1) as number / MiB} MiB: throughput`, unit: 'MiB/s', better: 'higher', ceiling: (c) => c.sinkMiBps, storeCeiling: (c) => c.storeMiBps },
        { key: 'pullMiBps', label: `pull ${MEMORY_SIZES.at(-1) as number / MiB} MiB: throughput`, unit: 'MiB/s', better: 'higher', ceiling: (c) => c.sourceMiBps },
      ],
      async run(t, c) {
        const pid = t.pid;
        if (pid === undefined) throw new Error('no server pid');
        const out: Measured = {};
        const warm = new GeneratedBlob(blobSeed('memory-warm', 0), 16 * MiB);
        await pushStreamed(c, 'bench/memory', warm);
        await pullBlob(c, 'bench/memory', warm.digest());
        for (const size of MEMORY_SIZES) {
          const blob = new GeneratedBlob(blobSeed('memory', size / MiB), size);
          blob.digest();
          let pushMs = 0;
          let pullMs = 0;
          const push = await measureMemory(pid, async () => { pushMs = await timeMs(() => pushStreamed(c, 'bench/memory', blob)); });
          let pulled = 0;
          const pull = await measureMemory(pid, async () => { pullMs = await timeMs(async () => { pulled = await pullBlob(c, 'bench/memory', blob.digest()); }); });
          if (pulled !== size) throw new Error(`pull returned ${pulled} bytes, expected ${size}`);
          out.baseline ??= push.baselineBytes / MiB;
          out[`push${size / MiB}`] = push.growthBytes / MiB;
          out[`pull${size / MiB}`] = pull.growthBytes / MiB;
          out.pushMiBps = mibPerSec(size, pushMs);
          out.pullMiBps = mibPerSec(size, pullMs);
        }
        return out;
      },
    },
  ];
}

type Results = Record<string, Record<TargetName, MetricValue>>;
/** Each push bench's ceilings, one entry per round. */
type Rounds = Record<string, RoundCeilings[]>;

async function runBench(bench: Bench, targets: readonly Target[], results: Results, log: (line: string) => void, ceilingServer?: CeilingServer, rounds: Rounds = {}): Promise<void> {
  const failed = new Map<TargetName, string>();
  const values = (key: string, name: TargetName): MetricValue => {
    results[`${bench.id}.${key}`] ??= { berth: { samples: [] }, distribution: { samples: [] } };
    return (results[`${bench.id}.${key}`] as Record<TargetName, MetricValue>)[name];
  };
  const record = (name: TargetName, measured: Measured | void): void => {
    for (const [key, v] of Object.entries(measured ?? {})) values(key, name).samples.push(v);
  };
  for (const t of targets) {
    if (t.unavailable || !t.client) failed.set(t.name, `not available: ${t.unavailable ?? 'no client'}`);
    else if (bench.setup) {
      try {
        record(t.name, await bench.setup(t, t.client));
      } catch (e) {
        failed.set(t.name, `setup failed: ${errorText(e)}`);
      }
    }
  }
  for (let rep = 0; rep < bench.reps; rep++) {
    // Alternate who goes first so that drift (page cache, thermal) does not favour one server.
    const order = rep % 2 === 0 ? targets : [...targets].reverse();
    if (bench.roundCeilingBytes !== undefined && ceilingServer) {
      (rounds[bench.id] ??= []).push(await ceilingServer.round(bench.roundCeilingBytes, blobSeed(`${bench.id}-ceiling`, rep), rep));
    }
    for (const t of order) {
      if (failed.has(t.name) || !t.client) continue;
      try {
        record(t.name, await bench.run(t, t.client, rep));
      } catch (e) {
        failed.set(t.name, errorText(e));
      }
    }
  }
  for (const m of bench.metrics) {
    for (const t of targets) {
      const v = values(m.key, t.name);
      v.median = v.samples.length ? median(v.samples) : undefined;
      const why = failed.get(t.name);
      if (why !== undefined) v.error = why;
    }
  }
  for (const [name, why] of failed) log(`  ${LABELS[name]}: ${why}`);
}

/** > 1.0 means Berth is better: throughput Berth/distribution, latency and memory distribution/Berth. */
function ratio(def: MetricDef, berth: number | undefined, dist: number | undefined): number | undefined {
  if (berth === undefined || dist === undefined || def.informational || Number.isNaN(berth) || Number.isNaN(dist)) return undefined;
  if (def.unit === 'MiB' && def.better === 'lower') return Math.max(dist, 1) / Math.max(berth, 1); // memory growth near zero: 1 MiB floor
  if (def.better === 'higher') return dist === 0 ? undefined : berth / dist;
  return berth === 0 ? undefined : dist / berth;
}

function ceilingFraction(def: MetricDef, value: number | undefined, ceiling: number | undefined): number | undefined {
  if (value === undefined || ceiling === undefined || ceiling === 0) return undefined;
  return def.better === 'higher' ? value / ceiling : ceiling / value;
}

interface CeilingCells {
  ceiling?: number;
  ofCeiling?: number;
  store?: number;
  ofStore?: number;
}

/** A metric's ceiling and Berth's fraction of it: per round for push rows, from the run's ceilings otherwise. */
function ceilingCells(m: MetricDef, berth: MetricValue | undefined, ceilings: Ceilings | undefined, rounds: RoundCeilings[] | undefined): CeilingCells {
  if (m.perRound) {
    if (!rounds?.length) return {};
    const paired = (pick: (r: RoundCeilings) => number): number | undefined => {
      const fractions = (berth?.samples ?? []).slice(0, rounds.length).map((v, i) => ceilingFraction(m, v, pick(rounds[i] as RoundCeilings)) as number);
      return fractions.length ? median(fractions) : undefined;
    };
    return {
      ceiling: median(rounds.map((r) => r.ceilingMiBps)), ofCeiling: paired((r) => r.ceilingMiBps),
      store: median(rounds.map((r) => r.storeMiBps)), ofStore: paired((r) => r.storeMiBps),
    };
  }
  const ceiling = ceilings && m.ceiling ? m.ceiling(ceilings) : undefined;
  const store = ceilings && m.storeCeiling ? m.storeCeiling(ceilings) : undefined;
  return { ceiling, ofCeiling: ceilingFraction(m, berth?.median, ceiling), store, ofStore: ceilingFraction(m, berth?.median, store) };
}

function cell(v: MetricValue | undefined): string {
  if (v?.median !== undefined) return formatNumber(v.median);
  return v?.error?.startsWith('not available') ? 'not avail.' : 'failed';
}

function renderBench(bench: Bench, results: Results, ceilings: Ceilings | undefined, rounds: Rounds): string {
  const withStore = bench.metrics.some((m) => m.storeCeiling || m.perRound);
  const rows: string[][] = [['metric', 'unit', 'Berth', 'distribution', 'Berth/dist', 'ceiling', 'Berth/ceiling', ...(withStore ? ['Berth/store ceiling'] : [])]];
  const notes = new Set<string>();
  for (const m of bench.metrics) {
    const r = results[`${bench.id}.${m.key}`];
    const b = r?.berth;
    const d = r?.distribution;
    for (const [name, v] of [['Berth', b], ['distribution', d]] as const) if (v?.error) notes.add(`${name}: ${v.error}`);
    const c = ceilingCells(m, b, ceilings, rounds[bench.id]);
    const other = m.comparableWhenEqual ? results[`${bench.id}.${m.comparableWhenEqual}`] : undefined;
    const comparable = !other || other.berth.median === other.distribution.median;
    if (!comparable) notes.add(`${m.label}: the servers did different work (${m.comparableWhenEqual} differ), so no ratio; distribution 2.8 ignores n= on tags/list`);
    rows.push([m.label, m.unit, cell(b), cell(d), comparable ? formatNumber(ratio(m, b?.median, d?.median)) : 'n/c', c.ceiling === undefined ? '' : formatNumber(c.ceiling), c.ceiling === undefined ? '' : formatNumber(c.ofCeiling),
      ...(withStore ? [c.store === undefined ? '' : formatNumber(c.ofStore)] : [])]);
  }
  if (rounds[bench.id]?.length) {
    notes.add('push rows: ceiling = min(sha256, loopback PUT into a counting sink) and store = loopback PUT hashed, written, fsynced, renamed and kept, both measured in every round next to the registries; the fractions are medians of each round\'s own');
  }
  const reps = bench.reps > 1 ? ` (median of ${bench.reps})` : '';
  return [`\n## ${bench.title}${reps}`, renderTable(rows), ...[...notes].map((n) => `   ${n}`)].join('\n');
}

function renderCeilings(c: Ceilings): string {
  return ['\n## Machine ceilings (same run)', renderTable([
    ['ceiling', 'unit', 'value'],
    ['sha256 in node, 64 KiB updates', 'MiB/s', formatNumber(c.sha256MiBps64KiB)],
    ['sha256 in node, 1 MiB updates', 'MiB/s', formatNumber(c.sha256MiBps1MiB)],
    [`loopback tiny GET, concurrency ${MANIFEST_CONCURRENCY}`, 'req/s', formatNumber(c.tinyGet.reqPerSec)],
    ['loopback tiny GET latency p50 / p99', 'ms', `${formatNumber(c.tinyGet.p50Ms)} / ${formatNumber(c.tinyGet.p99Ms)}`],
    ['loopback 64 MiB PUT into a counting sink', 'MiB/s', formatNumber(c.sinkMiBps)],
    ['loopback 64 MiB PUT, hashed + written + fsynced + renamed + kept', 'MiB/s', formatNumber(c.storeMiBps)],
    ['loopback 64 MiB GET from memory', 'MiB/s', formatNumber(c.sourceMiBps)],
  ])].join('\n');
}

function renderActivation(a: ActivationReport): string {
  const timing = (label: string, t: ActivationReport['development']): string[] =>
    [label, t ? formatNumber(t.requireMs) : 'failed', t ? formatNumber(t.activateMs) : 'failed', t ? formatNumber(t.totalMs) : 'failed', t ? formatNumber(t.cpuMs) : 'failed', t ? String(t.runs) : ''];
  const lines = ['\n## Extension activation: require + activate() (fresh process per run, vscode stubbed; median; target < 50 ms)', renderTable([
    ['bundle', 'require ms', 'activate() ms', 'total ms', 'total CPU ms', 'runs'],
    timing('dist/extension.js (development)', a.development),
    timing('extension.js (production, minified)', a.production),
  ])];
  if (a.dockerodeLoaded !== undefined) {
    lines.push(`   dockerode loaded by activation: ${a.dockerodeLoaded ? 'YES (it should load on first engine use)' : 'no'}`);
    lines.push(`   packages loaded by activation: ${a.packagesLoaded?.length ? a.packagesLoaded.join(', ') : 'none'}`);
    lines.push(`   activation registered ${a.registeredCommands ?? 0} commands and ${a.treeViews ?? 0} tree views`);
  }
  lines.push('\n## Bundle sizes', renderTable([['bundle', 'bytes', 'gzip bytes'], ...Object.entries(a.bundles).map(([name, s]) => 'error' in s ? [name, s.error, ''] : [name, s.bytes.toLocaleString('en-US'), s.gzipBytes.toLocaleString('en-US')])]));
  for (const e of a.errors) lines.push(`   ${e}`);
  return lines.join('\n');
}

/** The one-minute load average, as printed in /proc/loadavg. */
function loadAverage(): string {
  try {
    return readFileSync('/proc/loadavg', 'utf8').split(' ')[0] ?? 'n/a';
  } catch {
    return 'n/a';
  }
}

function gitCommit(): string | undefined {
  try {
    const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: PROJECT_ROOT, encoding: 'utf8' }).trim();
    // The bundles are built from the working tree: say so when it differs from the commit.
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'src'], { cwd: PROJECT_ROOT, encoding: 'utf8' }).trim() !== '';
    return dirty ? `${commit} + uncommitted changes in src/` : commit;
  } catch {
    return undefined;
  }
}

function distributionVersion(): string {
  const r = spawnSync('docker-registry', ['--version'], { encoding: 'utf8' });
  return (r.stdout || r.stderr || '').trim();
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const wanted = (id: string): boolean => !args.only || args.only.has(id);
  const startedAt = performance.now();
  const log = (line: string): void => { process.stdout.write(`${line}\n`); };
  const cpu = cpus();
  const loadBefore = loadAverage();
  log(`Berth bench: ${gitCommit() ?? 'unknown commit'}; ${cpu.length} × ${cpu[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, Linux ${release()}, ${distributionVersion()}`);

  const list = benches(args.reps).filter((b) => wanted(b.id));
  let ceilings: Ceilings | undefined;
  // Up for the whole run when the push benches measure their ceilings round by round.
  const ceilingServer = wanted('ceilings') || list.some((b) => b.roundCeilingBytes !== undefined) ? await CeilingServer.start(MANIFEST_CONCURRENCY) : undefined;
  const rounds: Rounds = {};
  const results: Results = {};
  const targets: Target[] = [];
  try {
    if (wanted('ceilings') && ceilingServer) {
      log('measuring the machine ceilings…');
      ceilings = await measureCeilings(ceilingServer, { reps: args.reps, blobBytes: BLOB_BYTES, requests: MANIFEST_GETS, concurrency: MANIFEST_CONCURRENCY, warmupRequests: WARMUP_REQUESTS, seed: blobSeed('ceiling', 0) }, log);
    } else {
      ceilingServer?.useSha256(sha256Ceiling(args.reps));
    }
    // The S3 bench starts its own servers; the filesystem ones are for the rest.
    if (list.some((b) => !b.s3)) {
      const pushRows = list.some((b) => b.id === 'blob' || b.id === 'chunked');
      for (const name of TARGETS) {
        const t = await startTarget(name, args, false, pushRows);
        targets.push(t);
        const build = name === 'berth' && args.berthCli ? `, from ${args.berthCli}` : '';
        log(`${LABELS[name]}: ${t.unavailable ? `not available (${t.unavailable})` : `${t.url} (pid ${t.pid}${build})`}`);
      }
    }
    try {
      for (const bench of list) {
        log(`running: ${bench.title}… (${((performance.now() - startedAt) / 1000).toFixed(0)} s in)`);
        if (!bench.freshServers && !bench.s3) {
          await runBench(bench, targets, results, log, ceilingServer, rounds);
          continue;
        }
        const fresh: Target[] = [];
        try {
          for (const name of TARGETS) {
            const shared = targets.find((t) => t.name === name);
            const t = shared?.unavailable && !bench.s3 ? shared : await startTarget(name, args, bench.s3);
            if (bench.s3) log(`${LABELS[name]} on S3: ${t.unavailable ? `not available (${t.unavailable})` : `${t.url} (pid ${t.pid})`}`);
            fresh.push(t);
          }
          await runBench(bench, fresh, results, log, ceilingServer, rounds);
        } finally {
          await Promise.all(fresh.filter((t) => !targets.includes(t)).map((t) => t.stop()));
        }
      }
    } finally {
      await Promise.all(targets.map((t) => t.stop()));
    }
  } finally {
    await ceilingServer?.stop();
  }

  let activation: ActivationReport | undefined;
  if (wanted('activation')) {
    log(`measuring extension activation… (${((performance.now() - startedAt) / 1000).toFixed(0)} s in)`);
    activation = await measureActivation(ACTIVATION_RUNS, log);
  }

  const out: string[] = ['\n# Berth bench — ratio > 1.0 means Berth is better (throughput Berth/dist, latency and memory dist/Berth)'];
  for (const t of targets) if (t.unavailable) out.push(`${LABELS[t.name]}: not available (${t.unavailable})`);
  if (ceilings) out.push(renderCeilings(ceilings));
  for (const bench of list) out.push(renderBench(bench, results, ceilings, rounds));
  const memory = list.find((b) => b.id === 'memory');
  if (memory) out.push(...TARGETS.map((name) => `   ${LABELS[name]} memory: ${flatVerdict(results, name)}`));
  if (activation) out.push(renderActivation(activation));
  const elapsedS = (performance.now() - startedAt) / 1000;
  const loadAfter = loadAverage();
  out.push(`\nbench finished in ${elapsedS.toFixed(0)} s; load average ${loadBefore} before, ${loadAfter} after, on ${cpu.length} CPUs`);
  if (Math.max(Number(loadBefore), Number(loadAfter)) > cpu.length / 2) out.push('WARNING: other work was running on this machine; absolute figures are noisy, the interleaved ratios less so.');
  log(out.join('\n'));

  const dir = join(PROJECT_ROOT, 'bench-results');
  mkdirSync(dir, { recursive: true });
  const json = {
    date: new Date().toISOString(),
    commit: gitCommit(),
    machine: { cpus: cpu.length, cpuModel: cpu[0]?.model, memoryBytes: totalmem(), node: process.version, kernel: release() },
    distribution: distributionVersion(),
    berthCli: args.berthCli ?? 'dist/registry.js',
    servers: Object.fromEntries(targets.map((t) => [t.name, t.unavailable ? { available: false, reason: t.unavailable } : { available: true }])),
    ceilings,
    benches: list.map((b) => ({
      id: b.id,
      title: b.title,
      reps: b.reps,
      metrics: b.metrics.map((m) => {
        const r = results[`${b.id}.${m.key}`];
        const c = ceilingCells(m, r?.berth, ceilings, rounds[b.id]);
        const other = m.comparableWhenEqual ? results[`${b.id}.${m.comparableWhenEqual}`] : undefined;
        const comparable = !other || other.berth.median === other.distribution.median;
        return {
          key: m.key, label: m.label, unit: m.unit, better: m.better, berth: r?.berth, distribution: r?.distribution, ratio: comparable ? ratio(m, r?.berth.median, r?.distribution.median) : undefined,
          ceiling: c.ceiling, berthOfCeiling: c.ofCeiling, storeCeiling: c.store, berthOfStoreCeiling: c.ofStore,
        };
      }),
    })),
    activation,
    elapsedSeconds: elapsedS,
    loadAverage: { before: Number(loadBefore), after: Number(loadAfter) },
  };
  // Only a full run of the project's own build is "latest"; a subset or another build must not replace it.
  const file = args.only || args.berthCli ? 'partial.json' : 'latest.json';
  writeFileSync(join(dir, file), `${JSON.stringify(json, null, 2)}\n`);
  log(`results written to bench-results/${file}`);
}

/** Flat means the growth does not scale with the blob: the biggest blob grows RSS no more than the smallest plus a margin. */
function flatVerdict(results: Results, name: TargetName): string {
  const growth = (dir: string, size: number): number | undefined => results[`memory.${dir}${size / MiB}`]?.[name].median;
  const small = MEMORY_SIZES[0] as number;
  const big = MEMORY_SIZES.at(-1) as number;
  const parts: string[] = [];
  for (const dir of ['push', 'pull']) {
    const a = growth(dir, small);
    const b = growth(dir, big);
    if (a === undefined || b === undefined) return 'not measured';
    const flat = b <= a + 16 && b < (big / MiB) / 8;
    parts.push(`${dir} ${flat ? 'flat' : 'GROWS'} (+${formatNumber(a)} MiB at ${small / MiB} MiB, +${formatNumber(b)} MiB at ${big / MiB} MiB)`);
  }
  return parts.join('; ');
}

main().catch((e: unknown) => {
  process.stderr.write(`bench failed: ${e instanceof Error ? e.stack ?? e.message : String(e)}\n`);
  process.exit(1);
});
