import * as vscode from 'vscode';
import type { Docs } from '../app/ports';
import { Disposable } from '../app/lifecycle';

export const DOC_SCHEME = 'berth';

/** Read-only `berth:` documents (manifests opened by "Inspect Manifest"). */
export class BerthDocuments extends Disposable implements vscode.TextDocumentContentProvider, Docs {
  private readonly changed = this.register(new vscode.EventEmitter<vscode.Uri>());
  readonly onDidChange = this.changed.event;
  /** Bounded: a long session of inspecting must not keep every manifest ever opened. */
  private readonly contents = new Map<string, string>();
  private static readonly MAX_DOCUMENTS = 50;

  provideTextDocumentContent(uri: vscode.Uri): string {
    return this.contents.get(uri.path) ?? '// This manifest is no longer cached: run "Berth: Inspect Manifest" again.\n';
  }

  put(path: string, content: string): string {
    this.contents.delete(path);
    this.contents.set(path, content);
    while (this.contents.size > BerthDocuments.MAX_DOCUMENTS) {
      const oldest = this.contents.keys().next().value;
      if (oldest === undefined) break;
      this.contents.delete(oldest);
    }
    const uri = vscode.Uri.from({ scheme: DOC_SCHEME, path });
    this.changed.fire(uri);
    return uri.toString();
  }
}
