/**
 * activate(): builds the services, registers the views and the commands, nothing else. The
 * registry client and the engine load on first use, so activation stays light.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as vscode from 'vscode';
import type { Registry } from './client';
import type { CommandDeps } from './commands/command';
import { MementoRegistryStore } from './app/registryStore';
import { COMMAND_IDS, registerCommands } from './commands/commandIds';
import type { EngineApi, LocalRegistryControl, Log, RegistryApi, Settings, TreeControl } from './app/ports';
import { vscodeUi } from './commands/vscodeUi';
import { describeChange, isNews, RegistryEventListener, registryConfig, type LocalS3Settings } from './local/events';
import { LocalRegistry } from './local/localRegistry';
import { IMAGE_SCHEME } from './image/imageUri';
import { Debouncer } from './views/debounce';
import { ImageFileSystem } from './views/imageFileSystem';
import { BerthDocuments, DOC_SCHEME } from './views/documents';
import { LocalImagesProvider } from './views/localImagesProvider';
import { LOCAL_REGISTRY_ID, type RegistryEntry } from './app/registryEntry';
import { RegistriesProvider } from './views/registriesProvider';
import { WorkspaceFolders } from './views/workspaceFolders';
import { LocalStatusBar } from './views/statusBar';
import type { TagOrder } from './views/tagOrder';

function config(): vscode.WorkspaceConfiguration {
  return vscode.workspace.getConfiguration('berth');
}

function once<T>(load: () => Promise<T>): () => Promise<T> {
  let p: Promise<T> | undefined;
  return () => {
    p ??= load().catch((e: unknown) => {
      p = undefined;
      throw e;
    });
    return p;
  };
}

export function activate(context: vscode.ExtensionContext): void {
  const subs = context.subscriptions;
  // Commands and the registry client are separate bundles (see esbuild.mjs), each parsed on first use:
  // expanding a tree row loads the client only.
  const commandsBundle = once(async () => (await import(pathToFileURL(join(__dirname, 'commands.js')).href)) as typeof import('./commands/lazyEntry.js'));

  // The `berth-image:` file system comes first: a window that reopens on an image's folder activates us
  // for it (onFileSystem:berth-image) and asks for it straight away. Its backend, which needs the
  // services below, loads on the first call (tar reading, layer cache).
  const images: { registryFor?: (id: string) => Promise<Registry | undefined> } = {};
  const imageFiles = new ImageFileSystem(once(async () => new (await commandsBundle()).ImageFileBackend(async (id) => {
    if (!images.registryFor) throw new Error('Berth did not finish starting: see the Berth output for why.');
    return images.registryFor(id);
  })));
  subs.push(imageFiles, vscode.workspace.registerFileSystemProvider(IMAGE_SCHEME, imageFiles, { isReadonly: true, isCaseSensitive: true }));

  const log = vscode.window.createOutputChannel('Berth', { log: true });
  const registryLog = vscode.window.createOutputChannel('Berth Local Registry', { log: true });
  subs.push(log, registryLog);
  const logger: Log = { info: (m) => log.info(m), warn: (m) => log.warn(m), error: (m) => log.error(m), show: () => log.show(true) };

  const settings: Settings = {
    tagOrder: () => config().get<TagOrder>('tags.sortOrder', 'semver'),
    pageSize: () => config().get<number>('pageSize', 100),
    notifyOnPush: () => config().get<boolean>('notifyOnPush', false),
    setLocalPort: async (port) => {
      // Write where the current value comes from, or a workspace value would keep overriding it.
      const where = config().inspect<number>('localRegistry.port');
      const [target, name] = where?.workspaceFolderValue !== undefined ? [vscode.ConfigurationTarget.WorkspaceFolder, 'Workspace Folder settings']
        : where?.workspaceValue !== undefined ? [vscode.ConfigurationTarget.Workspace, 'Workspace settings'] : [vscode.ConfigurationTarget.Global, 'User settings'];
      await config().update('localRegistry.port', port, target);
      return name;
    },
  };
  const storagePath = (): string => config().get<string>('localRegistry.storagePath', '') || join(context.globalStorageUri.fsPath, 'registry');

  // The registry posts its push/delete events back to us, and may keep its images in S3; the config file tells it both.
  const events = new RegistryEventListener();
  subs.push(events);
  const localS3 = (): LocalS3Settings | undefined => {
    const bucket = config().get<string>('localRegistry.s3.bucket', '').trim();
    if (!bucket) return undefined;
    const text = (key: string): string | undefined => config().get<string>(`localRegistry.s3.${key}`, '').trim() || undefined;
    const endpoint = text('endpoint');
    const region = text('region');
    const rootDirectory = text('rootDirectory');
    return {
      bucket, ...(endpoint ? { endpoint } : {}), ...(region ? { region } : {}), ...(rootDirectory ? { rootDirectory } : {}),
      forcePathStyle: config().get<boolean>('localRegistry.s3.forcePathStyle', !!endpoint),
    };
  };
  const registryConfigPath = async (): Promise<string | undefined> => {
    const withEvents = config().get<boolean>('localRegistry.events', true);
    const s3 = localS3();
    const fsync = config().get<boolean>('localRegistry.fsync', true);
    if (!withEvents && !s3 && fsync) return undefined;
    const eventsTarget = withEvents ? { url: await events.start(), token: events.token } : undefined;
    const path = join(context.globalStorageUri.fsPath, 'registry-config.yml');
    await mkdir(context.globalStorageUri.fsPath, { recursive: true });
    // It holds the listener's token: readable by this user only.
    await writeFile(path, registryConfig(eventsTarget, s3, fsync), { mode: 0o600 });
    return path;
  };

  const registry = new LocalRegistry({
    configPath: registryConfigPath,
    execPath: process.execPath,
    cliPath: join(context.extensionPath, 'dist', 'registry.js'),
    isElectron: !!process.versions.electron,
    env: process.env,
    port: () => config().get<number>('localRegistry.port', 5000),
    storagePath,
    log: { info: (m) => registryLog.info(m), warn: (m) => registryLog.warn(m), error: (m) => registryLog.error(m) },
  });
  subs.push(registry);
  const localEntry = (): RegistryEntry => ({
    id: LOCAL_REGISTRY_ID,
    label: 'Local registry',
    server: `127.0.0.1:${registry.status().port ?? config().get<number>('localRegistry.port', 5000)}`,
    preset: 'local',
    insecureHttp: true,
  });
  const local: LocalRegistryControl = {
    status: () => registry.status(),
    entry: localEntry,
    start: () => registry.start(),
    stop: () => registry.stop(),
    restart: () => registry.restart(),
    storagePath,
    showLogs: () => registryLog.show(true),
    gc: (dryRun) => registry.gc(dryRun),
    onDidChangeState: (l) => registry.onDidChangeState(l),
  };
  const setStateKey = (): void => void vscode.commands.executeCommand('setContext', 'berth.local.state', registry.status().state);
  setStateKey();
  subs.push(registry.onDidChangeState(setStateKey));

  const store = new MementoRegistryStore(context.globalState, context.secrets);
  subs.push(store);
  const registryApi = once<RegistryApi>(async () => {
    const { ClientRegistryApi } = (await import(pathToFileURL(join(__dirname, 'client.js')).href)) as typeof import('./app/clientRegistryApi.js');
    return new ClientRegistryApi({ store, localEntry });
  });
  const engine = once<EngineApi>(async () => {
    // A separate bundle (see esbuild.mjs): dockerode is parsed only when an engine command runs.
    const { Engine } = (await import(pathToFileURL(join(__dirname, 'engine.js')).href)) as typeof import('./engine/index.js');
    return new Engine();
  });

  images.registryFor = async (id) => {
    // A reload (adding a first workspace folder) stops the local registry with the extension host:
    // an image of it being opened starts it again.
    if (id === LOCAL_REGISTRY_ID && registry.status().state !== 'running') await registry.start();
    const entry = id === LOCAL_REGISTRY_ID ? localEntry() : store.get(id);
    return entry ? (await registryApi()).registryFor(entry) : undefined;
  };

  const registries = new RegistriesProvider({ store, local, settings, registry: registryApi });
  const data = registries.data;
  const localImages = new LocalImagesProvider(engine, logger);
  const docs = new BerthDocuments();
  subs.push(
    registries,
    localImages,
    docs,
    vscode.window.createTreeView('berth.registries', { treeDataProvider: registries, showCollapseAll: true }),
    vscode.window.createTreeView('berth.localImages', { treeDataProvider: localImages }),
    vscode.workspace.registerTextDocumentContentProvider(DOC_SCHEME, docs),
    new LocalStatusBar(() => registry.status(), (l) => registry.onDidChangeState(l)),
    vscode.workspace.onDidChangeConfiguration(async (e) => {
      if (e.affectsConfiguration('berth.tags.sortOrder') || e.affectsConfiguration('berth.pageSize')) data.refresh();
      const restartNeeded = ['port', 'storagePath', 'events'].some((k) => e.affectsConfiguration(`berth.localRegistry.${k}`));
      if (restartNeeded && registry.status().state === 'running') {
        const restart = await vscode.window.showInformationMessage('The local registry uses the new settings after a restart.', 'Restart Now');
        if (restart) await vscode.commands.executeCommand('berth.local.restart');
      }
    }),
  );

  const notify = new Debouncer<string>(500);
  subs.push(notify);
  subs.push(
    events.onDidChange((changes) => {
      for (const c of changes) {
        data.refreshRepository(LOCAL_REGISTRY_ID, c.repository, c.atMs);
        if (settings.notifyOnPush() && isNews(c)) notify.run(describeChange(c), () => void vscode.window.showInformationMessage(`Local registry: ${describeChange(c)}`));
      }
    }),
  );

  const tree: TreeControl = {
    refresh: (node) => data.refresh(node),
    loadMore: (node) => data.loadMore(node as Parameters<typeof data.loadMore>[0]),
    setFilter: (id, filter, search) => data.setFilter(id, filter, search),
    filterOf: (id) => data.filterOf(id),
    setTagFilter: (id, repository, filter) => data.setTagFilter(id, repository, filter),
    tagFilterOf: (id, repository) => data.tagFilterOf(id, repository),
    repositoryEmptied: (id, repository) => data.repositoryEmptied(id, repository),
    refreshLocalImages: () => localImages.refresh(),
  };
  const workspaceFolders = new WorkspaceFolders({
    state: context.globalState, storageUri: context.globalStorageUri, log: logger,
    registryRunning: () => registry.status().state === 'running',
    // Through the start command when it fails, which says why and offers what fixes it.
    startRegistry: () => registry.start().catch(() => void vscode.commands.executeCommand('berth.local.start', { automatic: true })),
  });
  const deps: CommandDeps = { ui: vscodeUi((uri, name) => workspaceFolders.add(uri, name)), log: logger, store, registry: registryApi, engine, local, tree, settings, docs, env: process.env };
  subs.push(...registerCommands(COMMAND_IDS, deps, commandsBundle, (id, handler) => vscode.commands.registerCommand(id, handler)));

  // A registry that stops on its own is news: the tree row alone is easy to miss.
  subs.push(registry.onDidChangeState(async (s) => {
    if (s.state !== 'failed' || !s.crashed) return;
    const choice = await vscode.window.showErrorMessage(s.message ?? 'The local registry stopped unexpectedly.', 'Restart', 'Show Logs');
    if (choice === 'Restart') await vscode.commands.executeCommand('berth.local.start');
    if (choice === 'Show Logs') registryLog.show(true);
  }));

  // In the background: removes the workspace files older Browse Files left behind (logs, never throws).
  workspaceFolders.prune().catch((e: unknown) => logger.warn(`Could not remove old Browse Files workspaces: ${e instanceof Error ? e.message : String(e)}`));
  subs.push(workspaceFolders.keepOpenWorkspaceFresh());
  // Finishes a Browse Files that reloaded this window (brings the explorer forward, restarts the registry).
  workspaceFolders.resume().catch((e: unknown) => logger.error(`Could not finish opening an image's files after the reload: ${e instanceof Error ? e.message : String(e)}`));

  if (config().get<boolean>('localRegistry.autoStart', false)) {
    // A failed auto-start goes through the start command, which says why and offers what fixes it.
    registry.start().catch(() => void vscode.commands.executeCommand('berth.local.start', { automatic: true }));
  }
}

export function deactivate(): void {
  // Everything, the registry process included, is disposed through context.subscriptions.
}
