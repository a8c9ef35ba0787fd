/**
 * Copies an image or a whole index between registries (or repositories) without an engine:
 * blobs the target already has are skipped (HEAD), blobs in another repository of the same registry
 * are mounted, the rest are streamed from source to target; manifests are pushed with their exact
 * bytes, so every digest stays the same.
 */
import { manifestReference, type Reference } from '../oci/reference';
import type { Descriptor } from '../oci/types';
import { isIndex } from '../oci/types';
import { runPool } from '../oci/pool';
import { RegistryError } from './errors';
import type { Registry, RegistryClient } from './registryClient';

export type CopyEvent =
  | { type: 'blob-skipped'; digest: string; size: number }
  | { type: 'blob-mounted'; digest: string; size: number }
  | { type: 'blob-progress'; digest: string; size: number; bytesSent: number }
  | { type: 'blob-done'; digest: string; size: number }
  | { type: 'manifest-pushed'; digest: string; mediaType: string; reference: string };

export interface CopyOptions {
  signal?: AbortSignal;
  onProgress?: (event: CopyEvent) => void;
  /** Blobs transferred at once. Default 3. */
  concurrency?: number;
}

export interface CopyResult {
  digest: string;
  mediaType: string;
  /** Where it was written: the target tag, or the digest when the target names none. */
  reference: string;
  blobsCopied: number;
  blobsMounted: number;
  blobsSkipped: number;
  bytesCopied: number;
  manifestsPushed: number;
}

const MAX_INDEX_DEPTH = 4;

class Copier {
  readonly result: Omit<CopyResult, 'digest' | 'mediaType' | 'reference'> = { blobsCopied: 0, blobsMounted: 0, blobsSkipped: 0, bytesCopied: 0, manifestsPushed: 0 };
  private readonly sameRegistry: boolean;
  /** Blobs already handled in this copy (platforms often share layers). */
  private readonly done = new Map<string, Promise<void>>();

  constructor(
    private readonly src: Registry, private readonly srcRepo: string,
    private readonly dst: Registry, private readonly dstRepo: string,
    private readonly opts: CopyOptions,
  ) {
    this.sameRegistry = src.session.apiHost === dst.session.apiHost;
  }

  private emit(e: CopyEvent): void {
    this.opts.onProgress?.(e);
  }

  private get call(): { signal?: AbortSignal } {
    return this.opts.signal ? { signal: this.opts.signal } : {};
  }

  async copyManifest(reference: string, targetReference: string, depth: number): Promise<{ digest: string; mediaType: string }> {
    const m = await this.src.getManifest(this.srcRepo, reference, this.call);
    if (isIndex(m.manifest)) {
      if (depth >= MAX_INDEX_DEPTH) throw new RegistryError({ kind: 'invalid-response', host: this.src.name, message: `${this.srcRepo}@${m.digest} nests indexes too deeply to copy.` });
      for (const child of m.manifest.manifests) await this.copyManifest(child.digest, child.digest, depth + 1);
    } else {
      const blobs = [m.manifest.config, ...m.manifest.layers].filter((d) => !this.isForeign(d));
      await runPool(blobs, this.opts.concurrency ?? 3, (d) => this.copyBlobOnce(d));
    }
    await this.dst.putManifest(this.dstRepo, targetReference, m.bytes, m.mediaType, this.call);
    this.result.manifestsPushed++;
    this.emit({ type: 'manifest-pushed', digest: m.digest, mediaType: m.mediaType, reference: targetReference });
    return { digest: m.digest, mediaType: m.mediaType };
  }

  /** Layers with `urls` (Windows foreign layers) live outside registries and are not copied. */
  private isForeign(d: Descriptor): boolean {
    return (d.urls?.length ?? 0) > 0 && /foreign/.test(d.mediaType);
  }

  private copyBlobOnce(d: Descriptor): Promise<void> {
    let p = this.done.get(d.digest);
    if (!p) {
      p = this.copyBlob(d);
      this.done.set(d.digest, p);
    }
    return p;
  }

  private async copyBlob(d: Descriptor): Promise<void> {
    if ((await this.dst.blobExists(this.dstRepo, d.digest, this.call)) !== undefined) {
      this.result.blobsSkipped++;
      this.emit({ type: 'blob-skipped', digest: d.digest, size: d.size });
      return;
    }
    if (this.sameRegistry && this.srcRepo !== this.dstRepo && (await this.dst.mountBlob(this.dstRepo, d.digest, this.srcRepo, this.call))) {
      this.result.blobsMounted++;
      this.emit({ type: 'blob-mounted', digest: d.digest, size: d.size });
      return;
    }
    const { stream } = await this.src.openBlob(this.srcRepo, d.digest, this.call);
    await this.dst.uploadBlob(this.dstRepo, {
      digest: d.digest, size: d.size, body: stream,
      onProgress: (bytesSent) => this.emit({ type: 'blob-progress', digest: d.digest, size: d.size, bytesSent }),
    }, this.call);
    this.result.blobsCopied++;
    this.result.bytesCopied += d.size;
    this.emit({ type: 'blob-done', digest: d.digest, size: d.size });
  }
}

/**
 * Copies `source` to `target` (each a parsed reference; the target's tag, or else its digest, or
 * else the source's digest names the result). Returns the digest, unchanged from the source.
 */
export async function copyImage(client: RegistryClient, source: Reference, target: Reference, opts: CopyOptions = {}): Promise<CopyResult> {
  const src = client.registry(source.registry);
  const dst = client.registry(target.registry);
  const copier = new Copier(src, source.repository, dst, target.repository, opts);
  const sourceRef = manifestReference(source);
  if (target.digest && source.digest && target.digest !== source.digest) {
    throw new RegistryError({ kind: 'bad-request', message: `The target digest ${target.digest} differs from the source ${source.digest}; a copy keeps the digest, so name the target by tag.` });
  }
  let targetRef = target.tag ?? target.digest ?? source.digest;
  if (!targetRef) {
    // Neither side names a digest or tag: the result is addressed by the source's digest.
    targetRef = (await src.headManifest(source.repository, sourceRef, opts.signal ? { signal: opts.signal } : {})).digest;
  }
  const { digest, mediaType } = await copier.copyManifest(sourceRef, targetRef, 0);
  if (target.digest && digest !== target.digest) {
    throw new RegistryError({ kind: 'invalid-response', host: src.name, message: `${source.repository}:${sourceRef} resolved to ${digest}, not the target digest ${target.digest}.` });
  }
  return { digest, mediaType, reference: targetRef, ...copier.result };
}
