import * as vscode from 'vscode';
import { Disposable } from '../app/lifecycle';
import type { LocalStatus } from '../app/ports';
import { statusText } from './statusText';


export class LocalStatusBar extends Disposable {
  private readonly item = this.register(vscode.window.createStatusBarItem('berth.localRegistry', vscode.StatusBarAlignment.Left, 10));

  constructor(status: () => LocalStatus, onDidChange: (l: (s: LocalStatus) => void) => vscode.Disposable) {
    super();
    this.item.name = 'Berth Local Registry';
    this.item.command = 'berth.local.menu';
    this.update(status());
    this.register(onDidChange((s) => this.update(s)));
    this.item.show();
  }

  private update(s: LocalStatus): void {
    const { text, tooltip } = statusText(s);
    this.item.text = text;
    this.item.tooltip = tooltip;
    this.item.backgroundColor = s.state === 'failed' ? new vscode.ThemeColor('statusBarItem.errorBackground') : undefined;
  }
}
