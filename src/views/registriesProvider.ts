/** The Registries view: VS Code's TreeDataProvider over RegistryTreeData. */
import * as vscode from 'vscode';
import { Disposable } from '../app/lifecycle';
import type { RegistryTreeNode } from './nodes';
import { RegistryTreeData, type RegistryTreeDataDeps } from './registryTreeData';
import { toTreeItem } from './vscodeTreeItem';

export class RegistriesProvider extends Disposable implements vscode.TreeDataProvider<RegistryTreeNode> {
  readonly data: RegistryTreeData;
  private readonly changed = this.register(new vscode.EventEmitter<RegistryTreeNode | undefined>());
  readonly onDidChangeTreeData = this.changed.event;

  constructor(deps: RegistryTreeDataDeps) {
    super();
    this.data = this.register(new RegistryTreeData(deps));
    this.register(this.data.onDidChange((node) => this.changed.fire(node)));
  }

  getTreeItem(node: RegistryTreeNode): vscode.TreeItem {
    return toTreeItem(node);
  }

  getParent(node: RegistryTreeNode): RegistryTreeNode | undefined {
    return node.parent;
  }

  getChildren(node?: RegistryTreeNode): Promise<RegistryTreeNode[]> {
    return this.data.getChildren(node);
  }
}
