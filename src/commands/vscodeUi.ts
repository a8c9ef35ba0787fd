/** The one adapter from the `Ui` port to VS Code's window, clipboard and workspace APIs. */
import * as vscode from 'vscode';
import type { InputOptions, PickItem, PickOptions, ProgressReport, Ui } from './ui';

/** Long enough to read a reference, short enough not to linger. */
const NOTICE_MS = 5000;

type VsPick<T> = vscode.QuickPickItem & { value: T };

function toItems<T>(items: readonly PickItem<T>[]): VsPick<T>[] {
  return items.map((i) => ({
    label: i.label,
    value: i.value,
    ...(i.description !== undefined ? { description: i.description } : {}),
    ...(i.detail !== undefined ? { detail: i.detail } : {}),
    ...(i.picked !== undefined ? { picked: i.picked } : {}),
  }));
}

/** `addWorkspaceFolder` is views/workspaceFolders.ts's, which needs the extension's state and storage. */
export function vscodeUi(addWorkspaceFolder: Ui['addWorkspaceFolder']): Ui {
  return {
    async pick<T>(items: readonly PickItem<T>[], options: PickOptions): Promise<T | undefined> {
      const picked = await vscode.window.showQuickPick(toItems(items), { ...options, ignoreFocusOut: true });
      return picked?.value;
    },
    async pickMany<T>(items: readonly PickItem<T>[], options: PickOptions): Promise<T[] | undefined> {
      const picked = await vscode.window.showQuickPick(toItems(items), { ...options, canPickMany: true, ignoreFocusOut: true });
      return picked?.map((p) => p.value);
    },
    input(options: InputOptions): Promise<string | undefined> {
      const { validate, ...rest } = options;
      return Promise.resolve(
        vscode.window.showInputBox({
          ...rest,
          ignoreFocusOut: true,
          ...(validate ? { validateInput: (v: string) => validate(v) ?? null } : {}),
        }),
      );
    },
    info: (message, ...actions) => Promise.resolve(vscode.window.showInformationMessage(message, ...actions)),
    warn: (message, options, ...actions) =>
      Promise.resolve(vscode.window.showWarningMessage(message, { modal: options.modal ?? false, ...(options.detail ? { detail: options.detail } : {}) }, ...actions)),
    error: (message, ...actions) => Promise.resolve(vscode.window.showErrorMessage(message, ...actions)),
    copy: (text) => Promise.resolve(vscode.env.clipboard.writeText(text)),
    notice: (message) => {
      // Disposed by its timeout; nothing else holds it.
      vscode.window.setStatusBarMessage(`$(check) ${message}`, NOTICE_MS);
    },
    async pickFile(options) {
      const uris = await vscode.window.showOpenDialog({ title: options.title, canSelectFiles: true, canSelectMany: false, ...(options.filters ? { filters: options.filters } : {}) });
      return uris?.[0]?.fsPath;
    },
    withProgress<T>(title: string, cancellable: boolean, task: (report: (r: ProgressReport) => void, signal: AbortSignal) => Promise<T>): Promise<T> {
      return Promise.resolve(
        vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title, cancellable }, (progress, token) => {
          const abort = new AbortController();
          const sub = token.onCancellationRequested(() => abort.abort());
          return task((r) => progress.report(r), abort.signal).finally(() => sub.dispose());
        }),
      );
    },
    async openDocument(uri: string, language?: string) {
      let doc = await vscode.workspace.openTextDocument(vscode.Uri.parse(uri));
      if (language) doc = await vscode.languages.setTextDocumentLanguage(doc, language);
      await vscode.window.showTextDocument(doc, { preview: false });
    },
    addWorkspaceFolder,
    async revealFolder(path: string) {
      if (vscode.env.remoteName !== undefined || vscode.env.uiKind === vscode.UIKind.Web) return false;
      await vscode.commands.executeCommand('revealFileInOS', vscode.Uri.file(path));
      return true;
    },
  };
}
