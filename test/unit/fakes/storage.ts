/** In-memory VS Code Memento and SecretStorage. */
import type { MementoLike } from '../../../src/app/registryStore';
import type { SecretStorageLike } from '../../../src/credentials/secretStore';

export class FakeMemento implements MementoLike {
  readonly values = new Map<string, unknown>();
  get<T>(key: string): T | undefined {
    const v = this.values.get(key);
    // A Memento hands out copies (it round-trips JSON), so callers cannot mutate what is stored.
    return v === undefined ? undefined : (JSON.parse(JSON.stringify(v)) as T);
  }
  async update(key: string, value: unknown): Promise<void> {
    if (value === undefined) this.values.delete(key);
    else this.values.set(key, JSON.parse(JSON.stringify(value)));
  }
}

export class FakeSecretStorage implements SecretStorageLike {
  readonly values = new Map<string, string>();
  async get(key: string): Promise<string | undefined> {
    return this.values.get(key);
  }
  async store(key: string, value: string): Promise<void> {
    this.values.set(key, value);
  }
  async delete(key: string): Promise<void> {
    this.values.delete(key);
  }
}
