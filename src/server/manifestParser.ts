/**
 * Where manifests are parsed. A small manifest is parsed on the event loop (a worker round trip
 * would cost more than the parse); a large one in a worker thread, so a 7 MiB manifest with 40,000
 * layers, or 8 MiB of empty objects that take V8 seconds to build, never holds up other clients.
 * The worker answers with the few facts the registry needs (`ParsedManifest`, `ReferrerFacts`), not
 * the document, so what crosses back is a cheap structured clone.
 */
import { availableParallelism } from 'node:os';
import type { Worker } from 'node:worker_threads';
import { RegistryError } from './errors';
import { manifestOwnType, manifestReferrer, parseManifest, type ParsedManifest, type ReferrerFacts } from './manifest';
import { startWorker, workerScript } from './workerThreads';

export type ManifestOwnType = ReturnType<typeof manifestOwnType>;

export interface ManifestParser {
  /**
   * A pushed manifest's facts, or the RegistryError saying what is wrong with it. The caller hands
   * over `bytes` (their memory may move to a parser thread) and uses the `bytes` returned instead.
   */
  pushed(bytes: Buffer, contentType: string | undefined, depthChecked?: boolean): Promise<{ parsed: ParsedManifest; bytes: Buffer }>;
  /** What a stored manifest says of its own type (`manifestOwnType`). */
  ownType(bytes: Buffer): Promise<ManifestOwnType>;
  /** A stored manifest's referrer facts, undefined when it names no subject or does not parse (`manifestReferrer`). */
  referrer(bytes: Buffer, mediaType: string): Promise<ReferrerFacts | undefined>;
  close(): Promise<void>;
}

/** The messages between the pool and its workers. */
export type ParseTask =
  | { id: number; op: 'pushed'; bytes: Uint8Array; contentType: string | undefined; depthChecked: boolean }
  | { id: number; op: 'ownType'; bytes: Uint8Array }
  | { id: number; op: 'referrer'; bytes: Uint8Array; mediaType: string };

/** What a task computes, on whichever thread runs it; throws the RegistryError a bad manifest earns. */
export function computeTask(task: ParseTask): unknown {
  switch (task.op) {
    case 'pushed': return parseManifest(task.bytes, task.contentType, task.depthChecked);
    case 'ownType': return manifestOwnType(task.bytes);
    case 'referrer': return manifestReferrer(task.bytes, task.mediaType);
  }
}

export type ParseAnswer =
  | { id: number; ok: true; value: unknown; bytes: Uint8Array }
  | { id: number; ok: false; registryError?: { code: RegistryError['code']; message: string; detail?: unknown; status: number }; message: string };

/**
 * Manifests up to this size are parsed on the event loop: even 16 KiB of a worst case (empty
 * objects) parses in a few ms, and real manifests are a few KiB.
 */
export const INLINE_PARSE_MAX_BYTES = 16 * 1024;

/** A worker with nothing to do for this long exits, giving back its heap. */
const WORKER_IDLE_MS = 30_000;

export interface ManifestParserPoolOptions {
  /** The largest manifest the registry accepts: the workers' heap is sized to parse one of the worst kind. */
  maxManifestBytes: number;
  /** Workers at most (default: the CPUs but one, 1 to 2). */
  maxWorkers?: number;
  inlineMaxBytes?: number;
  /** The worker's script; by default the bundled `manifestWorker.js` beside this file. */
  workerFile?: string;
}

type Answered = Extract<ParseAnswer, { ok: true }>;

interface Pending {
  task: ParseTask;
  transfer: ArrayBuffer[];
  resolve: (answer: Answered) => void;
  reject: (error: unknown) => void;
}

interface Slot {
  worker: Worker;
  busy?: Pending;
  idleTimer?: NodeJS.Timeout;
}

export class ManifestParserPool implements ManifestParser {
  private readonly slots: Slot[] = [];
  private readonly queue: Pending[] = [];
  private readonly maxWorkers: number;
  private readonly inlineMaxBytes: number;
  private readonly workerFile: string | undefined;
  private readonly heapMb: number;
  private nextId = 1;
  private closed = false;

  constructor(opts: ManifestParserPoolOptions) {
    this.maxWorkers = Math.max(1, opts.maxWorkers ?? Math.min(2, availableParallelism() - 1));
    this.inlineMaxBytes = opts.inlineMaxBytes ?? INLINE_PARSE_MAX_BYTES;
    this.workerFile = opts.workerFile;
    // JSON.parse of the worst input found (`[{},{},…]`) takes about 23 bytes of heap per byte. The
    // heap is sized well past that, never to be reached: a worker hitting its limit can abort the
    // whole process rather than end alone (nodejs/node#47224), so the bound is maxManifestBytes.
    this.heapMb = Math.max(256, Math.ceil((opts.maxManifestBytes * 64) / (1024 * 1024)));
  }

  /** Workers running right now. */
  get workers(): number {
    return this.slots.length;
  }

  async pushed(bytes: Buffer, contentType: string | undefined, depthChecked = false): Promise<{ parsed: ParsedManifest; bytes: Buffer }> {
    // A buffer that owns its whole memory moves to the worker and back; a view into a shared one is copied.
    const { buffer } = bytes;
    const movable = buffer instanceof ArrayBuffer && bytes.byteOffset === 0 && bytes.byteLength === buffer.byteLength;
    const answer = await this.parse({ id: this.nextId++, op: 'pushed', bytes, contentType, depthChecked }, movable ? [buffer] : []);
    return { parsed: answer.value as ParsedManifest, bytes: Buffer.from(answer.bytes.buffer, answer.bytes.byteOffset, answer.bytes.byteLength) };
  }

  async ownType(bytes: Buffer): Promise<ManifestOwnType> {
    // Copied to a worker: the caller keeps these bytes (the manifest cache serves them).
    return (await this.parse({ id: this.nextId++, op: 'ownType', bytes })).value as ManifestOwnType;
  }

  async referrer(bytes: Buffer, mediaType: string): Promise<ReferrerFacts | undefined> {
    return (await this.parse({ id: this.nextId++, op: 'referrer', bytes, mediaType })).value as ReferrerFacts | undefined;
  }

  /** A small manifest on the calling thread, a large one in a worker. */
  private async parse(task: ParseTask, transfer: ArrayBuffer[] = []): Promise<Answered> {
    if (task.bytes.length <= this.inlineMaxBytes) return { id: task.id, ok: true, value: computeTask(task), bytes: task.bytes };
    return this.run(task, transfer);
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const p of this.queue.splice(0)) p.reject(new Error('the registry is shutting down'));
    await Promise.all(this.slots.splice(0).map(async (slot) => {
      clearTimeout(slot.idleTimer);
      await slot.worker.terminate();
    }));
  }

  private run(task: ParseTask, transfer: ArrayBuffer[] = []): Promise<Answered> {
    if (this.closed) return Promise.reject(new Error('the registry is shutting down'));
    return new Promise((resolve, reject) => {
      this.queue.push({ task, transfer, resolve, reject });
      this.dispatch();
    });
  }

  private dispatch(): void {
    while (this.queue.length > 0) {
      const slot = this.slots.find((s) => !s.busy) ?? (this.slots.length < this.maxWorkers ? this.spawn() : undefined);
      if (!slot) return;
      const pending = this.queue.shift() as Pending;
      clearTimeout(slot.idleTimer);
      slot.busy = pending;
      slot.worker.postMessage(pending.task, pending.transfer);
    }
  }

  private spawn(): Slot {
    const worker = startWorker(this.workerFile ?? workerScript(__dirname, 'manifestWorker'), { resourceLimits: { maxOldGenerationSizeMb: this.heapMb } });
    const slot: Slot = { worker };
    this.slots.push(slot);
    worker.on('message', (answer: ParseAnswer) => {
      const pending = slot.busy;
      if (!pending || pending.task.id !== answer.id) return;
      slot.busy = undefined;
      if (answer.ok) pending.resolve(answer);
      else if (answer.registryError) {
        const e = answer.registryError;
        pending.reject(new RegistryError(e.code, e.message, e.detail, e.status));
      } else pending.reject(new Error(`manifest parser: ${answer.message}`));
      this.idle(slot);
      this.dispatch();
    });
    const gone = (error: Error | undefined): void => {
      const index = this.slots.indexOf(slot);
      if (index < 0) return;
      this.slots.splice(index, 1);
      clearTimeout(slot.idleTimer);
      const pending = slot.busy;
      slot.busy = undefined;
      if (pending) this.settleLost(pending, error);
      // The next task gets a fresh worker.
      if (!this.closed) this.dispatch();
    };
    worker.on('error', (e) => gone(e));
    worker.on('exit', (code) => gone(code === 0 ? undefined : new Error(`the manifest parser thread exited with code ${code}`)));
    return slot;
  }

  /** A worker that died on a task: the registry's fault, not the manifest's (a 500 with the spec's error body). */
  private settleLost(pending: Pending, error: Error | undefined): void {
    pending.reject(new Error(`the manifest parser thread stopped while parsing a ${pending.task.bytes.length}-byte manifest: ${error?.message ?? 'it exited'}`));
  }

  private idle(slot: Slot): void {
    clearTimeout(slot.idleTimer);
    slot.idleTimer = setTimeout(() => {
      if (slot.busy) return;
      const index = this.slots.indexOf(slot);
      if (index >= 0) this.slots.splice(index, 1);
      void slot.worker.terminate();
    }, WORKER_IDLE_MS);
    slot.idleTimer.unref();
  }
}

/** Parses everything on the calling thread: for tools and tests that handle small manifests. */
export const inlineManifestParser: ManifestParser = new ManifestParserPool({ maxManifestBytes: 0, inlineMaxBytes: Number.POSITIVE_INFINITY });
