/**
 * Local Images: what the container engine holds, one row per `repo:tag`. When no engine
 * answers, the view is empty and the `berth.engine` context key shows the welcome that says so.
 */
import * as vscode from 'vscode';
import type { EngineApi, Log } from '../commands/services';
import { Disposable } from './disposable';
import type { LocalImageNode } from './nodes';
import { toTreeItem } from './vscodeTreeItem';
import { imageRows, toLocalImage } from './localImages';

export class LocalImagesProvider extends Disposable implements vscode.TreeDataProvider<LocalImageNode> {
  private readonly changed = this.register(new vscode.EventEmitter<LocalImageNode | undefined>());
  readonly onDidChangeTreeData = this.changed.event;

  constructor(
    private readonly engine: () => Promise<EngineApi>,
    private readonly log: Log,
  ) {
    super();
  }

  getTreeItem(node: LocalImageNode): vscode.TreeItem {
    return toTreeItem(node);
  }

  async getChildren(node?: LocalImageNode): Promise<LocalImageNode[]> {
    if (node) return [];
    try {
      const images = await (await this.engine()).listImages();
      await vscode.commands.executeCommand('setContext', 'berth.engine', 'available');
      return imageRows(images.map(toLocalImage));
    } catch (err) {
      this.log.warn(`No container engine: ${err instanceof Error ? err.message : String(err)}`);
      await vscode.commands.executeCommand('setContext', 'berth.engine', 'unavailable');
      return [];
    }
  }

  refresh(): void {
    this.changed.fire(undefined);
  }
}
