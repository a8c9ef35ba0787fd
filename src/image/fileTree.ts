/**
 * An image's files as a container would see them: its layers applied bottom to top, whiteouts
 * (`.wh.<name>`) removing what lower layers put there and opaque markers (`.wh..wh..opq`) hiding a
 * directory's lower contents, as the OCI image spec's changeset rules say.
 */
import type { LayerEntry } from './layerReader';

export const WHITEOUT_PREFIX = '.wh.';
export const OPAQUE_MARKER = '.wh..wh..opq';

/** Where a file's bytes are: the layer (by position and digest) and the entry's ordinal in it. */
export interface ContentRef {
  layer: number;
  digest: string;
  ordinal: number;
}

/** What the image shows at a path: the entry that last wrote it, with hard links resolved to files. */
export interface FileNode extends Pick<LayerEntry, 'type' | 'size' | 'mode' | 'mtimeMs' | 'uid' | 'gid' | 'linkTarget' | 'sha256'> {
  name: string;
  /** For files (and hard links, resolved to what they name). */
  content?: ContentRef;
  /** The layer that last wrote this path. */
  layer: number;
  children?: Map<string, FileNode>;
}

export interface LayerEntries {
  digest: string;
  entries: LayerEntry[];
}

function directory(name: string, layer: number): FileNode {
  return { name, type: 'directory', size: 0, mode: 0o755, mtimeMs: 0, uid: 0, gid: 0, layer, children: new Map() };
}

function split(path: string): string[] {
  return path === '' ? [] : path.split('/');
}

export class MergedTree {
  readonly root: FileNode = directory('', -1);
  /** Entries whose path could not be placed (a hard link to nothing), with why; shown, never thrown. */
  readonly problems: string[] = [];

  /** The node at `path` (normalised, no leading `/`), without following symlinks. */
  lookup(path: string): FileNode | undefined {
    let node: FileNode | undefined = this.root;
    for (const part of split(path)) {
      node = node?.children?.get(part);
      if (!node) return undefined;
    }
    return node;
  }

  /**
   * Follows symlinks anywhere in `path` (absolute targets from the image root, relative ones from
   * their folder), as a process in the container would; undefined for a dangling link or a loop.
   */
  resolve(path: string, maxHops = 40): { path: string; node: FileNode } | undefined {
    let hops = 0;
    let pending = split(path);
    const done: string[] = [];
    let node: FileNode = this.root;
    while (pending.length) {
      const part = pending.shift() as string;
      if (part === '.' || part === '') continue;
      if (part === '..') {
        done.pop();
        node = this.lookup(done.join('/')) ?? this.root;
        continue;
      }
      const child = node.children?.get(part);
      if (!child) return undefined;
      if (child.type === 'symlink' && child.linkTarget !== undefined) {
        if (++hops > maxHops) return undefined;
        const target = split(child.linkTarget.replace(/\/+$/, ''));
        if (child.linkTarget.startsWith('/')) {
          done.length = 0;
          node = this.root;
        }
        pending = [...target.filter((p) => p !== ''), ...pending];
        continue;
      }
      done.push(part);
      node = child;
    }
    return { path: done.join('/'), node };
  }

  /** The folder for `parts`, made (as a plain directory) where the layer did not list it. */
  private ensureDir(parts: string[], layer: number): FileNode {
    let node = this.root;
    for (const part of parts) {
      let child = node.children?.get(part);
      if (!child || child.type !== 'directory') {
        // A file or link where a later layer puts a folder beneath: the folder replaces it.
        child = directory(part, layer);
        node.children?.set(part, child);
      }
      node = child;
    }
    return node;
  }

  /** Applies one layer on top of what is there. */
  apply(layer: number, content: LayerEntries): void {
    // Whiteouts and opaque markers act on the lower layers only, never on their own layer's entries:
    // apply them all first, then the layer's own entries.
    const own: LayerEntry[] = [];
    for (const e of content.entries) {
      const parts = split(e.path);
      const base = parts[parts.length - 1] ?? '';
      if (!base.startsWith(WHITEOUT_PREFIX)) {
        own.push(e);
        continue;
      }
      const parent = this.lookup(parts.slice(0, -1).join('/'));
      if (!parent?.children) continue;
      if (base === OPAQUE_MARKER) parent.children.clear();
      else parent.children.delete(base.slice(WHITEOUT_PREFIX.length));
    }
    const byPath = new Map<string, LayerEntry>();
    for (const e of own) {
      byPath.set(e.path, e);
      const parts = split(e.path);
      if (!parts.length) {
        Object.assign(this.root, { mode: e.mode, mtimeMs: e.mtimeMs, uid: e.uid, gid: e.gid });
        continue;
      }
      const name = parts[parts.length - 1] as string;
      const parent = this.ensureDir(parts.slice(0, -1), layer);
      const existing = parent.children?.get(name);
      const node: FileNode = {
        name, type: e.type, size: e.size, mode: e.mode, mtimeMs: e.mtimeMs, uid: e.uid, gid: e.gid, layer,
        ...(e.linkTarget !== undefined ? { linkTarget: e.linkTarget } : {}),
        ...(e.sha256 ? { sha256: e.sha256 } : {}),
      };
      if (e.type === 'directory') node.children = existing?.type === 'directory' && existing.children ? existing.children : new Map();
      if (e.type === 'file') node.content = { layer, digest: content.digest, ordinal: e.ordinal };
      if (e.type === 'hardlink') {
        // A hard link names an earlier entry of the same archive; failing that, what lower layers hold.
        const target = e.linkTarget !== undefined ? byPath.get(e.linkTarget) : undefined;
        if (target?.type === 'file') {
          Object.assign(node, { type: 'file', size: target.size, content: { layer, digest: content.digest, ordinal: target.ordinal }, ...(target.sha256 ? { sha256: target.sha256 } : {}) });
        } else {
          const lower = e.linkTarget !== undefined ? this.lookup(e.linkTarget) : undefined;
          if (lower?.type === 'file' && lower.content) {
            Object.assign(node, { type: 'file', size: lower.size, content: lower.content, ...(lower.sha256 ? { sha256: lower.sha256 } : {}) });
          } else {
            this.problems.push(`${e.path} is a hard link to ${e.linkTarget ?? '?'}, which is not a file in the image.`);
          }
        }
        delete node.linkTarget;
      }
      parent.children?.set(name, node);
    }
  }

  /** Every path below `path` (depth first, sorted), for listing and comparing. */
  *walk(path = ''): Generator<{ path: string; node: FileNode }> {
    const start = this.lookup(path);
    if (!start) return;
    const stack: Array<{ path: string; node: FileNode }> = [{ path, node: start }];
    while (stack.length) {
      const item = stack.pop() as { path: string; node: FileNode };
      if (item.path !== '') yield item;
      const children = [...(item.node.children?.values() ?? [])].sort((a, b) => (a.name < b.name ? 1 : a.name > b.name ? -1 : 0));
      for (const c of children) stack.push({ path: item.path ? `${item.path}/${c.name}` : c.name, node: c });
    }
  }

  get fileCount(): number {
    let n = 0;
    for (const { node } of this.walk()) if (node.type !== 'directory') n++;
    return n;
  }
}

/** Builds the merged tree of layers given bottom first. */
export function mergeLayers(layers: LayerEntries[]): MergedTree {
  const tree = new MergedTree();
  layers.forEach((l, i) => tree.apply(i, l));
  return tree;
}
