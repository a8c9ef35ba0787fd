/**
 * Adds a folder of any scheme to the window's workspace so the explorer shows it, including in an
 * empty or single-folder window, where that takes a reload (see app/folderHandoff.ts for why it opens
 * a workspace file there instead of calling `updateWorkspaceFolders`).
 */
import * as vscode from 'vscode';
import type { Log } from '../app/ports';
import { join } from 'node:path';
import {
  WORKSPACE_RENEW_INTERVAL_MS, WORKSPACE_RETENTION_MS, WORKSPACES_FOLDER, pendingWorkspaceFile, planAddFolder, rememberHandoff, resumePlan, takeHandoff, workspaceFilePath, workspaceFileText,
  type FolderRef, type StateStore, type WindowFolders,
} from '../app/folderHandoff';
import { pruneWorkspaces, renewWorkspace } from '../app/workspacePrune';

export interface WorkspaceFoldersDeps {
  state: StateStore;
  /** Where the workspace files go (the extension's global storage). */
  storageUri: vscode.Uri;
  registryRunning: () => boolean;
  /** Starts the local registry again after the reload stopped it; says why when it cannot. */
  startRegistry: () => Promise<void>;
  log: Log;
}

function currentFolders(): WindowFolders {
  const folders = (vscode.workspace.workspaceFolders ?? []).map((f): FolderRef => ({
    uri: f.uri.toString(), name: f.name, ...(f.uri.scheme === 'file' ? { path: f.uri.fsPath } : {}),
  }));
  return { folders, workspaceFile: vscode.workspace.workspaceFile?.toString() };
}

/** A local file's path; other schemes (an untitled workspace, a remote one) are not Berth's files. */
function asPath(uri: vscode.Uri | string | undefined): string | undefined {
  const parsed = typeof uri === 'string' ? vscode.Uri.parse(uri) : uri;
  return parsed?.scheme === 'file' ? parsed.fsPath : undefined;
}

function append(folders: readonly FolderRef[]): void {
  const count = vscode.workspace.workspaceFolders?.length ?? 0;
  const toAdd = folders.map((f) => ({ uri: f.path !== undefined ? vscode.Uri.file(f.path) : vscode.Uri.parse(f.uri), name: f.name }));
  if (!vscode.workspace.updateWorkspaceFolders(count, 0, ...toAdd)) {
    throw new Error(`VS Code did not add ${folders.map((f) => f.name).join(', ')} to the workspace.`);
  }
}

export class WorkspaceFolders {
  constructor(private readonly deps: WorkspaceFoldersDeps) {}

  async add(uri: string, name: string): Promise<void> {
    // VS Code's own spelling of the URI, so it compares equal to the folders it lists.
    const folder: FolderRef = { uri: vscode.Uri.parse(uri).toString(), name };
    const plan = planAddFolder(currentFolders(), folder);
    const handoff = { registryWasRunning: this.deps.registryRunning(), atMs: Date.now() };
    switch (plan.kind) {
      case 'reveal':
        await vscode.commands.executeCommand('revealInExplorer', vscode.Uri.parse(folder.uri));
        return;
      case 'append':
        append([folder]);
        await vscode.commands.executeCommand('workbench.view.explorer');
        return;
      case 'append-with-restart':
        await rememberHandoff(this.deps.state, { ...handoff, workspaceFile: plan.workspaceFile, folders: [folder] });
        append([folder]);
        return;
      case 'open-workspace': {
        const [unique, fileName] = workspaceFilePath(name, handoff.atMs);
        const dir = vscode.Uri.joinPath(this.deps.storageUri, WORKSPACES_FOLDER, unique);
        const file = vscode.Uri.joinPath(dir, fileName);
        await vscode.workspace.fs.createDirectory(dir);
        await vscode.workspace.fs.writeFile(file, new TextEncoder().encode(workspaceFileText(plan.folders)));
        await rememberHandoff(this.deps.state, { ...handoff, workspaceFile: file.toString(), folders: plan.folders });
        this.deps.log.info(`Opening ${name} in the workspace ${file.fsPath} (the window reloads).`);
        await vscode.commands.executeCommand('vscode.openFolder', file, { forceReuseWindow: true });
        return;
      }
    }
  }

  /**
   * On activation: finishes what an `add` in the previous extension host of this window started.
   * The explorer comes to the front with the folder, and a local registry that the reload stopped
   * runs again.
   */
  async resume(): Promise<void> {
    const handoff = await takeHandoff(this.deps.state, vscode.workspace.workspaceFile?.toString(), Date.now());
    if (!handoff) return;
    const plan = resumePlan(handoff, currentFolders(), this.deps.registryRunning());
    const names = plan.missing.map((f) => f.name).join(', ');
    this.deps.log.info(`The window reopened with ${handoff.folders.at(-1)?.name ?? 'the folder'}${names ? `, missing ${names}: adding again` : ''}${plan.startRegistry ? '; starting the local registry again' : ''}.`);
    if (plan.startRegistry) void this.deps.startRegistry();
    if (plan.missing.length > 0) append(plan.missing);
    await vscode.commands.executeCommand('workbench.view.explorer');
  }

  /**
   * On activation, in the background: removes the workspace folders earlier opens left behind once
   * unused for the retention, keeping this window's and one a handoff still waits for.
   */
  async prune(): Promise<string[]> {
    const dir = this.workspacesDir();
    if (dir === undefined) return [];
    return pruneWorkspaces({
      dir,
      openWorkspaceFile: asPath(vscode.workspace.workspaceFile),
      pendingWorkspaceFile: asPath(pendingWorkspaceFile(this.deps.state)),
      nowMs: Date.now(),
      retentionMs: WORKSPACE_RETENTION_MS,
      log: this.deps.log,
    });
  }

  /** While this window stays open, keeps the workspace it has open (if Berth wrote it) from being pruned. */
  keepOpenWorkspaceFresh(): vscode.Disposable {
    const timer = setInterval(() => {
      const dir = this.workspacesDir();
      if (dir !== undefined) void renewWorkspace(dir, asPath(vscode.workspace.workspaceFile), Date.now(), this.deps.log);
    }, WORKSPACE_RENEW_INTERVAL_MS);
    timer.unref();
    return new vscode.Disposable(() => clearInterval(timer));
  }

  private workspacesDir(): string | undefined {
    // Global storage is on the extension host's disk; anything else is not Berth's to clean.
    return this.deps.storageUri.scheme === 'file' ? join(this.deps.storageUri.fsPath, WORKSPACES_FOLDER) : undefined;
  }
}
