/**
 * The `berth-image:` file system: an image's files, read-only, straight from the registry. This
 * adapter only maps VS Code's calls and errors; the work (and its libraries) lives in the lazily
 * loaded commands bundle, so registering the provider at activation costs nothing.
 */
import * as vscode from 'vscode';
import type { ImageEntryType, ImageFileBackend, ImageFileStat } from '../app/imageFileBackend';
import { Disposable } from '../app/lifecycle';

function fileType(type: ImageEntryType, isSymlink: boolean): vscode.FileType {
  const base = type === 'file' ? vscode.FileType.File : type === 'directory' ? vscode.FileType.Directory : vscode.FileType.Unknown;
  return isSymlink ? base | vscode.FileType.SymbolicLink : base;
}

export class ImageFileSystem extends Disposable implements vscode.FileSystemProvider {
  private readonly changed = this.register(new vscode.EventEmitter<vscode.FileChangeEvent[]>());
  readonly onDidChangeFile = this.changed.event;

  constructor(private readonly backend: () => Promise<ImageFileBackend>) {
    super();
  }

  private async call<T>(uri: vscode.Uri, work: (b: ImageFileBackend) => Promise<T>): Promise<T> {
    try {
      return await work(await this.backend());
    } catch (e) {
      const kind = (e as { kind?: unknown }).kind;
      const message = e instanceof Error ? e.message : String(e);
      if (e instanceof Error && e.name === 'ImageFileError') {
        if (kind === 'not-found') throw vscode.FileSystemError.FileNotFound(uri);
        if (kind === 'not-a-directory') throw vscode.FileSystemError.FileNotADirectory(uri);
        if (kind === 'not-a-file') throw vscode.FileSystemError.FileIsADirectory(uri);
      }
      // Registry and layer problems (sign-in needed, unreachable, zstd…) keep their message.
      throw vscode.FileSystemError.Unavailable(message);
    }
  }

  private toStat(s: ImageFileStat): vscode.FileStat {
    return { type: fileType(s.type, s.isSymlink), size: s.size, ctime: s.mtimeMs, mtime: s.mtimeMs, permissions: vscode.FilePermission.Readonly };
  }

  stat(uri: vscode.Uri): Promise<vscode.FileStat> {
    return this.call(uri, async (b) => this.toStat(await b.stat(uri.authority, uri.path)));
  }

  readDirectory(uri: vscode.Uri): Promise<Array<[string, vscode.FileType]>> {
    return this.call(uri, async (b) => (await b.list(uri.authority, uri.path)).map(([name, s]) => [name, fileType(s.type, s.isSymlink)]));
  }

  readFile(uri: vscode.Uri): Promise<Uint8Array> {
    return this.call(uri, (b) => b.read(uri.authority, uri.path));
  }

  watch(): vscode.Disposable {
    // An image never changes under a digest; a tag moving shows on the next open.
    return new vscode.Disposable(() => undefined);
  }

  createDirectory(uri: vscode.Uri): never {
    throw vscode.FileSystemError.NoPermissions(uri);
  }

  writeFile(uri: vscode.Uri): never {
    throw vscode.FileSystemError.NoPermissions(uri);
  }

  delete(uri: vscode.Uri): never {
    throw vscode.FileSystemError.NoPermissions(uri);
  }

  rename(uri: vscode.Uri): never {
    throw vscode.FileSystemError.NoPermissions(uri);
  }
}
