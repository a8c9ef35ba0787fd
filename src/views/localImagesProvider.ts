/**
 * Local Images: what the container engine holds, one row per `repo:tag`. When no engine
 * answers, the view is empty and the `berth.engine` context key shows the welcome that says so.
 */
import * as vscode from 'vscode';
import type { EngineApi, Log } from '../app/ports';
import { Debouncer } from './debounce';
import { Disposable, toDisposable } from '../app/lifecycle';
import type { LocalImageNode } from './nodes';
import { toTreeItem } from './vscodeTreeItem';
import { imageRows, toLocalImage } from './localImages';

/** A `docker build` or pull sends a burst of events; refresh once it settles. */
const WATCH_QUIET_MS = 500;

export class LocalImagesProvider extends Disposable implements vscode.TreeDataProvider<LocalImageNode> {
  private readonly changed = this.register(new vscode.EventEmitter<LocalImageNode | undefined>());
  readonly onDidChangeTreeData = this.changed.event;

  /** Image events (tag, untag, pull, delete) from the engine replace polling; one watch at a time. */
  private watching: AbortController | undefined;
  private readonly debounce = this.register(new Debouncer<'images'>(WATCH_QUIET_MS));

  constructor(
    private readonly engine: () => Promise<EngineApi>,
    private readonly log: Log,
  ) {
    super();
    this.register(toDisposable(() => this.watching?.abort()));
  }

  private watch(engine: EngineApi): void {
    if (this.watching || this.isDisposed) return;
    const abort = new AbortController();
    this.watching = abort;
    engine
      .watchImages(() => this.debounce.run('images', () => this.refresh()), { signal: abort.signal })
      .catch((err: unknown) => this.log.warn(`stopped watching image events: ${err instanceof Error ? err.message : String(err)}`))
      .finally(() => {
        // The engine went away: the next successful listing starts a new watch.
        if (this.watching === abort) this.watching = undefined;
      });
  }

  getTreeItem(node: LocalImageNode): vscode.TreeItem {
    return toTreeItem(node);
  }

  async getChildren(node?: LocalImageNode): Promise<LocalImageNode[]> {
    if (node) return [];
    try {
      const engine = await this.engine();
      const images = await engine.listImages();
      this.watch(engine);
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
