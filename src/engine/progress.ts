/**
 * The engine's JSON progress stream (push, pull) turned into typed events.
 *
 * The engine writes one JSON object per line, but chunks split objects anywhere, some proxies and
 * engine versions drop the newlines, and an error arrives as an ordinary line (`errorDetail`) in a
 * stream that otherwise ends normally. So: split objects by brace depth, not by newline; keep the
 * first error; and let the caller decide success only after the stream ended without one.
 */
import { engineErrorFrom, type EngineError } from './errors';

/** One object of the engine's stream, as far as this project reads it. */
export interface EngineStreamMessage {
  status?: string;
  id?: string;
  progress?: string;
  progressDetail?: { current?: number; total?: number };
  error?: string;
  errorDetail?: { code?: number; message?: string };
  aux?: { Tag?: string; Digest?: string; Size?: number; ID?: string };
  stream?: string;
}

/** Splits a byte stream into JSON objects, whatever the chunking and with or without newlines between them. */
export class JsonObjectSplitter {
  /** The engine's objects are a few hundred bytes; anything far bigger is a broken stream, not progress. */
  static readonly DEFAULT_MAX_OBJECT_CHARS = 1024 * 1024;
  private buffer = '';
  private depth = 0;
  private inString = false;
  private escaped = false;
  private start = -1;
  private scanned = 0;
  /** Text outside any object that is not whitespace (an engine or proxy writing plain text). */
  readonly stray: string[] = [];

  constructor(private readonly maxObjectChars = JsonObjectSplitter.DEFAULT_MAX_OBJECT_CHARS) {}

  push(chunk: string): unknown[] {
    this.buffer += chunk;
    const out: unknown[] = [];
    for (let i = this.scanned; i < this.buffer.length; i++) {
      const c = this.buffer[i];
      if (this.inString) {
        if (this.escaped) this.escaped = false;
        else if (c === '\\') this.escaped = true;
        else if (c === '"') this.inString = false;
        continue;
      }
      if (c === '"' && this.depth > 0) this.inString = true;
      else if (c === '{') {
        if (this.depth === 0) {
          this.noteStray(this.buffer.slice(0, i));
          this.start = i;
        }
        this.depth++;
      } else if (c === '}' && this.depth > 0) {
        this.depth--;
        if (this.depth === 0) {
          const text = this.buffer.slice(this.start, i + 1);
          try {
            out.push(JSON.parse(text));
          } catch {
            this.noteStray(text);
          }
          this.buffer = this.buffer.slice(i + 1);
          i = -1;
          this.start = -1;
        }
      }
    }
    this.scanned = this.buffer.length;
    if (this.depth > 0 && this.buffer.length - this.start > this.maxObjectChars) {
      // Never hold an unterminated object without bound: drop it and look for the next one.
      this.noteStray(`${this.buffer.slice(this.start, this.start + 200)}… (${this.buffer.length - this.start} characters without an end)`);
      this.buffer = '';
      this.scanned = 0;
      this.depth = 0;
      this.inString = false;
      this.escaped = false;
      this.start = -1;
      return out;
    }
    if (this.depth === 0) {
      this.noteStray(this.buffer);
      this.buffer = '';
      this.scanned = 0;
    }
    return out;
  }

  /** Anything left when the stream ends is a cut-off object. */
  end(): void {
    if (this.buffer.trim()) this.noteStray(this.buffer);
    this.buffer = '';
  }

  private noteStray(text: string): void {
    // A few samples say what went wrong; keeping all of a runaway stream would not.
    if (text.trim() && this.stray.length < 20) this.stray.push(text.trim().slice(0, 1000));
  }
}

export interface LayerProgress {
  /** The engine's short layer id (12 hex characters). */
  id: string;
  /** The engine's words for the layer's latest state: Preparing, Waiting, Pushing, Pushed, Downloading, Extracting, Pull complete… */
  status: string;
  /** Bytes moved so far in the current step, when the engine says. */
  current?: number;
  /** Bytes of the current step, when the engine says. */
  total?: number;
  /** Bytes of the layer on the wire (push or download), once known. */
  sizeBytes?: number;
  /** Transferred, or already there. */
  done: boolean;
}

export interface OverallProgress {
  layers: number;
  layersDone: number;
  /** Bytes moved over the wire so far, over the layers whose size is known. */
  currentBytes: number;
  /** Sum of the known layer sizes; grows as layers start. */
  totalBytes: number;
}

export type ProgressEvent =
  | { type: 'layer'; layer: LayerProgress; overall: OverallProgress }
  /** A line that is about the whole operation: "The push refers to repository […]", "Digest: sha256:…", "Status: …". */
  | { type: 'status'; message: string; overall: OverallProgress }
  /** The pushed manifest (push only). */
  | { type: 'digest'; tag?: string; digest: string; sizeBytes?: number; overall: OverallProgress };

/** Statuses after which a layer's bytes are all where they need to be. */
const DONE = /^(Pushed|Layer already exists|Mounted from|Already exists|Pull complete|Download complete)/;
/** Statuses whose current/total count wire bytes (not extraction). */
const TRANSFER = /^(Pushing|Downloading)/;

/**
 * Follows one push or pull: feed it the stream's objects, read events as they come, then `finish()`
 * tells whether it succeeded. The first error line wins; later lines never turn it into a success.
 */
export class ProgressTracker {
  private readonly layers = new Map<string, LayerProgress & { transferredBytes: number }>();
  private error: EngineError | undefined;
  digest: string | undefined;
  digestSizeBytes: number | undefined;
  /** The last "Status: …" line of a pull ("Downloaded newer image for …", "Image is up to date for …"). */
  finalStatus: string | undefined;

  constructor(private readonly action: string) {}

  /** Events for one object of the stream. */
  accept(raw: unknown): ProgressEvent[] {
    if (typeof raw !== 'object' || raw === null) return [];
    const m = raw as EngineStreamMessage;
    if (m.errorDetail || m.error) {
      const message = m.errorDetail?.message || m.error || 'unknown error';
      this.error ??= engineErrorFrom(this.action, message, m.errorDetail?.code);
      return [];
    }
    if (m.aux?.Digest) {
      // Docker writes the digest twice (a status line, then aux); report it once.
      const already = this.digest === m.aux.Digest;
      this.digest = m.aux.Digest;
      if (typeof m.aux.Size === 'number') this.digestSizeBytes = m.aux.Size;
      if (already) return [];
      return [{ type: 'digest', ...(m.aux.Tag ? { tag: m.aux.Tag } : {}), digest: m.aux.Digest, ...(typeof m.aux.Size === 'number' ? { sizeBytes: m.aux.Size } : {}), overall: this.overall() }];
    }
    const status = typeof m.status === 'string' ? m.status : '';
    if (!status) return [];
    if (!m.id || /^Pulling from /.test(status)) {
      const digest = /^Digest: (\S+)/.exec(status)?.[1];
      if (digest) this.digest = digest;
      if (/^Status: /.test(status)) this.finalStatus = status.slice('Status: '.length);
      const events: ProgressEvent[] = [{ type: 'status', message: m.id && !status.includes(m.id) ? `${m.id}: ${status}` : status, overall: this.overall() }];
      // Podman's compatible API reports the pushed manifest only in this line, with no aux object after it.
      const pushed = /^(\S+): digest: ([a-z0-9]+:[a-f0-9]+) size: (\d+)/.exec(status);
      if (pushed?.[2] && !this.digest) {
        this.digest = pushed[2];
        this.digestSizeBytes = Number(pushed[3]);
        events.push({ type: 'digest', ...(pushed[1] ? { tag: pushed[1] } : {}), digest: pushed[2], sizeBytes: Number(pushed[3]), overall: this.overall() });
      }
      return events;
    }
    const layer = this.layers.get(m.id) ?? { id: m.id, status, done: false, transferredBytes: 0 };
    layer.status = status;
    const current = m.progressDetail?.current;
    const total = m.progressDetail?.total;
    if (typeof current === 'number') layer.current = current;
    else delete layer.current;
    if (typeof total === 'number' && total > 0) layer.total = total;
    else delete layer.total;
    if (TRANSFER.test(status)) {
      if (layer.total !== undefined) layer.sizeBytes = layer.total;
      if (layer.current !== undefined) layer.transferredBytes = Math.max(layer.transferredBytes, layer.current);
    }
    if (DONE.test(status)) {
      layer.done = true;
      if (layer.sizeBytes !== undefined) layer.transferredBytes = layer.sizeBytes;
    }
    this.layers.set(m.id, layer);
    const { transferredBytes: _t, ...event } = layer;
    return [{ type: 'layer', layer: { ...event }, overall: this.overall() }];
  }

  overall(): OverallProgress {
    let layersDone = 0;
    let currentBytes = 0;
    let totalBytes = 0;
    for (const l of this.layers.values()) {
      if (l.done) layersDone++;
      if (l.sizeBytes !== undefined) {
        totalBytes += l.sizeBytes;
        currentBytes += Math.min(l.transferredBytes, l.sizeBytes);
      }
    }
    return { layers: this.layers.size, layersDone, currentBytes, totalBytes };
  }

  /** Every layer seen, in the order the engine first named them. */
  layerSummaries(): LayerProgress[] {
    return [...this.layers.values()].map(({ transferredBytes: _t, ...l }) => ({ ...l }));
  }

  /** The error the stream carried, if any: a stream with an error line failed, however it ended. */
  failure(): EngineError | undefined {
    return this.error;
  }
}
