/**
 * CommandDeps for unit tests: VS Code's own interfaces are fakes (window prompts, Memento,
 * SecretStorage); the registry and the engine are deliberately absent, so a test that
 * reaches them fails loudly (those paths are covered by the integration and e2e tiers).
 */
import type { CommandDeps } from '../../../src/commands/command';
import { MementoRegistryStore } from '../../../src/app/registryStore';
import type { LocalRegistryControl, Log, TreeControl } from '../../../src/app/ports';
import { Emitter } from '../../../src/app/lifecycle';
import type { LocalStatus } from '../../../src/app/ports';
import type { RegistryEntry } from '../../../src/app/registryEntry';
import { FakeMemento, FakeSecretStorage } from './storage';
import { FakeUi, type Answer } from './ui';

export class RecordingTree implements TreeControl {
  readonly refreshed: unknown[] = [];
  readonly filters = new Map<string, string>();
  imagesRefreshed = 0;
  refresh(node?: unknown): void {
    this.refreshed.push(node);
  }
  async loadMore(node: unknown): Promise<void> {
    this.refreshed.push(node);
  }
  setFilter(id: string, filter: string | undefined): void {
    if (filter) this.filters.set(id, filter);
    else this.filters.delete(id);
  }
  filterOf(id: string): string | undefined {
    return this.filters.get(id);
  }
  readonly tagFilters = new Map<string, string>();
  readonly emptied: string[] = [];
  setTagFilter(id: string, repository: string, filter: string | undefined): void {
    if (filter) this.tagFilters.set(`${id}/${repository}`, filter);
    else this.tagFilters.delete(`${id}/${repository}`);
  }
  tagFilterOf(id: string, repository: string): string | undefined {
    return this.tagFilters.get(`${id}/${repository}`);
  }
  repositoryEmptied(id: string, repository: string): void {
    this.emptied.push(`${id}/${repository}`);
  }
  refreshLocalImages(): void {
    this.imagesRefreshed++;
  }
}

export class MemoryLog implements Log {
  readonly lines: string[] = [];
  info(m: string): void {
    this.lines.push(`info ${m}`);
  }
  warn(m: string): void {
    this.lines.push(`warn ${m}`);
  }
  error(m: string): void {
    this.lines.push(`error ${m}`);
  }
  show(): void {}
}

export const LOCAL_ENTRY: RegistryEntry = { id: 'local', label: 'Local registry', server: '127.0.0.1:5000', preset: 'local', insecureHttp: true };

export interface TestDeps extends CommandDeps {
  ui: FakeUi;
  log: MemoryLog;
  tree: RecordingTree;
  store: MementoRegistryStore;
  memento: FakeMemento;
  secrets: FakeSecretStorage;
  docsPut: Map<string, string>;
}

export function testDeps(answers: Answer[] = [], localStatus: LocalStatus = { state: 'running', port: 5000 }): TestDeps {
  const memento = new FakeMemento();
  const secrets = new FakeSecretStorage();
  const docsPut = new Map<string, string>();
  const changed = new Emitter<LocalStatus>();
  const local: LocalRegistryControl = {
    status: () => localStatus,
    entry: () => LOCAL_ENTRY,
    start: async () => undefined,
    stop: async () => undefined,
    restart: async () => undefined,
    storagePath: () => '/tmp/berth-registry',
    showLogs: () => undefined,
    gc: async () => '',
    onDidChangeState: (l) => changed.event(l),
  };
  return {
    ui: new FakeUi(answers),
    log: new MemoryLog(),
    tree: new RecordingTree(),
    store: new MementoRegistryStore(memento, secrets),
    memento,
    secrets,
    docsPut,
    registry: () => Promise.reject(new Error('unit tests do not reach a registry')),
    engine: () => Promise.reject(new Error('unit tests do not reach an engine')),
    local,
    settings: { tagOrder: () => 'semver', pageSize: () => 100, notifyOnPush: () => false, setLocalPort: async () => 'User settings' },
    docs: {
      put: (path, content) => {
        docsPut.set(path, content);
        return `berth:${path}`;
      },
    },
    env: {},
  };
}
