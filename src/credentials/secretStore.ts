/**
 * The one adapter over VS Code's SecretStorage: per-registry credentials as JSON under a namespaced
 * key. SecretStorage cannot list its keys, so the list of servers is kept in SecretStorage too (never
 * in globalState or settings, which are plain files anyone can read and sync).
 */
import type { SecretStorage } from 'vscode';
import { serverHost } from './servers';

/** The part of VS Code's SecretStorage this store uses; tests pass an in-memory one. */
export type SecretStorageLike = Pick<SecretStorage, 'get' | 'store' | 'delete'>;

export interface StoredRegistryCredentials {
  /** The server as the person entered it (`https://ghcr.io`, `localhost:5000`). */
  server: string;
  username: string;
  /** Password or access token. */
  password?: string;
  identityToken?: string;
  email?: string;
}

export const DEFAULT_SECRET_NAMESPACE = 'berth';

export class RegistrySecretStore {
  /** Serialises read-modify-write of the index so two saves at once both land in it. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly storage: SecretStorageLike,
    private readonly namespace: string = DEFAULT_SECRET_NAMESPACE,
  ) {}

  private get indexKey(): string {
    return `${this.namespace}.registries`;
  }

  private keyFor(server: string): string {
    return `${this.namespace}.registry.${serverHost(server)}`;
  }

  async get(server: string): Promise<StoredRegistryCredentials | undefined> {
    const text = await this.storage.get(this.keyFor(server));
    if (!text) return undefined;
    try {
      const v = JSON.parse(text) as Partial<StoredRegistryCredentials>;
      if (typeof v.server !== 'string' || typeof v.username !== 'string') return undefined;
      return v as StoredRegistryCredentials;
    } catch {
      return undefined;
    }
  }

  /** Saves credentials for a registry, replacing any it had (Docker Hub's names all count as one). */
  set(credentials: StoredRegistryCredentials): Promise<void> {
    return this.serially(async () => {
      await this.storage.store(this.keyFor(credentials.server), JSON.stringify(credentials));
      const index = await this.readIndex();
      const host = serverHost(credentials.server);
      if (!index.includes(host)) await this.writeIndex([...index, host]);
    });
  }

  delete(server: string): Promise<void> {
    return this.serially(async () => {
      await this.storage.delete(this.keyFor(server));
      const host = serverHost(server);
      const index = await this.readIndex();
      if (index.includes(host)) await this.writeIndex(index.filter((h) => h !== host));
    });
  }

  /** The registries with saved credentials, as `host[:port]` (Docker Hub as `docker.io`), in the order they were added. */
  async list(): Promise<string[]> {
    await this.queue;
    return this.readIndex();
  }

  /** Every saved credential; entries whose secret went missing (another window deleted it) are left out. */
  async all(): Promise<StoredRegistryCredentials[]> {
    const out: StoredRegistryCredentials[] = [];
    for (const host of await this.list()) {
      const c = await this.get(host);
      if (c) out.push(c);
    }
    return out;
  }

  private async readIndex(): Promise<string[]> {
    const text = await this.storage.get(this.indexKey);
    if (!text) return [];
    try {
      const v: unknown = JSON.parse(text);
      return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
    } catch {
      return [];
    }
  }

  private writeIndex(hosts: string[]): Promise<void> {
    return Promise.resolve(this.storage.store(this.indexKey, JSON.stringify(hosts)));
  }

  private serially<T>(work: () => Promise<T>): Promise<T> {
    const next = this.queue.then(work, work);
    this.queue = next.catch(() => undefined);
    return next;
  }
}
