/**
 * Just enough of the `vscode` module for activate() to run outside VS Code, so the bench can time it.
 * Anything not listed is a harmless no-op: a Proxy that can be read, called, constructed, iterated
 * and disposed, and that is not a thenable (so awaiting it never hangs). Values whose shape the
 * extension relies on (settings defaults, enums, Uris, dialogs) are real.
 */
import { join } from 'node:path';

export interface FakeUri {
  scheme: string;
  authority: string;
  path: string;
  query: string;
  fragment: string;
  fsPath: string;
  with(change: { path?: string }): FakeUri;
  toString(): string;
  toJSON(): { scheme: string; path: string };
}

export function fakeUri(fsPath: string, scheme = 'file'): FakeUri {
  return {
    scheme,
    authority: '',
    path: fsPath,
    query: '',
    fragment: '',
    fsPath,
    with: (change) => fakeUri(change.path ?? fsPath, scheme),
    toString: () => `${scheme}://${fsPath}`,
    toJSON: () => ({ scheme, path: fsPath }),
  };
}

const dismissed = async (): Promise<undefined> => undefined;

/** Real values by property path; everything else is a no-op node. */
const OVERRIDES: Record<string, unknown> = {
  version: '1.90.0',
  'env.appName': 'Visual Studio Code',
  'env.language': 'en',
  'env.uiKind': 1,
  'env.remoteName': undefined,
  'workspace.workspaceFolders': undefined,
  'workspace.isTrusted': true,
  'workspace.getConfiguration().get': (_key: string, defaultValue?: unknown) => defaultValue,
  'workspace.getConfiguration().has': () => false,
  'workspace.getConfiguration().inspect': () => undefined,
  'workspace.getConfiguration().update': dismissed,
  'window.showInformationMessage': dismissed,
  'window.showWarningMessage': dismissed,
  'window.showErrorMessage': dismissed,
  'window.showQuickPick': dismissed,
  'window.showInputBox': dismissed,
  'window.showOpenDialog': dismissed,
  'commands.executeCommand': dismissed,
  'commands.getCommands': async () => [],
  'l10n.t': (message: string) => message,
  'Uri.file': (p: string) => fakeUri(p),
  'Uri.parse': (s: string) => fakeUri(s.replace(/^[a-z]+:\/\//, '')),
  'Uri.joinPath': (base: FakeUri, ...segments: string[]) => fakeUri(join(base.fsPath, ...segments), base.scheme),
};

export interface VscodeApiShape {
  /** Every value the module exports (namespaces, classes, enums, constants, functions). */
  names: string[];
  enums: Record<string, Record<string, number | string>>;
}

/**
 * The top-level names and enum values of the API, read from @types/vscode: a bundle's
 * `import * as vscode` copies the module's own keys, so the stub must list them all.
 */
export function readVscodeApi(declarations: string): VscodeApiShape {
  const names = [...declarations.matchAll(/^\texport (?:namespace|class|enum|const|let|function) (\w+)/gm)].map((m) => m[1] as string);
  const enums: VscodeApiShape['enums'] = {};
  for (const m of declarations.matchAll(/^\texport enum (\w+) \{([\s\S]*?)^\t\}/gm)) {
    const members: Record<string, number | string> = {};
    for (const member of (m[2] ?? '').matchAll(/^\t\t(\w+) = (-?\d+|'[^']*')/gm)) {
      const raw = member[2] as string;
      members[member[1] as string] = raw.startsWith("'") ? raw.slice(1, -1) : Number(raw);
    }
    enums[m[1] as string] = members;
  }
  return { names: [...new Set(names)], enums };
}

/** Counts calls by the path they were made through, e.g. `commands.registerCommand`. */
export type CallRecorder = (path: string) => void;

function node(path: string, record: CallRecorder, children: Map<string, unknown>): unknown {
  const assigned = new Map<PropertyKey, unknown>();
  const target = function stub(): void { /* the Proxy's traps answer */ };
  return new Proxy(target, {
    get(_t, prop) {
      if (assigned.has(prop)) return assigned.get(prop);
      if (prop === 'then') return undefined;
      if (prop === Symbol.toPrimitive) return (hint: string) => (hint === 'number' ? 0 : '');
      if (prop === Symbol.iterator) return function* empty(): Generator<never> { /* nothing */ };
      if (prop === 'dispose') return () => undefined;
      if (prop === 'toJSON') return () => ({});
      if (typeof prop === 'symbol') return undefined;
      const childPath = path === '' ? prop : `${path}.${prop}`;
      if (childPath in OVERRIDES) return OVERRIDES[childPath];
      if (!children.has(childPath)) children.set(childPath, node(childPath, record, children));
      return children.get(childPath);
    },
    set(_t, prop, value) {
      assigned.set(prop, value);
      return true;
    },
    has: () => true,
    apply() {
      record(path);
      return node(`${path}()`, record, children);
    },
    construct() {
      record(`new ${path}`);
      return node(`new ${path}`, record, new Map()) as object;
    },
  });
}

/** The module: every exported name of `api` as an own property, enums with their real values. */
export function createVscodeStub(record: CallRecorder, api: VscodeApiShape = { names: [], enums: {} }): unknown {
  const fallback = node('', record, new Map()) as Record<string, unknown>;
  const module: Record<string, unknown> = {};
  for (const name of api.names) module[name] = api.enums[name] ?? (name in OVERRIDES ? OVERRIDES[name] : fallback[name]);
  // Names the declarations did not list still answer, as no-ops.
  return new Proxy(module, { get: (t, prop) => (prop in t ? t[prop as string] : fallback[prop as string]) });
}

function memento(): Record<string, unknown> {
  const values = new Map<string, unknown>();
  return {
    get: (key: string, defaultValue?: unknown) => (values.has(key) ? values.get(key) : defaultValue),
    update: async (key: string, value: unknown) => { values.set(key, value); },
    keys: () => [...values.keys()],
    setKeysForSync: () => undefined,
  };
}

/** An ExtensionContext whose storage folders are real directories under `storageDir`. */
export function createExtensionContext(extensionPath: string, storageDir: string, record: CallRecorder): { subscriptions: { dispose(): unknown }[] } & Record<string, unknown> {
  const noop = node('context', record, new Map());
  return {
    subscriptions: [],
    extensionPath,
    extensionUri: fakeUri(extensionPath),
    asAbsolutePath: (p: string) => join(extensionPath, p),
    globalStorageUri: fakeUri(join(storageDir, 'global')),
    globalStoragePath: join(storageDir, 'global'),
    storageUri: fakeUri(join(storageDir, 'workspace')),
    storagePath: join(storageDir, 'workspace'),
    logUri: fakeUri(join(storageDir, 'log')),
    logPath: join(storageDir, 'log'),
    globalState: memento(),
    workspaceState: memento(),
    secrets: { get: dismissed, store: dismissed, delete: dismissed, onDidChange: () => ({ dispose: () => undefined }) },
    extensionMode: 1,
    environmentVariableCollection: noop,
    extension: { id: 'berth.berth', extensionPath, extensionUri: fakeUri(extensionPath), isActive: true, packageJSON: {} },
  };
}
