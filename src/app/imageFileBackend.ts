/**
 * The vscode-free half of the `berth-image:` file system: URI → image → files, one ImageFiles per
 * image kept while it is browsed (a few at a time), layers shared through the session's cache.
 */
import type { Registry } from '../client';
import type { FileNode } from '../image/fileTree';
import { ImageFileError, ImageFiles, LayerCache } from '../image/imageFiles';
import { parseImagePath, type ParsedImageUri } from '../image/imageUri';

let layerCache: LayerCache | undefined;

/**
 * One layer cache for the window's lifetime, shared by the file system and the image commands (in
 * the same bundle), so a layer listed for one is not downloaded again for the other. Bounded by
 * entries and bytes (see LayerCache).
 */
export function sharedLayerCache(): LayerCache {
  layerCache ??= new LayerCache();
  return layerCache;
}

export type ImageEntryType = 'file' | 'directory' | 'symlink' | 'other';

export interface ImageFileStat {
  /** What the path is once symlinks are followed (`symlink` only for a dangling link). */
  type: ImageEntryType;
  isSymlink: boolean;
  size: number;
  mtimeMs: number;
}

/** Images browsed at once; an older one is listed again (from cached layers) when reopened. */
const MAX_OPEN_IMAGES = 8;

function typeOf(n: FileNode): ImageEntryType {
  return n.type === 'file' || n.type === 'directory' || n.type === 'symlink' ? n.type : 'other';
}

export class ImageFileBackend {
  private readonly open = new Map<string, Promise<ImageFiles>>();

  constructor(private readonly registryFor: (registryId: string) => Promise<Registry | undefined>) {}

  private parse(registryId: string, path: string): ParsedImageUri {
    const parsed = parseImagePath(registryId, path);
    if (!parsed) throw new ImageFileError(`berth-image://${registryId}${path} does not name an image; open one with "Browse Files" on a tag.`, 'not-found');
    return parsed;
  }

  private files(p: ParsedImageUri): Promise<ImageFiles> {
    let files = this.open.get(p.image);
    if (!files) {
      files = (async () => {
        const registry = await this.registryFor(p.registryId);
        if (!registry) throw new ImageFileError(`The registry ${p.registryId} is not connected any more; connect it again to browse this image.`, 'not-found');
        return ImageFiles.open(registry, p.target, sharedLayerCache());
      })();
      files.catch(() => this.open.delete(p.image));
      this.open.set(p.image, files);
      for (const key of this.open.keys()) {
        if (this.open.size <= MAX_OPEN_IMAGES) break;
        this.open.delete(key);
      }
    } else {
      this.open.delete(p.image);
      this.open.set(p.image, files);
    }
    return files;
  }

  async stat(registryId: string, path: string): Promise<ImageFileStat> {
    const p = this.parse(registryId, path);
    const files = await this.files(p);
    if (p.path === '') {
      await files.tree();
      return { type: 'directory', isSymlink: false, size: 0, mtimeMs: 0 };
    }
    const n = await files.stat(p.path);
    return { type: typeOf(n), isSymlink: n.isSymlink, size: n.size, mtimeMs: n.mtimeMs };
  }

  async list(registryId: string, path: string): Promise<Array<[string, ImageFileStat]>> {
    const p = this.parse(registryId, path);
    const files = await this.files(p);
    const tree = await files.tree();
    const base = p.path;
    return (await files.list(base)).map((n): [string, ImageFileStat] => {
      if (n.type !== 'symlink') return [n.name, { type: typeOf(n), isSymlink: false, size: n.size, mtimeMs: n.mtimeMs }];
      const target = tree.resolve(base ? `${base}/${n.name}` : n.name);
      return [n.name, { type: target ? typeOf(target.node) : 'symlink', isSymlink: true, size: target?.node.size ?? 0, mtimeMs: n.mtimeMs }];
    });
  }

  async read(registryId: string, path: string): Promise<Uint8Array> {
    const p = this.parse(registryId, path);
    return (await this.files(p)).read(p.path);
  }
}
