import * as vscode from 'vscode';
import type { TreeNode } from './nodes';
import { treeItemSpec, type Collapsible } from './treeItems';

const COLLAPSIBLE: Record<Collapsible, vscode.TreeItemCollapsibleState> = {
  none: vscode.TreeItemCollapsibleState.None,
  collapsed: vscode.TreeItemCollapsibleState.Collapsed,
  expanded: vscode.TreeItemCollapsibleState.Expanded,
};

/** Turns the plain spec into a `vscode.TreeItem`; all decisions are in treeItemSpec. */
export function toTreeItem(node: TreeNode, nowMs = Date.now()): vscode.TreeItem {
  const spec = treeItemSpec(node, nowMs);
  const item = new vscode.TreeItem(spec.label, COLLAPSIBLE[spec.collapsible]);
  item.id = spec.id;
  item.contextValue = spec.contextValue;
  if (spec.description !== undefined) item.description = spec.description;
  if (spec.tooltip !== undefined) item.tooltip = spec.tooltip;
  if (spec.icon) item.iconPath = new vscode.ThemeIcon(spec.icon.id, spec.icon.color ? new vscode.ThemeColor(spec.icon.color) : undefined);
  if (spec.command) item.command = spec.command;
  return item;
}
