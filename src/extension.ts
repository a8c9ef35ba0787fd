import * as vscode from 'vscode';

export function activate(context: vscode.ExtensionContext): void {
  context.subscriptions.push(
    vscode.window.registerTreeDataProvider('berth.registries', {
      getTreeItem: (e: vscode.TreeItem) => e,
      getChildren: () => [],
    }),
  );
}

export function deactivate(): void {
  // Everything is disposed through context.subscriptions.
}
