import * as assert from 'node:assert/strict';
import { RegistrySecretStore, type SecretStorageLike } from '../../../src/credentials/secretStore';

/** VS Code's SecretStorage, in memory. */
class MemorySecretStorage implements SecretStorageLike {
  readonly data = new Map<string, string>();
  async get(key: string): Promise<string | undefined> {
    return this.data.get(key);
  }
  async store(key: string, value: string): Promise<void> {
    await Promise.resolve();
    this.data.set(key, value);
  }
  async delete(key: string): Promise<void> {
    this.data.delete(key);
  }
}

describe('credentials: RegistrySecretStore over SecretStorage', () => {
  it('saves, reads, lists and deletes per registry, keeping the list inside SecretStorage', async () => {
    const storage = new MemorySecretStorage();
    const store = new RegistrySecretStore(storage);
    await store.set({ server: 'https://ghcr.io', username: 'octo', password: 's3cret' });
    await store.set({ server: 'localhost:5000', username: 'me', password: 'pw' });
    assert.deepEqual(await store.get('ghcr.io'), { server: 'https://ghcr.io', username: 'octo', password: 's3cret' });
    assert.deepEqual(await store.list(), ['ghcr.io', 'localhost:5000']);
    assert.deepEqual([...storage.data.keys()].sort(), ['berth.registries', 'berth.registry.ghcr.io', 'berth.registry.localhost:5000']);
    await store.delete('GHCR.io');
    assert.equal(await store.get('ghcr.io'), undefined);
    assert.deepEqual(await store.list(), ['localhost:5000']);
    assert.deepEqual((await store.all()).map((c) => c.username), ['me']);
  });

  it('treats every Docker Hub name as one entry and replaces it on a second save', async () => {
    const store = new RegistrySecretStore(new MemorySecretStorage());
    await store.set({ server: 'docker.io', username: 'a', password: '1' });
    await store.set({ server: 'https://index.docker.io/v1/', username: 'b', password: '2' });
    assert.deepEqual(await store.list(), ['docker.io']);
    assert.equal((await store.get('registry-1.docker.io'))?.username, 'b');
  });

  it('keeps every server when saves run at the same time', async () => {
    const store = new RegistrySecretStore(new MemorySecretStorage());
    const hosts = Array.from({ length: 20 }, (_, i) => `r${i}.example.com`);
    await Promise.all(hosts.map((h) => store.set({ server: h, username: 'u', password: 'p' })));
    assert.deepEqual((await store.list()).sort(), [...hosts].sort());
  });

  it('uses its own namespace and survives a corrupt index or entry', async () => {
    const storage = new MemorySecretStorage();
    storage.data.set('other.registries', 'not json');
    storage.data.set('other.registry.bad.example', '{');
    const store = new RegistrySecretStore(storage, 'other');
    assert.deepEqual(await store.list(), []);
    assert.equal(await store.get('bad.example'), undefined);
    await store.set({ server: 'good.example', username: 'u', identityToken: 't' });
    assert.deepEqual(await store.list(), ['good.example']);
    assert.equal((await store.get('good.example'))?.identityToken, 't');
  });
});
