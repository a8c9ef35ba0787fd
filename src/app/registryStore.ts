/**
 * Connected registries: the entries (no secret) in a Memento, the credentials through the
 * credentials layer's SecretStorage adapter. Repository names added by hand are kept per registry.
 */
import { RegistrySecretStore, type SecretStorageLike } from '../credentials/secretStore';
import { Emitter, type DisposableLike } from './lifecycle';
import type { RegistryEntry } from './registryEntry';
import type { RegistryCredentials, RegistryStore } from './ports';

/** The part of VS Code's Memento this store uses. */
export interface MementoLike {
  get<T>(key: string): T | undefined;
  update(key: string, value: unknown): Thenable<void>;
}

const ENTRIES_KEY = 'berth.registries';
const REPOS_KEY = (id: string): string => `berth.repositories.${id}`;

export class MementoRegistryStore implements RegistryStore, DisposableLike {
  private readonly changed = new Emitter<void>();
  readonly onDidChange = (listener: () => void): DisposableLike => this.changed.event(listener);
  private readonly secrets: RegistrySecretStore;

  constructor(
    private readonly memento: MementoLike,
    secretStorage: SecretStorageLike,
  ) {
    this.secrets = new RegistrySecretStore(secretStorage);
  }

  list(): RegistryEntry[] {
    return [...(this.memento.get<RegistryEntry[]>(ENTRIES_KEY) ?? [])];
  }

  get(id: string): RegistryEntry | undefined {
    return this.list().find((e) => e.id === id);
  }

  async save(entry: RegistryEntry, credentials?: RegistryCredentials): Promise<void> {
    if (credentials && (credentials.password || credentials.identityToken)) {
      await this.secrets.set({
        server: entry.server,
        username: credentials.username ?? '',
        ...(credentials.password ? { password: credentials.password } : {}),
        ...(credentials.identityToken ? { identityToken: credentials.identityToken } : {}),
        ...(credentials.email ? { email: credentials.email } : {}),
      });
    } else if (credentials) {
      // Saved as anonymous: nothing secret may linger from an earlier login.
      await this.secrets.delete(entry.server);
    }
    const others = this.list().filter((e) => e.id !== entry.id);
    const existing = this.list().findIndex((e) => e.id === entry.id);
    const next = existing >= 0 ? this.list().map((e) => (e.id === entry.id ? entry : e)) : [...others, entry];
    await this.memento.update(ENTRIES_KEY, next);
    this.changed.fire();
  }

  async remove(id: string): Promise<void> {
    const entry = this.get(id);
    if (!entry) return;
    await this.secrets.delete(entry.server);
    await this.memento.update(ENTRIES_KEY, this.list().filter((e) => e.id !== id));
    await this.memento.update(REPOS_KEY(id), undefined);
    this.changed.fire();
  }

  async credentials(id: string): Promise<RegistryCredentials | undefined> {
    const entry = this.get(id);
    if (!entry) return undefined;
    const c = await this.secrets.get(entry.server);
    if (!c) return entry.username ? { username: entry.username } : undefined;
    return {
      username: c.username,
      ...(c.password ? { password: c.password } : {}),
      ...(c.identityToken ? { identityToken: c.identityToken } : {}),
      ...(c.email ? { email: c.email } : {}),
    };
  }

  rememberedRepositories(id: string): string[] {
    return [...(this.memento.get<string[]>(REPOS_KEY(id)) ?? [])];
  }

  async rememberRepository(id: string, name: string): Promise<void> {
    const names = this.rememberedRepositories(id);
    if (names.includes(name)) return;
    await this.memento.update(REPOS_KEY(id), [...names, name].sort());
    this.changed.fire();
  }

  dispose(): void {
    this.changed.dispose();
  }
}
