/**
 * Opening an image's files as a workspace folder, across the reload it may cause.
 *
 * In an empty or single-folder window, VS Code can only add a folder by turning the window into a
 * workspace, which restarts the extension host (and, in a browser, reloads the page). Left to
 * `updateWorkspaceFolders`, that switch happens in place and races a reload of the window's old
 * address, which can win: the window comes back as it was, the folder gone. So in those windows
 * the folder is written into a workspace file and the window opens that file, one navigation with
 * nothing to race. The extension host that made the switch dies with it (and the local registry it
 * ran), so what the next one needs to finish the job is handed over in global state.
 */
import { isAbsolute, relative, sep } from 'node:path';

export interface FolderRef {
  /** The folder's URI as the extension host sees it (`file:` for a local folder). */
  uri: string;
  name: string;
  /** A local (`file:`) folder's path on this machine. */
  path?: string;
}

/** What the window has open now: its folders and, in a multi-root workspace, the workspace file. */
export interface WindowFolders {
  folders: readonly FolderRef[];
  workspaceFile: string | undefined;
}

export type FolderPlan =
  /** Already open: show it. */
  | { kind: 'reveal' }
  /** A workspace with folders: appending one leaves the first folder alone, so nothing restarts. */
  | { kind: 'append' }
  /** Appending makes a workspace's first folder, which restarts the extension host: hand over first. */
  | { kind: 'append-with-restart'; workspaceFile: string }
  /** Empty or single-folder window: write these folders into a workspace file and open it. */
  | { kind: 'open-workspace'; folders: FolderRef[] };

export function planAddFolder(current: WindowFolders, folder: FolderRef): FolderPlan {
  if (current.folders.some((f) => f.uri === folder.uri)) return { kind: 'reveal' };
  if (current.workspaceFile !== undefined) return current.folders.length > 0 ? { kind: 'append' } : { kind: 'append-with-restart', workspaceFile: current.workspaceFile };
  return { kind: 'open-workspace', folders: [...current.folders, folder] };
}

/**
 * The text of a `.code-workspace` file. A `file:` folder is written as a path, which VS Code resolves
 * against the workspace file's own location: in a remote window that keeps it on the remote machine,
 * where a `file:` URI would point at the browser's. Other schemes keep their URI.
 */
export function workspaceFileText(folders: readonly FolderRef[]): string {
  const entries = folders.map((f) => (f.path !== undefined ? { path: f.path, name: f.name } : { uri: f.uri, name: f.name }));
  return `${JSON.stringify({ folders: entries }, null, 2)}\n`;
}

/**
 * Where the workspace file goes, under the workspaces folder: a folder unique per open (so a workspace
 * another window has open is never rewritten under it) holding a file named after the folder's label,
 * which the window's title and the explorer show.
 */
export function workspaceFilePath(label: string, nowMs: number): [folder: string, file: string] {
  const base = label.replace(/:\s+/g, ' ').replace(/[^A-Za-z0-9._ -]+/g, '-').replace(/-+/g, '-').replace(/^[-. ]+|[-. ]+$/g, '').slice(0, 80) || 'image';
  return [nowMs.toString(36), `${base}.code-workspace`];
}

/** The folder under the extension's global storage that holds the workspace folders. */
export const WORKSPACES_FOLDER = 'workspaces';
/** A workspace folder unused (unmodified, not opened) for longer than this is removed on activation. */
export const WORKSPACE_RETENTION_MS = 7 * 24 * 60 * 60_000;
/** How often a window renews the workspace it has open, well within the retention (laptops sleep). */
export const WORKSPACE_RENEW_INTERVAL_MS = 6 * 60 * 60_000;
/** The names `workspaceFilePath` gives, and nothing else: what is not Berth's is left alone. */
const WORKSPACE_FOLDER_NAME = /^[0-9a-z]{1,12}$/;
const WORKSPACE_FILE_NAME = /^[A-Za-z0-9._ -]{1,80}\.code-workspace$/;

/** One entry of the workspaces folder, as `lstat` sees it: a symlink is neither a folder nor a file. */
export interface WorkspaceEntry {
  name: string;
  isDirectory: boolean;
  mtimeMs: number;
  /** What a folder holds; empty for anything else. */
  contents: Array<{ name: string; isFile: boolean; mtimeMs: number }>;
}

export interface PruneInput {
  /** The workspaces folder's path. */
  dir: string;
  entries: readonly WorkspaceEntry[];
  nowMs: number;
  retentionMs: number;
  /** Paths of workspace files in use: the one the window has open, the one a pending handoff names. */
  inUse: ReadonlyArray<string | undefined>;
}

/** The name of the entry directly under `dir` that holds `file`, when `file` is inside `dir`. */
export function workspaceEntryOf(dir: string, file: string | undefined): string | undefined {
  if (file === undefined) return undefined;
  const rel = relative(dir, file);
  if (rel === '' || rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel)) return undefined;
  return rel.split(sep)[0];
}

function isWorkspaceFolder(e: WorkspaceEntry): boolean {
  // Empty is what an open that failed between making the folder and writing the file leaves.
  return e.isDirectory && WORKSPACE_FOLDER_NAME.test(e.name) && e.contents.length <= 1
    && e.contents.every((c) => c.isFile && WORKSPACE_FILE_NAME.test(c.name));
}

/**
 * The workspace folders to remove: Berth's own (named as `workspaceFilePath` names them, holding at
 * most its one workspace file), last modified longer than the retention ago, and not in use. The
 * names compare without case, so a path spelled in another case (Windows, macOS) still protects
 * its folder.
 */
export function workspacesToPrune(input: PruneInput): WorkspaceEntry[] {
  const inUse = new Set(input.inUse.map((f) => workspaceEntryOf(input.dir, f)?.toLowerCase()));
  return input.entries.filter((e) => isWorkspaceFolder(e) && !inUse.has(e.name.toLowerCase())
    && input.nowMs - Math.max(e.mtimeMs, ...e.contents.map((c) => c.mtimeMs)) > input.retentionMs);
}

/** What the extension host after the switch needs to finish it. */
export interface FolderHandoff {
  /** The workspace file the window is meant to come back with. */
  workspaceFile: string;
  /** The folders it is meant to come back with, the one being opened last. */
  folders: FolderRef[];
  /** The local registry ran before the switch stopped it: start it again. */
  registryWasRunning: boolean;
  atMs: number;
}

/** The part of VS Code's Memento used here. */
export interface StateStore {
  get<T>(key: string): T | undefined;
  update(key: string, value: unknown): Thenable<void>;
}

export const HANDOFF_KEY = 'berth.folderHandoff';
/** A handoff older than this was never picked up (the window was closed instead): drop it. */
export const HANDOFF_MAX_AGE_MS = 10 * 60_000;

/** The workspace file a handoff waits for, read without taking it (another window may be about to). */
export function pendingWorkspaceFile(state: StateStore): string | undefined {
  const stored = state.get<unknown>(HANDOFF_KEY);
  const file = typeof stored === 'object' && stored !== null ? (stored as { workspaceFile?: unknown }).workspaceFile : undefined;
  return typeof file === 'string' ? file : undefined;
}

export async function rememberHandoff(state: StateStore, handoff: FolderHandoff): Promise<void> {
  await state.update(HANDOFF_KEY, handoff);
}

function isHandoff(v: unknown): v is FolderHandoff {
  const h = v as Partial<FolderHandoff> | undefined;
  return typeof h === 'object' && h !== null && typeof h.workspaceFile === 'string' && typeof h.atMs === 'number'
    && typeof h.registryWasRunning === 'boolean' && Array.isArray(h.folders) && h.folders.length > 0
    && h.folders.every((f: Partial<FolderRef> | null) => typeof f?.uri === 'string' && typeof f.name === 'string');
}

/**
 * The handoff meant for a window that has `workspaceFile` open, taken once: the first activation
 * there gets it, later ones (and other windows) do not. A stale or unreadable one is dropped; one
 * for another window's workspace is left for that window.
 */
export async function takeHandoff(state: StateStore, workspaceFile: string | undefined, nowMs: number): Promise<FolderHandoff | undefined> {
  const stored = state.get<unknown>(HANDOFF_KEY);
  if (stored === undefined) return undefined;
  if (!isHandoff(stored) || nowMs - stored.atMs > HANDOFF_MAX_AGE_MS || stored.atMs > nowMs + HANDOFF_MAX_AGE_MS) {
    await state.update(HANDOFF_KEY, undefined);
    return undefined;
  }
  if (workspaceFile === undefined || stored.workspaceFile !== workspaceFile) return undefined;
  await state.update(HANDOFF_KEY, undefined);
  return stored;
}

/** What to do with a handoff once taken. */
export interface Resume {
  startRegistry: boolean;
  /**
   * Folders the window came back without, in order: add them (once; the handoff is gone). VS Code
   * has been seen to open a fresh workspace with none of its folders.
   */
  missing: FolderRef[];
}

export function resumePlan(handoff: FolderHandoff, current: WindowFolders, registryRunning: boolean): Resume {
  return {
    startRegistry: handoff.registryWasRunning && !registryRunning,
    missing: handoff.folders.filter((f) => !current.folders.some((c) => c.uri === f.uri)),
  };
}
