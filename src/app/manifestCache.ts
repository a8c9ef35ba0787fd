/**
 * What the Registries tree learns about manifests, kept by digest. A manifest's bytes never change
 * under its digest, so what was read once (its body, its image's created date) is not read again,
 * across expands and refreshes. Tags move, so a tag's digest is asked again after a refresh: one
 * HEAD, and the manifest and config only when the tag now points at a manifest never seen.
 */
import { CostLru } from '../oci/costLru';
import type { FetchedManifest, RegistryApi } from './ports';
import type { RegistryEntry } from './registryEntry';

/** Manifest bodies kept (by their size in bytes): plenty for thousands of tags' manifests. */
const MAX_MANIFEST_BYTES = 16 * 1024 * 1024;
/** Dates and tag → digest pairs kept. */
const MAX_DATES = 100_000;

export interface TagDate {
  /** The manifest the tag points at now. */
  digest: string;
  /** The image config's `created`, when it has one. */
  createdMs?: number;
}

export class ManifestCache {
  private readonly manifests = new CostLru<FetchedManifest>(MAX_MANIFEST_BYTES);
  /** Created time per manifest digest; null when its config has no date (so it is not asked again). */
  private readonly created = new CostLru<number | null>(MAX_DATES);
  /** The digest each tag pointed at when last seen. */
  private readonly tagDigests = new CostLru<string>(MAX_DATES);

  /** Keeps a manifest fetched elsewhere (by tag) for later reads by digest. */
  remember(entry: RegistryEntry, fetched: FetchedManifest): FetchedManifest {
    const kept: FetchedManifest = { digest: fetched.digest, mediaType: fetched.mediaType, size: fetched.size, manifest: fetched.manifest };
    this.manifests.set(`${entry.server}@${fetched.digest}`, kept, Math.max(1, fetched.size));
    return kept;
  }

  /** A manifest by digest: one GET the first time, none after. */
  async manifest(api: RegistryApi, entry: RegistryEntry, repository: string, digest: string, signal?: AbortSignal): Promise<FetchedManifest> {
    const cached = this.manifests.get(`${entry.server}@${digest}`);
    if (cached) return cached;
    return this.remember(entry, await api.manifest(entry, repository, digest, signal));
  }

  /** A manifest by tag (one GET), kept by its digest. */
  async manifestOfTag(api: RegistryApi, entry: RegistryEntry, repository: string, tag: string, signal?: AbortSignal): Promise<FetchedManifest> {
    const fetched = this.remember(entry, await api.manifest(entry, repository, tag, signal));
    this.tagDigests.set(`${entry.server}/${repository}:${tag}`, fetched.digest, 1);
    return fetched;
  }

  /**
   * The tag's digest now and its image's created date. A tag seen before costs one HEAD (and nothing
   * more while its digest is one already dated); a tag never seen costs a GET of its manifest (which
   * also gives the digest) and a GET of the config, or for an index, of its default platform's
   * manifest and config. A config without a date leaves the tag undated.
   */
  async tagDate(api: RegistryApi, entry: RegistryEntry, repository: string, tag: string, signal?: AbortSignal): Promise<TagDate> {
    const tagKey = `${entry.server}/${repository}:${tag}`;
    let fetched: FetchedManifest | undefined;
    let digest: string;
    if (this.tagDigests.has(tagKey)) {
      digest = (await api.headManifest(entry, repository, tag, signal)).digest;
      this.tagDigests.set(tagKey, digest, 1);
    } else {
      fetched = await this.manifestOfTag(api, entry, repository, tag, signal);
      digest = fetched.digest;
    }
    const key = `${entry.server}@${digest}`;
    let ms = this.created.get(key);
    if (ms === undefined) {
      fetched ??= await this.manifest(api, entry, repository, digest, signal);
      const config = await api.imageConfig(entry, repository, fetched, signal);
      const parsed = config?.created ? Date.parse(config.created) : NaN;
      ms = Number.isFinite(parsed) ? parsed : null;
      this.created.set(key, ms, 1);
    }
    return ms === null ? { digest } : { digest, createdMs: ms };
  }
}
