import * as vscode from 'vscode';
import { Disposable } from '../app/lifecycle';
import type { LocalStatus } from '../app/ports';

/** The local registry's state and port in the status bar; a click opens its actions. */
export function statusText(s: LocalStatus): { text: string; tooltip: string } {
  switch (s.state) {
    case 'running':
      return { text: `$(server-environment) Registry :${s.port ?? '?'}`, tooltip: `Berth local registry running on 127.0.0.1:${s.port ?? '?'}. Click for actions.` };
    case 'starting':
      return { text: '$(loading~spin) Registry starting', tooltip: 'Berth local registry is starting.' };
    case 'stopping':
      return { text: '$(loading~spin) Registry stopping', tooltip: 'Berth local registry is finishing requests in flight.' };
    case 'failed':
      return { text: '$(error) Registry failed', tooltip: `Berth local registry failed: ${s.message ?? 'see the logs'}. Click for actions.` };
    case 'stopped':
      return { text: '$(circle-slash) Registry stopped', tooltip: 'Berth local registry is stopped. Click to start it.' };
  }
}

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
