/**
 * Webhooks in distribution's format: each endpoint gets events in envelopes
 * (`application/vnd.docker.distribution.events.v2+json`), sent from its own bounded in-memory queue
 * in the background, serially, retried until delivered, pausing `backoff` after `threshold`
 * failures in a row. Queuing is synchronous and cannot throw, so a request is never slowed or
 * failed by a slow or broken listener; when a queue is full the oldest event is dropped and counted.
 */
import { randomUUID } from 'node:crypto';
import type { RegistryEvent } from '../hooks';
import { ConfigValueError, optBool, optDurationMs, optPositiveInt, optString, optStringList, readSection, type ConfigObject } from '../limits/configValues';

export const EVENTS_MEDIA_TYPE = 'application/vnd.docker.distribution.events.v2+json';

export interface EndpointConfig {
  name: string;
  url: string;
  /** Sent with every request; values as lists, like distribution's `headers: {Authorization: [Bearer x]}`. */
  headers: Record<string, string[]>;
  timeoutMs: number;
  threshold: number;
  backoffMs: number;
  ignoredMediaTypes: string[];
  ignoredActions: string[];
  maxQueuedEvents: number;
}

export interface NotificationsConfig {
  endpoints: EndpointConfig[];
}

const ENDPOINT_KEYS = ['name', 'disabled', 'url', 'headers', 'timeout', 'threshold', 'backoff', 'ignoredmediatypes', 'ignore', 'queuesize'];

export function readNotificationsConfig(section: unknown, path = 'notifications'): NotificationsConfig {
  const s = readSection(section, path, ['endpoints', 'events']);
  const raw = s['endpoints'] ?? [];
  if (!Array.isArray(raw)) throw new ConfigValueError(`${path}.endpoints`, 'expected a list of endpoints');
  const endpoints: EndpointConfig[] = [];
  raw.forEach((item, i) => {
    const p = `${path}.endpoints[${i}]`;
    const e = readSection(item, p, ENDPOINT_KEYS);
    if (optBool(e, 'disabled', p)) return;
    const name = optString(e, 'name', p);
    if (!name) throw new ConfigValueError(`${p}.name`, 'is required');
    const rawUrl = optString(e, 'url', p);
    if (!rawUrl || !/^https?:\/\/[^/]/.test(rawUrl)) throw new ConfigValueError(`${p}.url`, 'is required and must be an http(s) URL');
    const headers = readHeaders(e['headers'], `${p}.headers`);
    const url = moveCredentialsToHeader(rawUrl, headers, `${p}.url`);
    const ignore = readSection(e['ignore'], `${p}.ignore`, ['mediatypes', 'actions']);
    endpoints.push({
      name, url, headers,
      timeoutMs: optDurationMs(e, 'timeout', p) ?? 1000,
      threshold: optPositiveInt(e, 'threshold', p) ?? 10,
      backoffMs: optDurationMs(e, 'backoff', p) ?? 1000,
      ignoredMediaTypes: [...(optStringList(e, 'ignoredmediatypes', p) ?? []), ...(optStringList(ignore, 'mediatypes', `${p}.ignore`) ?? [])],
      ignoredActions: optStringList(ignore, 'actions', `${p}.ignore`) ?? [],
      maxQueuedEvents: optPositiveInt(e, 'queuesize', p) ?? 10_000,
    });
  });
  const names = endpoints.map((x) => x.name);
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup) throw new ConfigValueError(`${path}.endpoints`, `two endpoints are named "${dup}"`);
  return { endpoints };
}

function readHeaders(value: unknown, path: string): Record<string, string[]> {
  const obj: ConfigObject = readSection(value, path, Object.keys((value as object | undefined) ?? {}));
  const out: Record<string, string[]> = {};
  for (const [k, v] of Object.entries(obj)) {
    if (typeof v === 'string') out[k] = [v];
    else if (Array.isArray(v) && v.every((x) => typeof x === 'string')) out[k] = v as string[];
    else throw new ConfigValueError(`${path}.${k}`, 'expected a string or a list of strings');
  }
  return out;
}

/** distribution's event JSON, field for field (see notifications.md, "Events"). */
export interface WireEvent {
  id: string;
  timestamp: string;
  action: string;
  target: {
    mediaType?: string;
    digest: string;
    size?: number;
    length?: number;
    repository: string;
    fromRepository?: string;
    url?: string;
    tag?: string;
  };
  request: { id: string; addr: string; host: string; method: string; useragent: string };
  actor: { name?: string };
  source: { addr: string; instanceID: string };
}

export function toWireEvent(e: RegistryEvent, source: WireEvent['source']): WireEvent {
  const t = e.target;
  // Deletes carry only what identifies the deleted object, as distribution sends them.
  const target: WireEvent['target'] = e.action === 'delete'
    ? { digest: t.digest, repository: e.repository, ...(t.tag ? { tag: t.tag } : {}) }
    : {
      mediaType: t.mediaType, digest: t.digest, size: t.size, length: t.size, repository: e.repository,
      ...(e.fromRepository ? { fromRepository: e.fromRepository } : {}), url: t.url, ...(t.tag ? { tag: t.tag } : {}),
    };
  return { id: e.id, timestamp: e.timestamp, action: e.action, target, request: e.request, actor: e.actor.name ? { name: e.actor.name } : {}, source };
}

export interface EndpointStats {
  pending: number;
  events: number;
  successes: number;
  failures: number;
  errors: number;
  dropped: number;
  statuses: Record<string, number>;
}

/**
 * `https://user:pass@host/…` is how people write a webhook with Basic auth, but fetch refuses URLs
 * with credentials; the user info becomes an `Authorization: Basic` header instead.
 */
function moveCredentialsToHeader(raw: string, headers: Record<string, string[]>, path: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigValueError(path, 'is not a valid URL');
  }
  if (url.username === '' && url.password === '') return raw;
  if (Object.keys(headers).some((h) => h.toLowerCase() === 'authorization')) {
    throw new ConfigValueError(path, 'holds user:password and the endpoint also sets an Authorization header; keep only one');
  }
  const credentials = `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`;
  headers['Authorization'] = [`Basic ${Buffer.from(credentials).toString('base64')}`];
  url.username = '';
  url.password = '';
  return url.toString();
}

/** A URL fit for a log line: user info and every query value (tokens often ride there) replaced by `***`. */
export function redactUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return '(invalid URL)';
  }
  if (url.username !== '' || url.password !== '') {
    url.username = '***';
    url.password = '';
  }
  const keys = [...new Set(url.searchParams.keys())];
  for (const k of keys) url.searchParams.set(k, '***');
  return url.toString();
}

export type PostFn = (url: string, init: { headers: Record<string, string>; body: string; timeoutMs: number }) => Promise<number>;

export const fetchPost: PostFn = async (url, init) => {
  const res = await fetch(url, { method: 'POST', headers: init.headers, body: init.body, signal: AbortSignal.timeout(init.timeoutMs), redirect: 'follow' });
  await res.arrayBuffer().catch(() => undefined);
  return res.status;
};

const MAX_EVENTS_PER_ENVELOPE = 100;

/** One endpoint's queue and its single sender loop. */
export class EndpointQueue {
  readonly stats: EndpointStats = { pending: 0, events: 0, successes: 0, failures: 0, errors: 0, dropped: 0, statuses: {} };
  private queue: WireEvent[] = [];
  private running = false;
  private closed = false;
  private idleWaiters: Array<() => void> = [];

  constructor(
    readonly config: EndpointConfig,
    private readonly post: PostFn = fetchPost,
    private readonly sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms).unref()),
    private readonly log: (level: 'warn' | 'info', message: string) => void = () => undefined,
  ) {}

  enqueue(event: WireEvent): void {
    if (this.closed) return;
    if (this.config.ignoredActions.includes(event.action)) return;
    if (event.target.mediaType && this.config.ignoredMediaTypes.includes(event.target.mediaType)) return;
    this.stats.events++;
    this.queue.push(event);
    if (this.queue.length > this.config.maxQueuedEvents) {
      this.queue.shift();
      this.stats.dropped++;
    }
    this.stats.pending = this.queue.length;
    if (!this.running) void this.run();
  }

  /** Resolves when the queue is empty (or after `timeoutMs`). */
  async drain(timeoutMs: number): Promise<void> {
    if (this.queue.length === 0 && !this.running) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([new Promise<void>((r) => this.idleWaiters.push(r)), new Promise<void>((r) => (timer = setTimeout(r, timeoutMs)))]);
    clearTimeout(timer);
  }

  close(): void {
    this.closed = true;
  }

  private async run(): Promise<void> {
    this.running = true;
    let consecutiveFailures = 0;
    try {
      while (!this.closed && this.queue.length > 0) {
        const batch = this.queue.slice(0, MAX_EVENTS_PER_ENVELOPE);
        const ok = await this.send(batch);
        if (ok) {
          consecutiveFailures = 0;
          // Drop exactly what was sent; events dropped for overflow meanwhile shifted the queue.
          const sent = new Set(batch.map((e) => e.id));
          this.queue = this.queue.filter((e) => !sent.has(e.id));
          this.stats.successes += batch.length;
        } else {
          consecutiveFailures++;
          if (consecutiveFailures >= this.config.threshold) {
            if (consecutiveFailures === this.config.threshold) this.log('warn', `notifications: endpoint ${this.config.name} failed ${consecutiveFailures} times in a row; backing off ${this.config.backoffMs} ms between tries`);
            await this.sleep(this.config.backoffMs);
          } else {
            await this.sleep(Math.min(this.config.backoffMs, 100 * consecutiveFailures));
          }
        }
        this.stats.pending = this.queue.length;
      }
    } finally {
      this.running = false;
      this.stats.pending = this.queue.length;
      if (this.queue.length === 0) for (const w of this.idleWaiters.splice(0)) w();
    }
  }

  private async send(batch: WireEvent[]): Promise<boolean> {
    const headers: Record<string, string> = { 'Content-Type': EVENTS_MEDIA_TYPE };
    for (const [k, v] of Object.entries(this.config.headers)) headers[k] = v.join(', ');
    try {
      const status = await this.post(this.config.url, { headers, body: JSON.stringify({ events: batch }), timeoutMs: this.config.timeoutMs });
      this.stats.statuses[String(status)] = (this.stats.statuses[String(status)] ?? 0) + 1;
      if (status >= 200 && status < 400) return true;
      this.stats.failures++;
      return false;
    } catch {
      this.stats.errors++;
      return false;
    }
  }
}

/** The event sink the server calls: converts once, then fans out to every endpoint's queue. */
export class Notifier {
  readonly instanceID = randomUUID();
  readonly queues: EndpointQueue[];

  constructor(config: NotificationsConfig, private readonly sourceAddr: (event: RegistryEvent) => string, post?: PostFn, log?: (level: 'warn' | 'info', message: string) => void) {
    this.queues = config.endpoints.map((e) => new EndpointQueue(e, post, undefined, log));
  }

  onEvent(event: RegistryEvent): void {
    const wire = toWireEvent(event, { addr: this.sourceAddr(event), instanceID: this.instanceID });
    for (const q of this.queues) q.enqueue(wire);
  }

  async close(timeoutMs = 2000): Promise<void> {
    await Promise.all(this.queues.map((q) => q.drain(timeoutMs)));
    for (const q of this.queues) q.close();
  }
}
