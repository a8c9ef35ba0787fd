/**
 * The Registries tree's data on a real registry reached through a proxy on 127.0.0.1 that counts
 * every request, as the local registry's entry: what a tree action costs the registry, counted.
 */
import { strict as assert } from 'node:assert';
import { ClientRegistryApi } from '../../../src/app/clientRegistryApi';
import type { LocalRegistryControl, Settings } from '../../../src/app/ports';
import type { RegistryEntry } from '../../../src/app/registryEntry';
import { MementoRegistryStore } from '../../../src/app/registryStore';
import type { RepositoryNode } from '../../../src/views/nodes';
import { RegistryTreeData } from '../../../src/views/registryTreeData';
import { startCountingProxy, type CountingProxy } from '../../support/countingProxy';
import { FakeMemento, FakeSecretStorage } from '../../unit/fakes/storage';

export interface CountedTree {
  proxy: CountingProxy;
  tree: RegistryTreeData;
  /** The repository's node under the registry, as the tree hands it out. */
  repository(name: string): Promise<RepositoryNode>;
  stop(): Promise<void>;
}

export async function countedTree(registryUrl: string, settings: Pick<Settings, 'tagOrder' | 'pageSize'>): Promise<CountedTree> {
  const proxy = await startCountingProxy(registryUrl);
  const store = new MementoRegistryStore(new FakeMemento(), new FakeSecretStorage());
  const localEntry = (): RegistryEntry => ({ id: 'local', label: 'Local registry', server: proxy.host, preset: 'local', insecureHttp: true });
  const local: LocalRegistryControl = {
    status: () => ({ state: 'running', port: Number(proxy.host.split(':')[1]) }), entry: localEntry, start: async () => undefined, stop: async () => undefined,
    restart: async () => undefined, storagePath: () => '', showLogs: () => undefined, gc: async () => '', onDidChangeState: () => ({ dispose: () => undefined }),
  };
  const api = new ClientRegistryApi({ store, localEntry });
  const tree = new RegistryTreeData({
    store, local, registry: async () => api,
    settings: { ...settings, notifyOnPush: () => false, setLocalPort: async () => 'User settings' },
  });
  return {
    proxy,
    tree,
    async repository(name) {
      const [registry] = await tree.getChildren();
      assert.ok(registry?.kind === 'registry');
      return { kind: 'repository', parent: registry, name };
    },
    async stop() {
      tree.dispose();
      await proxy.stop();
    },
  };
}
