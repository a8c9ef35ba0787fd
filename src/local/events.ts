/**
 * The extension listens to its own registry's webhook events (distribution's envelope) on a
 * loopback port, so the tree refreshes the repository that changed and can say "pushed a:1".
 * Requests must carry a per-session bearer token, so another local program cannot post fakes.
 */
// node:http and node:crypto load when the listener starts, not at activation.
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { isImageManifestMediaType, isIndexMediaType } from '../oci/mediaTypes';
import { Disposable, Emitter, toDisposable } from '../app/lifecycle';

export interface RegistryChange {
  action: 'push' | 'delete';
  repository: string;
  tag?: string;
  digest: string;
  /** When the registry made the change (the event's timestamp), if it said. */
  atMs?: number;
}

const MAX_ENVELOPE_BYTES = 4 * 1024 * 1024;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * The changes worth showing from an envelope: manifest pushes and deletes. Blob pushes and
 * pulls are left out (a push sends one event per layer before its manifest).
 */
export function changesOf(envelope: unknown): RegistryChange[] {
  if (!isRecord(envelope) || !Array.isArray(envelope.events)) return [];
  const out: RegistryChange[] = [];
  for (const e of envelope.events) {
    if (!isRecord(e) || !isRecord(e.target)) continue;
    const { action } = e;
    const t = e.target;
    if (typeof t.repository !== 'string' || typeof t.digest !== 'string') continue;
    const tag = typeof t.tag === 'string' && t.tag ? t.tag : undefined;
    const atMs = typeof e.timestamp === 'string' ? Date.parse(e.timestamp) : NaN;
    const change = { repository: t.repository, digest: t.digest, ...(tag ? { tag } : {}), ...(Number.isFinite(atMs) ? { atMs } : {}) };
    if (action === 'push') {
      const mediaType = typeof t.mediaType === 'string' ? t.mediaType : undefined;
      if (!isImageManifestMediaType(mediaType) && !isIndexMediaType(mediaType)) continue;
      out.push({ action, ...change });
    } else if (action === 'delete') {
      out.push({ action, ...change });
    }
  }
  return out;
}

/** "pushed team-a/api:1.4", "deleted team-a/api@sha256:…" */
export function describeChange(c: RegistryChange): string {
  const verb = c.action === 'push' ? 'pushed' : 'deleted';
  return `${verb} ${c.repository}${c.tag ? `:${c.tag}` : `@${c.digest}`}`;
}

/** Tagged pushes and all deletes are news; a push by digest alone is a platform of an index on its way. */
export function isNews(c: RegistryChange): boolean {
  return c.action === 'delete' || c.tag !== undefined;
}

export class RegistryEventListener extends Disposable {
  private readonly changes = this.register(new Emitter<RegistryChange[]>());
  readonly onDidChange = this.changes.event;
  private tokenValue: string | undefined;
  private server: Server | undefined;
  private listening: Promise<string> | undefined;

  /** The bearer token the registry must send; set once the listener has started. */
  get token(): string {
    if (this.tokenValue === undefined) throw new Error('the event listener has not started');
    return this.tokenValue;
  }

  /** Starts listening (once) and returns the URL the registry should post to. */
  start(): Promise<string> {
    this.listening ??= this.listen();
    return this.listening;
  }

  private async listen(): Promise<string> {
    const [{ createServer }, { randomBytes }] = await Promise.all([import('node:http'), import('node:crypto')]);
    this.tokenValue = randomBytes(24).toString('hex');
    return new Promise<string>((resolve, reject) => {
      const server = createServer((req, res) => this.handle(req, res));
      this.server = server;
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        const addr = server.address();
        if (typeof addr !== 'object' || !addr) return reject(new Error('the event listener has no address'));
        resolve(`http://127.0.0.1:${addr.port}/events`);
      });
      this.register(toDisposable(() => server.close()));
    });
  }

  get url(): Promise<string> | undefined {
    return this.listening;
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const reply = (status: number): void => {
      res.writeHead(status, { 'Content-Length': '0' }).end();
    };
    if (req.method !== 'POST' || req.url !== '/events') return reply(404);
    if (req.headers.authorization !== `Bearer ${this.token}`) return reply(401);
    const chunks: Buffer[] = [];
    let bytes = 0;
    req.on('data', (c: Buffer) => {
      bytes += c.length;
      if (bytes > MAX_ENVELOPE_BYTES) {
        reply(413);
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => {
      if (res.headersSent) return;
      let envelope: unknown;
      try {
        envelope = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        return reply(400);
      }
      reply(200);
      const changes = changesOf(envelope);
      if (changes.length) this.changes.fire(changes);
    });
  }

  override dispose(): void {
    this.server?.closeAllConnections();
    super.dispose();
  }
}

/** The local registry's S3 settings (`berth.localRegistry.s3.*`); no keys: the registry takes them from the AWS environment variables it inherits. */
export interface LocalS3Settings {
  endpoint?: string;
  region?: string;
  bucket: string;
  rootDirectory?: string;
  forcePathStyle?: boolean;
}

/**
 * The registry's config file: the webhook that points back at this extension, where the images live
 * when that is S3, and whether a local folder's blobs are fsynced (`berth.localRegistry.fsync`; S3
 * makes each write durable itself). JSON is YAML, so no YAML library is needed at activation.
 */
export function registryConfig(events: { url: string; token: string } | undefined, s3?: LocalS3Settings, fsync = true): string {
  const notifications = events ? {
    notifications: {
      endpoints: [
        {
          name: 'berth-extension',
          url: events.url,
          headers: { Authorization: [`Bearer ${events.token}`] },
          timeout: '2s',
          threshold: 3,
          backoff: '2s',
          ignore: { actions: ['pull'] },
        },
      ],
    },
  } : {};
  const storage = s3 ? {
    storage: {
      s3: {
        bucket: s3.bucket,
        ...(s3.endpoint ? { endpoint: s3.endpoint } : {}),
        ...(s3.region ? { region: s3.region } : {}),
        ...(s3.rootDirectory ? { rootDirectory: s3.rootDirectory } : {}),
        ...(s3.forcePathStyle !== undefined ? { forcePathStyle: s3.forcePathStyle } : {}),
      },
    },
  } : fsync ? {} : { storage: { filesystem: { fsync: false } } };
  return JSON.stringify({ ...notifications, ...storage }, null, 2) + '\n';
}
