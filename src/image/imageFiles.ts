/**
 * Browsing an image's files without pulling it. Listing needs every layer's table of contents, so
 * each layer is streamed once and only its entries (path, type, size, sha256) are kept, cached by
 * digest so images sharing a base share the work. Opening a file streams only the one layer that
 * holds it, up to that file. Memory stays bounded: entries are capped across cached layers, file
 * contents by bytes, and no layer is ever held whole.
 */
import type { Readable } from 'node:stream';
import type { CallOptions, Registry } from '../client';
import { RegistryError, isRegistryError } from '../client/errors';
import { MediaType } from '../oci/mediaTypes';
import { CostLru } from '../oci/costLru';
import { runPool } from '../oci/pool';
import type { Descriptor } from '../oci/types';
import { mergeLayers, type FileNode, type MergedTree } from './fileTree';
import { indexLayer, LayerFormatError, readLayerFile, type LayerIndex } from './layerReader';
import { describeTarget, resolveImage, type ImageTarget, type ResolvedImage } from './resolve';

export interface LayerCacheOptions {
  /** Entries kept across all cached layer indexes (a busy base image has ~10,000). */
  maxEntries?: number;
  /** Bytes of file content kept for re-opening. */
  maxFileBytes?: number;
}

export const DEFAULT_MAX_CACHED_ENTRIES = 300_000;
export const DEFAULT_MAX_CACHED_FILE_BYTES = 64 * 1024 * 1024;
/** Bigger files are refused with a message rather than read into the editor. */
export const DEFAULT_MAX_OPEN_FILE_BYTES = 50 * 1024 * 1024;

/** Shared by every image browsed in a session: layer indexes by digest, recent file contents. */
export class LayerCache {
  private readonly indexes: CostLru<LayerIndex>;
  private readonly files: CostLru<Buffer>;
  private readonly loading = new Map<string, Promise<LayerIndex>>();
  /** Layers streamed so far (for tests and the output channel: caching must make this stop growing). */
  layerReads = 0;

  constructor(opts: LayerCacheOptions = {}) {
    this.indexes = new CostLru(opts.maxEntries ?? DEFAULT_MAX_CACHED_ENTRIES);
    this.files = new CostLru(opts.maxFileBytes ?? DEFAULT_MAX_CACHED_FILE_BYTES);
  }

  /** The index of `digest`, loaded once even when several images ask at the same time. */
  async index(digest: string, load: () => Promise<LayerIndex>): Promise<LayerIndex> {
    const cached = this.indexes.get(digest);
    if (cached) return cached;
    let pending = this.loading.get(digest);
    if (!pending) {
      this.layerReads++;
      pending = load().then((index) => {
        this.indexes.set(digest, index, Math.max(1, index.entries.length));
        return index;
      }).finally(() => this.loading.delete(digest));
      this.loading.set(digest, pending);
    }
    return pending;
  }

  async file(key: string, load: () => Promise<Buffer>): Promise<Buffer> {
    const cached = this.files.get(key);
    if (cached) return cached;
    this.layerReads++;
    const bytes = await load();
    this.files.set(key, bytes, bytes.length);
    return bytes;
  }

  get stats(): { layers: number; entries: number; files: number; fileBytes: number } {
    return { layers: this.indexes.size, entries: this.indexes.cost, files: this.files.size, fileBytes: this.files.cost };
  }
}

export class ImageFileError extends Error {
  constructor(message: string, readonly kind: 'not-found' | 'not-a-file' | 'not-a-directory' | 'too-large') {
    super(message);
    this.name = 'ImageFileError';
  }
}

const LAYER_TYPES: readonly string[] = [
  MediaType.ociLayerTar, MediaType.ociLayerGzip, MediaType.ociLayerZstd, MediaType.dockerLayerGzip, MediaType.dockerForeignLayerGzip,
  'application/vnd.docker.image.rootfs.diff.tar', 'application/vnd.oci.image.layer.nondistributable.v1.tar',
  'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip', 'application/vnd.oci.image.layer.nondistributable.v1.tar+zstd',
];

export interface ImageFilesOptions {
  maxOpenFileBytes?: number;
  /** Layers read at once while listing. */
  concurrency?: number;
}

/** One image's files: `tree()` once, then `stat`/`list`/`read` by path (`usr/bin/env`, no leading `/`). */
export class ImageFiles {
  private merged: Promise<MergedTree> | undefined;

  constructor(readonly registry: Registry, readonly image: ResolvedImage, private readonly cache: LayerCache, private readonly opts: ImageFilesOptions = {}) {
    for (const l of image.manifest.layers) {
      if (!LAYER_TYPES.includes(l.mediaType)) {
        throw new RegistryError({ kind: 'unsupported', host: registry.name, message: `${describeTarget(image)} has a layer of type ${l.mediaType}, which is not a filesystem layer; it is an artifact, not an image to browse.` });
      }
    }
  }

  static async open(registry: Registry, target: ImageTarget, cache: LayerCache, opts: ImageFilesOptions & CallOptions = {}): Promise<ImageFiles> {
    return new ImageFiles(registry, await resolveImage(registry, target, opts), cache, opts);
  }

  private what(layer: Descriptor, n: number): string {
    return `Layer ${n + 1} (${layer.digest}) of ${describeTarget(this.image)}`;
  }

  private async openLayer(layer: Descriptor, n: number, opts: CallOptions): Promise<Readable> {
    try {
      return (await this.registry.openBlob(this.image.repository, layer.digest, opts)).stream;
    } catch (e) {
      if (isRegistryError(e, 'not-found') && layer.urls?.length) {
        throw new RegistryError({ kind: 'unsupported', host: this.registry.name, message: `${this.what(layer, n)} is a foreign layer kept at ${layer.urls[0]}, not in the registry; its files cannot be listed.` });
      }
      throw e;
    }
  }

  private indexOf(layer: Descriptor, n: number, opts: CallOptions): Promise<LayerIndex> {
    return this.cache.index(layer.digest, async () => indexLayer(await this.openLayer(layer, n, opts), {
      what: this.what(layer, n), digest: layer.digest, ...(opts.signal ? { signal: opts.signal } : {}),
    }));
  }

  /** The merged tree, built once per image (layer indexes come from the cache when seen before). */
  tree(opts: CallOptions = {}): Promise<MergedTree> {
    this.merged ??= (async () => {
      const layers = this.image.manifest.layers;
      const indexes: LayerIndex[] = new Array<LayerIndex>(layers.length);
      await runPool(layers.map((l, n) => ({ l, n })), this.opts.concurrency ?? 3, async ({ l, n }) => {
        indexes[n] = await this.indexOf(l, n, opts);
      });
      return mergeLayers(indexes);
    })();
    // A failed or cancelled listing is tried again next time, not remembered.
    this.merged.catch(() => (this.merged = undefined));
    return this.merged;
  }

  private async node(path: string, opts: CallOptions): Promise<{ path: string; node: FileNode }> {
    const tree = await this.tree(opts);
    const found = tree.resolve(path);
    if (!found) throw new ImageFileError(`/${path} does not exist in ${describeTarget(this.image)}.`, 'not-found');
    return found;
  }

  /** The node at `path`, symlinks followed, plus whether `path` itself is a symlink. */
  async stat(path: string, opts: CallOptions = {}): Promise<FileNode & { isSymlink: boolean }> {
    const tree = await this.tree(opts);
    const own = tree.lookup(path);
    if (!own) throw new ImageFileError(`/${path} does not exist in ${describeTarget(this.image)}.`, 'not-found');
    if (own.type !== 'symlink') return { ...own, isSymlink: false };
    const target = tree.resolve(path);
    // A dangling link is still listed, as the link itself.
    return target ? { ...target.node, isSymlink: true } : { ...own, isSymlink: true };
  }

  async list(path: string, opts: CallOptions = {}): Promise<FileNode[]> {
    const { node } = await this.node(path, opts);
    if (node.type !== 'directory' || !node.children) throw new ImageFileError(`/${path} is not a folder.`, 'not-a-directory');
    return [...node.children.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  /** A file's bytes, from the one layer that holds them. */
  async read(path: string, opts: CallOptions = {}): Promise<Buffer> {
    const { node, path: real } = await this.node(path, opts);
    if (node.type !== 'file' || !node.content) throw new ImageFileError(`/${real} is a ${node.type}, not a file.`, 'not-a-file');
    const max = this.opts.maxOpenFileBytes ?? DEFAULT_MAX_OPEN_FILE_BYTES;
    if (node.size > max) throw new ImageFileError(`/${real} is ${node.size} bytes; files over ${max} bytes are not opened from the registry.`, 'too-large');
    const ref = node.content;
    const layer = this.image.manifest.layers[ref.layer] as Descriptor;
    return this.cache.file(`${ref.digest}#${ref.ordinal}`, async () => {
      try {
        return await readLayerFile(await this.openLayer(layer, ref.layer, opts), ref.ordinal, {
          what: this.what(layer, ref.layer), maxBytes: max, ...(opts.signal ? { signal: opts.signal } : {}),
        });
      } catch (e) {
        if (e instanceof LayerFormatError && e.kind === 'too-large') throw new ImageFileError(e.message, 'too-large');
        throw e;
      }
    });
  }
}
