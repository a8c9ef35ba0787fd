/**
 * RegistryApi over src/client: one RegistryClient for the extension, credentials from the
 * registry store, TLS and scheme per registry from its entry.
 */
import { copyImage, RegistryClient, type Credential, type HostOptions, type Registry } from '../client';
import { listArtifacts, type ArtifactRow } from '../image/artifacts';
import { registryApiHost } from '../oci/reference';
import type { RegistryEntry } from './registryEntry';
import type { FetchedManifest } from './ports';
import type { ImageLocation, RegistryApi, RegistryCredentials, RegistryStore } from './ports';
import { isLoopbackHost } from '../oci/host';
import { presetOf } from './presets';
import type { SearchProgress, SearchResult } from '../client/search';

/** A filter matching more than this is too broad to be useful in a tree; the search stops there and says so. */
const MAX_SEARCH_MATCHES = 10_000;

export function toClientCredential(c: RegistryCredentials | undefined): Credential | undefined {
  if (!c) return undefined;
  if (c.password && c.username) return { username: c.username, password: c.password };
  if (c.identityToken) return { identityToken: c.identityToken, ...(c.username ? { username: c.username } : {}) };
  return undefined;
}

export function hostOptionsFor(entry: RegistryEntry): HostOptions {
  return {
    // Loopback hosts are probed by the client; any other plain-HTTP registry must be asked for.
    ...(entry.insecureHttp && !isLoopbackHost(entry.server) ? { scheme: 'http' as const } : {}),
    ...(entry.tls?.caFile ? { caFile: entry.tls.caFile } : {}),
    ...(entry.tls?.skipVerify ? { skipTlsVerify: true } : {}),
  };
}

export interface ClientRegistryApiOptions {
  store: RegistryStore;
  /** The embedded registry's entry (its port may change). */
  localEntry(): RegistryEntry;
  env?: NodeJS.ProcessEnv;
}

export class ClientRegistryApi implements RegistryApi {
  private readonly client: RegistryClient;

  constructor(private readonly opts: ClientRegistryApiOptions) {
    this.client = new RegistryClient({
      credentials: (registry) => this.credentialFor(registry),
      hostOptions: (apiHost) => this.hostOptions(apiHost),
      ...(opts.env ? { env: opts.env } : {}),
    });
  }

  private entries(): RegistryEntry[] {
    return [this.opts.localEntry(), ...this.opts.store.list()];
  }

  private async credentialFor(registry: string): Promise<Credential | undefined> {
    const entry = this.opts.store.list().find((e) => e.server === registry);
    return entry ? toClientCredential(await this.opts.store.credentials(entry.id)) : undefined;
  }

  private hostOptions(apiHost: string): HostOptions | undefined {
    const entry = this.entries().find((e) => registryApiHost(e.server) === apiHost);
    return entry ? hostOptionsFor(entry) : undefined;
  }

  async check(entry: RegistryEntry, credentials: RegistryCredentials, signal?: AbortSignal): Promise<void> {
    // A throwaway client: the credentials are not saved yet, and nothing may be cached from them.
    const probe = new RegistryClient({ credentials: () => toClientCredential(credentials), hostOptions: () => hostOptionsFor(entry), ...(this.opts.env ? { env: this.opts.env } : {}) });
    try {
      await probe.registry(entry.server).checkCredentials(signal ? { signal } : {});
      // Docker Hub answers /v2/ to anyone; a wrong password only shows when a token is asked for a scope.
      if (presetOf(entry).listing === 'account-namespace' && credentials.username) {
        await probe.registry(entry.server).catalogPage({ namespace: credentials.username, pageSize: 1, ...(signal ? { signal } : {}) });
      }
    } finally {
      probe.close();
    }
  }

  async repositories(entry: RegistryEntry, cursor: string | undefined, pageSize: number, signal?: AbortSignal) {
    const r = await this.client.registry(entry.server).catalogPage({
      pageSize,
      ...(cursor ? { cursor: { url: cursor } } : {}),
      ...(presetOf(entry).listing === 'account-namespace' && entry.username ? { namespace: entry.username } : {}),
      ...(signal ? { signal } : {}),
    });
    if (r.kind === 'unsupported') return { noCatalog: r.message };
    return { items: r.page.items, ...(r.page.next ? { next: r.page.next.url } : {}) };
  }

  async tags(entry: RegistryEntry, repository: string, cursor: string | undefined, pageSize: number, signal?: AbortSignal) {
    const page = await this.client.registry(entry.server).tagsPage(repository, { pageSize, ...(cursor ? { cursor: { url: cursor } } : {}), ...(signal ? { signal } : {}) });
    return { items: page.items, ...(page.next ? { next: page.next.url } : {}) };
  }

  async manifest(entry: RegistryEntry, repository: string, reference: string, signal?: AbortSignal) {
    const m = await this.client.registry(entry.server).getManifest(repository, reference, signal ? { signal } : {});
    return { digest: m.digest, mediaType: m.mediaType, size: m.size, manifest: m.manifest, bytes: m.bytes };
  }

  async headManifest(entry: RegistryEntry, repository: string, reference: string, signal?: AbortSignal) {
    return this.client.registry(entry.server).headManifest(repository, reference, signal ? { signal } : {});
  }

  async imageConfig(entry: RegistryEntry, repository: string, manifest: FetchedManifest, signal?: AbortSignal) {
    const c = await this.client.registry(entry.server).configOf(repository, manifest, signal ? { signal } : {});
    return { ...(c.created ? { created: c.created } : {}), ...(c.os ? { os: c.os } : {}), ...(c.architecture ? { architecture: c.architecture } : {}), raw: c.raw };
  }

  async deleteTag(entry: RegistryEntry, repository: string, tag: string): Promise<void> {
    await this.client.registry(entry.server).deleteTag(repository, tag);
  }

  async deleteManifest(entry: RegistryEntry, repository: string, digest: string): Promise<void> {
    await this.client.registry(entry.server).deleteManifest(repository, digest);
  }

  async retag(entry: RegistryEntry, repository: string, reference: string, newTag: string): Promise<void> {
    await this.client.registry(entry.server).retag(repository, reference, newTag);
  }

  async copy(from: ImageLocation, to: ImageLocation, onProgress: (p: { digest: string; bytesDone: number; bytesTotal?: number }) => void, signal?: AbortSignal) {
    const ref = (l: ImageLocation) => ({ registry: l.registry.server, repository: l.repository, ...(l.reference.includes(':') && l.reference.startsWith('sha') ? { digest: l.reference } : { tag: l.reference }) });
    const result = await copyImage(this.client, ref(from), ref(to), {
      ...(signal ? { signal } : {}),
      onProgress: (e) => {
        if (e.type === 'blob-progress') onProgress({ digest: e.digest, bytesDone: e.bytesSent, bytesTotal: e.size });
        else if (e.type === 'blob-done' || e.type === 'blob-skipped' || e.type === 'blob-mounted') onProgress({ digest: e.digest, bytesDone: e.size, bytesTotal: e.size });
      },
    });
    return { digest: result.digest };
  }

  async searchRepositories(entry: RegistryEntry, filter: string, opts: { signal?: AbortSignal; onProgress?: (p: SearchProgress) => void } = {}): Promise<SearchResult> {
    return this.client.registry(entry.server).searchRepositories(filter, presetOf(entry).search, { ...opts, maxMatches: MAX_SEARCH_MATCHES });
  }

  forget(entryId: string): void {
    const entry = this.entries().find((e) => e.id === entryId);
    this.client.forget(entry?.server);
  }

  registryFor(entry: RegistryEntry): Registry {
    return this.client.registry(entry.server);
  }

  async artifacts(entry: RegistryEntry, repository: string, digest: string, signal?: AbortSignal): Promise<ArtifactRow[]> {
    return (await listArtifacts(this.client.registry(entry.server), repository, digest, signal ? { signal } : {})).artifacts;
  }
}
