/**
 * The ports: the narrow services views and commands use, so neither depends on how the client,
 * credentials and engine layers are built, nor on each other. extension.ts wires the real modules
 * in (clientRegistryApi.ts, registryStore.ts, local/, engine/); nothing here imports `vscode`.
 */
import type { SearchProgress, SearchResult } from '../client/search';
import type { Engine } from '../engine/engine';
import type { Registry } from '../client/registryClient';
import type { ArtifactRow } from '../image/artifacts';
import type { Manifest } from '../oci/types';
import type { DisposableLike } from './lifecycle';
import type { RegistryEntry } from './registryEntry';

export type LocalRegistryState = 'stopped' | 'starting' | 'running' | 'stopping' | 'failed';

/** The embedded registry's state as the tree and the status bar show it. */
export interface LocalStatus {
  state: LocalRegistryState;
  port?: number;
  /** Why it failed, in words a person can act on. */
  message?: string;
  /** Failed after it had been running (it exited on its own), rather than failing to start. */
  crashed?: boolean;
}

/** One page of a catalog or tag list; `next` is the opaque cursor of the following page. */
export interface Page {
  items: string[];
  next?: string;
}

export interface ManifestHead {
  digest: string;
  mediaType: string;
  size: number;
}

export interface FetchedManifest extends ManifestHead {
  manifest: Manifest;
}

/** Read-only documents on the `berth:` scheme (a TextDocumentContentProvider in views/documents.ts). */
export interface Docs {
  /** Stores the content and returns the document's URI. */
  put(path: string, content: string): string;
}

export interface Log {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
  show(): void;
}

export interface RegistryCredentials {
  username?: string;
  /** Password or token. */
  password?: string;
  identityToken?: string;
  email?: string;
}

/** The registries the user connected (entries in the Memento, secrets in SecretStorage). */
export interface RegistryStore {
  list(): RegistryEntry[];
  get(id: string): RegistryEntry | undefined;
  /** Saves the entry; credentials go to SecretStorage only (undefined keeps what is stored). */
  save(entry: RegistryEntry, credentials?: RegistryCredentials): Promise<void>;
  remove(id: string): Promise<void>;
  credentials(id: string): Promise<RegistryCredentials | undefined>;
  /** Repository names added by hand (registries without a catalog). */
  rememberedRepositories(id: string): string[];
  rememberRepository(id: string, name: string): Promise<void>;
  readonly onDidChange: (listener: () => void) => DisposableLike;
}

export interface ManifestWithBytes extends FetchedManifest {
  bytes: Uint8Array;
}

export interface ImageConfigInfo {
  created?: string;
  os?: string;
  architecture?: string;
  raw: unknown;
}

export interface CopyProgress {
  /** Digest of the blob or manifest being copied. */
  digest: string;
  bytesDone: number;
  bytesTotal?: number;
}

export interface ImageLocation {
  registry: RegistryEntry;
  repository: string;
  /** Tag or digest. */
  reference: string;
}

/** Registry operations; every call may throw an error with a `kind` (see problems.ts). */
export interface RegistryApi {
  check(entry: RegistryEntry, credentials: RegistryCredentials, signal?: AbortSignal): Promise<void>;
  repositories(entry: RegistryEntry, cursor: string | undefined, pageSize: number, signal?: AbortSignal): Promise<Page | { noCatalog: string }>;
  tags(entry: RegistryEntry, repository: string, cursor: string | undefined, pageSize: number, signal?: AbortSignal): Promise<Page>;
  manifest(entry: RegistryEntry, repository: string, reference: string, signal?: AbortSignal): Promise<ManifestWithBytes>;
  /** A manifest's digest, type and size without its body (a HEAD; a GET where the registry's HEAD omits the digest). */
  headManifest(entry: RegistryEntry, repository: string, reference: string, signal?: AbortSignal): Promise<ManifestHead>;
  /** The config of a manifest already fetched (for an index, of its default platform): no second fetch of the manifest. */
  imageConfig(entry: RegistryEntry, repository: string, manifest: FetchedManifest, signal?: AbortSignal): Promise<ImageConfigInfo | undefined>;
  deleteTag(entry: RegistryEntry, repository: string, tag: string): Promise<void>;
  deleteManifest(entry: RegistryEntry, repository: string, digest: string): Promise<void>;
  retag(entry: RegistryEntry, repository: string, reference: string, newTag: string): Promise<void>;
  copy(from: ImageLocation, to: ImageLocation, onProgress: (p: CopyProgress) => void, signal?: AbortSignal): Promise<{ digest: string }>;
  /**
   * Repositories matching `filter` in the whole registry, the way its preset searches (a search API, or
   * the whole catalog page by page). Cancelling returns what was found so far, marked incomplete.
   */
  searchRepositories(entry: RegistryEntry, filter: string, opts?: { signal?: AbortSignal; onProgress?: (p: SearchProgress) => void }): Promise<SearchResult>;
  /** Forget cached tokens (after credentials change). */
  forget(entryId: string): void;
  /** The client's `Registry` for an entry, for features built directly on src/client and src/image. */
  registryFor(entry: RegistryEntry): Registry;
  /** Signatures, SBOMs, attestations and other artifacts that refer to `digest` (src/image/artifacts.ts). */
  artifacts(entry: RegistryEntry, repository: string, digest: string, signal?: AbortSignal): Promise<ArtifactRow[]>;
}

/** The engine operations commands use (src/engine's Engine; dockerode loads on first use). */
export type EngineApi = Pick<Engine, 'listImages' | 'inspectImage' | 'tag' | 'remove' | 'push' | 'pull' | 'address' | 'watchImages' | 'build'>;

/** The embedded registry, as commands and views see it. */
export interface LocalRegistryControl {
  status(): LocalStatus;
  entry(): RegistryEntry;
  start(): Promise<void>;
  stop(): Promise<void>;
  restart(): Promise<void>;
  storagePath(): string;
  showLogs(): void;
  gc(dryRun: boolean): Promise<string>;
  readonly onDidChangeState: (listener: (s: LocalStatus) => void) => DisposableLike;
}

export interface TreeControl {
  /** Re-fetch one node's children (or everything). */
  refresh(node?: unknown): void;
  loadMore(node: unknown): Promise<void>;
  /** Filters a registry's repositories; `search` is what a search of the whole registry found for it. */
  setFilter(registryId: string, filter: string | undefined, search?: SearchResult): void;
  filterOf(registryId: string): string | undefined;
  /** Shows only a repository's tags that match `filter` (`*` matches anything); undefined shows all. */
  setTagFilter(registryId: string, repository: string, filter: string | undefined): void;
  tagFilterOf(registryId: string, repository: string): string | undefined;
  /** A repository left without tags: the tree stops listing it until something is pushed to it. */
  repositoryEmptied(registryId: string, repository: string): void;
  refreshLocalImages(): void;
}

export interface Settings {
  tagOrder(): 'newest' | 'semver' | 'name';
  pageSize(): number;
  notifyOnPush(): boolean;
  /** Saves berth.localRegistry.port; returns where, in words ("User settings"). */
  setLocalPort(port: number): Promise<string>;
}
