/**
 * Removes the workspace folders Browse Files left under the extension's global storage (one per open
 * in an empty or single-folder window) once they have gone unused for the retention. Which ones is
 * decided in folderHandoff.ts (`workspacesToPrune`); this only reads the folder and deletes.
 *
 * Nothing here follows a symlink: entries are read with `lstat`, a folder's file is removed with
 * `unlink` and the folder with `rmdir`, which fails rather than delete anything that appeared in it.
 */
import { lstat, lutimes, readdir, rmdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { workspaceEntryOf, workspacesToPrune, type WorkspaceEntry } from './folderHandoff';
import type { Log } from './ports';

export interface PruneOptions {
  /** The workspaces folder's path. */
  dir: string;
  /** The path of the workspace file this window has open, if any. */
  openWorkspaceFile: string | undefined;
  /** The path of the workspace file a pending handoff waits for, if any. */
  pendingWorkspaceFile: string | undefined;
  nowMs: number;
  retentionMs: number;
  log: Pick<Log, 'info' | 'warn'>;
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

async function readEntry(dir: string, name: string): Promise<WorkspaceEntry> {
  const st = await lstat(join(dir, name));
  const entry: WorkspaceEntry = { name, isDirectory: st.isDirectory(), mtimeMs: st.mtimeMs, contents: [] };
  if (!entry.isDirectory) return entry;
  for (const child of await readdir(join(dir, name))) {
    const cs = await lstat(join(dir, name, child));
    entry.contents.push({ name: child, isFile: cs.isFile(), mtimeMs: cs.mtimeMs });
  }
  return entry;
}

/**
 * Marks the workspace folder holding `file` (when it is one under `dir`) as used now. The retention
 * counts from the last use: a window renews its workspace when it opens and while it stays open,
 * so a window in another process never has its workspace removed from under it.
 */
export async function renewWorkspace(dir: string, file: string | undefined, nowMs: number, log: Pick<Log, 'warn'>): Promise<boolean> {
  const name = workspaceEntryOf(dir, file);
  if (name === undefined) return false;
  const folder = join(dir, name);
  try {
    if (!(await lstat(folder)).isDirectory()) return false;
    const now = new Date(nowMs);
    await lutimes(folder, now, now);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') log.warn(`Could not mark ${folder} as in use: ${message(e)}`);
    return false;
  }
}

/**
 * Renews the open workspace, then deletes what is due and returns the names of the folders removed.
 * Never throws: problems are logged.
 */
export async function pruneWorkspaces(o: PruneOptions): Promise<string[]> {
  await renewWorkspace(o.dir, o.openWorkspaceFile, o.nowMs, o.log);
  let names: string[];
  try {
    // A workspaces folder that is itself a symlink points somewhere Berth did not make: leave it.
    if (!(await lstat(o.dir)).isDirectory()) return [];
    names = await readdir(o.dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') o.log.warn(`Could not look for old Browse Files workspaces in ${o.dir}: ${message(e)}`);
    return [];
  }
  const entries: WorkspaceEntry[] = [];
  for (const name of names) {
    try {
      entries.push(await readEntry(o.dir, name));
    } catch (e) {
      // Gone since the listing (another window pruning), or unreadable: either way not this one's to delete.
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') o.log.warn(`Could not read ${join(o.dir, name)}: ${message(e)}`);
    }
  }

  const removed: string[] = [];
  for (const entry of workspacesToPrune({ dir: o.dir, entries, nowMs: o.nowMs, retentionMs: o.retentionMs, inUse: [o.openWorkspaceFile, o.pendingWorkspaceFile] })) {
    const folder = join(o.dir, entry.name);
    try {
      for (const file of entry.contents) await unlink(join(folder, file.name));
      await rmdir(folder);
      removed.push(entry.name);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') o.log.warn(`Could not remove the old Browse Files workspace ${folder}: ${message(e)}`);
    }
  }
  if (removed.length > 0) {
    o.log.info(`Removed ${removed.length} Browse Files workspace${removed.length === 1 ? '' : 's'} unused for more than ${Math.round(o.retentionMs / 86_400_000)} days from ${o.dir}.`);
  }
  return removed;
}
