import { strict as assert } from 'node:assert';
import { MementoRegistryStore } from '../../../src/app/registryStore';
import { FakeMemento, FakeSecretStorage } from '../fakes/storage';

const entry = { id: 'ghcr.io', label: 'GHCR', server: 'ghcr.io', preset: 'ghcr' as const, username: 'octocat' };

describe('registry store', () => {
  it('keeps the entry in the Memento and the password only in SecretStorage', async () => {
    const memento = new FakeMemento();
    const secrets = new FakeSecretStorage();
    const store = new MementoRegistryStore(memento, secrets);
    await store.save(entry, { username: 'octocat', password: 'ghp_secret' });
    assert.ok(!JSON.stringify([...memento.values]).includes('ghp_secret'), 'no secret in the Memento');
    assert.ok([...secrets.values.values()].some((v) => v.includes('ghp_secret')));
    assert.deepEqual(await store.credentials('ghcr.io'), { username: 'octocat', password: 'ghp_secret' });
    assert.deepEqual(store.list(), [entry]);
  });

  it('replaces an entry in place and fires a change', async () => {
    const store = new MementoRegistryStore(new FakeMemento(), new FakeSecretStorage());
    let changes = 0;
    store.onDidChange(() => changes++);
    await store.save(entry);
    await store.save({ ...entry, id: 'quay.io', server: 'quay.io' });
    await store.save({ ...entry, label: 'renamed' });
    assert.deepEqual(store.list().map((e) => e.label), ['renamed', 'GHCR']);
    assert.equal(changes, 3);
  });

  it('saving as anonymous drops an earlier secret', async () => {
    const secrets = new FakeSecretStorage();
    const store = new MementoRegistryStore(new FakeMemento(), secrets);
    await store.save(entry, { username: 'octocat', password: 'p' });
    await store.save({ ...entry, username: undefined }, {});
    assert.equal(await store.credentials('ghcr.io'), undefined);
  });

  it('remove forgets the entry, its secret and its remembered repositories', async () => {
    const memento = new FakeMemento();
    const secrets = new FakeSecretStorage();
    const store = new MementoRegistryStore(memento, secrets);
    await store.save(entry, { username: 'octocat', password: 'p' });
    await store.rememberRepository('ghcr.io', 'me/b');
    await store.rememberRepository('ghcr.io', 'me/a');
    await store.rememberRepository('ghcr.io', 'me/a');
    assert.deepEqual(store.rememberedRepositories('ghcr.io'), ['me/a', 'me/b']);
    await store.remove('ghcr.io');
    assert.deepEqual(store.list(), []);
    assert.equal(await store.credentials('ghcr.io'), undefined);
    assert.deepEqual(store.rememberedRepositories('ghcr.io'), []);
    assert.ok(![...secrets.values.values()].some((v) => v.includes('"password"')));
  });
});
