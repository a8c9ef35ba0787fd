/**
 * The Registries tree's data, without vscode: fetches pages through the registry API, keeps what
 * was fetched per parent, and says which element changed. getChildren never throws and never
 * shows a message: failures become error nodes. registriesProvider.ts adapts it to VS Code.
 */
import type { LocalRegistryControl, RegistryApi, RegistryStore, Settings } from '../app/ports';
import { readTagNames } from '../app/tagNames';
import type { SearchResult } from '../client/search';
import { nameMatcher } from '../client/search';
import type { ArtifactRow } from '../image/artifacts';
import type { Manifest } from '../oci/types';
import { Debouncer } from './debounce';
import { Disposable, Emitter } from '../app/lifecycle';
import {
  isRegistryNode,
  nodeId,
  type ArtifactNode,
  type ManifestNode,
  type RegistryNode,
  type RegistryTreeNode,
  type RepositoryNode,
  type TagNode,
} from './nodes';
import { isLocalEntry, LOCAL_REGISTRY_ID, type RegistryEntry } from '../app/registryEntry';
import {
  appendPage,
  errorNode,
  failListing,
  localStateChildren,
  manifestNode,
  platformChildren,
  repositoryChildren,
  revealMore,
  searchChildren,
  shownTags,
  tagChildren,
  tagListing,
  type Listing,
  type TagListing,
} from './treeModel';
import { ManifestCache } from '../app/manifestCache';
import { runPool } from '../oci/pool';

/** How long a repository must be quiet after a registry event before its node is refreshed. */
const EVENT_QUIET_MS = 300;

/** At most this many tags are dated (or platform manifests read) at once. */
const CREATED_FETCH_CONCURRENCY = 6;

export interface RegistryTreeDataDeps {
  store: RegistryStore;
  local: LocalRegistryControl;
  settings: Settings;
  registry(): Promise<RegistryApi>;
}

export class RegistryTreeData extends Disposable {
  private readonly changed = this.register(new Emitter<RegistryTreeNode | undefined>());
  /** The element whose children changed (the same object VS Code was given), or undefined for all. */
  readonly onDidChange = this.changed.event;

  private readonly registryNodes = new Map<string, RegistryNode>();
  private readonly listings = new Map<string, Listing>();
  private readonly manifests = new Map<string, ManifestNode | unknown>();
  /** Per repository: every tag name, and how many are shown. Dropped on refresh. */
  private readonly tagListings = new Map<string, TagListing>();
  /** Per repository, the tags dated since its last refresh: created time (when known) and digest. */
  private readonly created = new Map<string, Map<string, number>>();
  private readonly tagDigests = new Map<string, Map<string, string>>();
  /** The dating in progress per repository. */
  private readonly dating = new Map<string, Promise<void>>();
  /** Manifests and dates by digest: kept across refreshes (a digest's content never changes). */
  private readonly manifestCache = new ManifestCache();
  /** The last element object handed out per id: VS Code refreshes by object identity. */
  private readonly known = new Map<string, RegistryTreeNode>();
  private readonly filters = new Map<string, string>();
  /** What a search of the whole registry found for its current filter. */
  private readonly searches = new Map<string, SearchResult | { failed: unknown }>();
  /** Registry events come in bursts (one per layer and manifest): refresh once per repository. */
  private readonly debounce = this.register(new Debouncer<string>(EVENT_QUIET_MS));
  /** When each first page was asked for: a listing asked for after a change already shows it. */
  private readonly fetchedAtMs = new Map<string, number>();
  /** The latest change time per repository in the current burst of events. */
  private readonly changedAtMs = new Map<string, number>();
  /** Per registry, the catalog's repositories found with no tags: the tree does not list them. */
  private readonly emptyRepositories = new Map<string, Set<string>>();
  /** Per registry, the hidden empty repositories to look at again when a listing next shows them (after a refresh). */
  private readonly recheckEmpty = new Map<string, Set<string>>();
  /** Tag filters, per `registryId/repository`. */
  private readonly tagFilters = new Map<string, string>();

  constructor(private readonly deps: RegistryTreeDataDeps) {
    super();
    this.register(deps.store.onDidChange(() => this.refresh()));
    this.register(
      deps.local.onDidChangeState((status) => {
        const node = this.registryNodes.get(LOCAL_REGISTRY_ID);
        if (!node) return this.refresh();
        // VS Code re-reads the same element object: its state must be current before the refresh.
        node.local = status;
        node.registry = deps.local.entry();
        this.refresh(node);
      }),
    );
  }

  async getChildren(node?: RegistryTreeNode): Promise<RegistryTreeNode[]> {
    const children = await this.childrenOf(node);
    for (const c of children) this.known.set(nodeId(c), c);
    return children;
  }

  /** The element last shown under this id, if any (for event-driven refreshes). */
  findById(id: string): RegistryTreeNode | undefined {
    return this.known.get(id);
  }

  private async childrenOf(node?: RegistryTreeNode): Promise<RegistryTreeNode[]> {
    if (!node) return this.roots();
    switch (node.kind) {
      case 'registry':
        return this.registryChildren(node);
      case 'repository':
        return this.repositoryChildren(node);
      case 'tag':
        return this.tagChildren(node);
      case 'manifest':
        return this.manifestChildren(node);
      case 'referrers':
        return node.artifacts.map((artifact): ArtifactNode => ({ kind: 'artifact', parent: node, artifact }));
      default:
        return [];
    }
  }

  private roots(): RegistryNode[] {
    const status = this.deps.local.status();
    const remote = this.deps.store.list().filter((e) => !isLocalEntry(e));
    // An empty tree shows the welcome (connect, start local, import) until there is something to show.
    if (remote.length === 0 && status.state === 'stopped' && !this.registryNodes.has(LOCAL_REGISTRY_ID)) return [];
    const nodes = [this.registryNode(this.deps.local.entry(), true)];
    const seen = new Set([LOCAL_REGISTRY_ID]);
    for (const entry of remote) {
      nodes.push(this.registryNode(entry, false));
      seen.add(entry.id);
    }
    for (const id of [...this.registryNodes.keys()]) if (!seen.has(id)) this.registryNodes.delete(id);
    return nodes;
  }

  private registryNode(entry: RegistryEntry, local: boolean): RegistryNode {
    let node = this.registryNodes.get(entry.id);
    if (!node) {
      node = { kind: 'registry', registry: entry };
      this.registryNodes.set(entry.id, node);
    }
    node.registry = entry;
    if (local) node.local = this.deps.local.status();
    const filter = this.filters.get(entry.id);
    if (filter) node.filter = filter;
    else delete node.filter;
    return node;
  }

  private async registryChildren(node: RegistryNode): Promise<RegistryTreeNode[]> {
    const stateChildren = localStateChildren(node);
    if (stateChildren) return stateChildren;
    const filter = this.filters.get(node.registry.id);
    if (filter) {
      const search = await this.search(node, filter);
      if (search) return this.withTagFilters(node, searchChildren(node, filter, search, this.deps.store.rememberedRepositories(node.registry.id)));
    }
    const listing = await this.firstPage(node, () => this.fetchRepositories(node, undefined));
    node.noCatalog = listing.noCatalog !== undefined;
    await this.recheckHidden(node, listing.items);
    return this.withTagFilters(node, this.withoutEmpty(node, repositoryChildren(node, listing, this.deps.store.rememberedRepositories(node.registry.id))));
  }

  /** Marks the repositories whose tags are filtered, so their rows say so. */
  private withTagFilters(node: RegistryNode, children: RegistryTreeNode[]): RegistryTreeNode[] {
    for (const c of children) {
      const filter = c.kind === 'repository' ? this.tagFilters.get(`${node.registry.id}/${c.name}`) : undefined;
      if (c.kind === 'repository' && filter) c.tagFilter = filter;
    }
    return children;
  }

  /**
   * Drops the repositories known to have no tags. Distribution's catalog lists a repository as long as
   * its folder exists, so one whose last tag was deleted stays in the catalog; people expect it gone.
   * Repositories added by hand stay: the person named them.
   */
  private withoutEmpty(node: RegistryNode, children: RegistryTreeNode[]): RegistryTreeNode[] {
    const empty = this.emptyRepositories.get(node.registry.id);
    if (!empty?.size) return children;
    const kept = children.filter((c) => !(c.kind === 'repository' && !c.remembered && empty.has(c.name)));
    if (kept.length === 0) kept.push({ kind: 'message', parent: node, severity: 'info', message: 'No repositories with tags' });
    return kept;
  }

  /** After a refresh, looks again at the hidden empty repositories still listed: one may have been pushed to since. */
  private async recheckHidden(node: RegistryNode, listed: readonly string[]): Promise<void> {
    const id = node.registry.id;
    const empty = this.emptyRepositories.get(id);
    const todo = this.recheckEmpty.get(id);
    if (!empty?.size || !todo?.size) return;
    const api = await this.deps.registry();
    for (const name of listed.filter((n) => todo.has(n))) {
      todo.delete(name);
      if (!empty.has(name)) continue;
      try {
        const page = await api.tags(node.registry, name, undefined, 1);
        if (page.items.length > 0 || page.next) empty.delete(name);
      } catch {
        // Unreadable now: show it, so the error shows when it is opened.
        empty.delete(name);
      }
    }
  }

  /** A repository left without tags (its last one deleted): stop listing it until something is pushed to it. */
  repositoryEmptied(registryId: string, repository: string): void {
    this.markEmpty(registryId, repository, true);
  }

  private markEmpty(registryId: string, repository: string, empty: boolean): void {
    const set = this.emptyRepositories.get(registryId) ?? new Set<string>();
    this.emptyRepositories.set(registryId, set);
    if (empty === set.has(repository)) return;
    if (empty) set.add(repository);
    else set.delete(repository);
    const registry = this.registryNodes.get(registryId);
    if (registry) this.changed.fire(registry);
  }

  /** Shows only the tags of a repository that match `filter` (`*` matches anything); undefined shows all. */
  setTagFilter(registryId: string, repository: string, filter: string | undefined): void {
    const key = `${registryId}/${repository}`;
    if (filter?.trim()) this.tagFilters.set(key, filter.trim());
    else this.tagFilters.delete(key);
    const registry = this.registryNodes.get(registryId);
    const shown = registry ? this.known.get(`${nodeId(registry)}/${repository}`) : undefined;
    if (shown?.kind === 'repository') {
      // VS Code redraws the same element object: its row must say the filter before the refresh.
      if (filter?.trim()) shown.tagFilter = filter.trim();
      else delete shown.tagFilter;
    }
    this.refresh(shown ?? registry);
  }

  tagFilterOf(registryId: string, repository: string): string | undefined {
    return this.tagFilters.get(`${registryId}/${repository}`);
  }

  /**
   * The search for `filter` across the whole registry, run here when the filter command did not hand one
   * over (after a refresh). Undefined where the registry cannot be searched (no catalog): the names added
   * by hand are filtered instead.
   */
  private async search(node: RegistryNode, filter: string): Promise<SearchResult | undefined> {
    const id = node.registry.id;
    let search = this.searches.get(id);
    if (!search) {
      try {
        search = await (await this.deps.registry()).searchRepositories(node.registry, filter);
      } catch (err) {
        search = { failed: err };
      }
      // The filter may have changed while the search ran.
      if (this.filters.get(id) !== filter) return undefined;
      this.searches.set(id, search);
    }
    return 'failed' in search ? undefined : search;
  }

  /** The pages fetched so far under `node`, fetching the first one when there are none. */
  private async firstPage(node: RegistryNode | RepositoryNode, fetch: () => Promise<Listing>): Promise<Listing> {
    const id = nodeId(node);
    const cached = this.listings.get(id);
    if (cached) return cached;
    this.fetchedAtMs.set(id, Date.now());
    const listing = await fetch();
    this.listings.set(id, listing);
    return listing;
  }

  private async fetchRepositories(node: RegistryNode, previous: Listing | undefined): Promise<Listing> {
    try {
      const api = await this.deps.registry();
      const page = await api.repositories(node.registry, previous?.next, this.deps.settings.pageSize());
      if ('noCatalog' in page) return { items: [], noCatalog: page.noCatalog };
      return appendPage(previous, page);
    } catch (err) {
      return failListing(previous, err);
    }
  }

  private async repositoryChildren(node: RepositoryNode): Promise<RegistryTreeNode[]> {
    const id = nodeId(node);
    const order = this.deps.settings.tagOrder();
    let listing = this.tagListings.get(id);
    if (!listing) {
      this.fetchedAtMs.set(id, Date.now());
      listing = await this.fetchTagListing(node);
    } else if (listing.order !== order) {
      listing = { ...tagListing(listing.ordered, order, listing.shown), ...(listing.error !== undefined ? { error: listing.error } : {}) };
    }
    this.tagListings.set(id, listing);
    if (listing.error === undefined && !node.remembered) {
      // Re-rendering the registry drops (or brings back) the row; not while VS Code is still reading this one.
      const empty = listing.ordered.length === 0;
      queueMicrotask(() => this.markEmpty(node.parent.registry.id, node.name, empty));
    }
    const filter = this.tagFilters.get(`${node.parent.registry.id}/${node.name}`);
    const matching = filter ? listing.ordered.filter(nameMatcher(filter)) : listing.ordered;
    const shown: TagListing = filter ? { ...listing, ordered: matching, shown: Math.min(matching.length, listing.shown) } : listing;
    if (order === 'newest') await this.dateTags(node, shownTags(shown));
    const children = tagChildren(node, shown, this.created.get(id));
    if (!filter) return children;
    const summary: RegistryTreeNode = { kind: 'message', parent: node, severity: 'info', message: `${matching.length} of ${listing.ordered.length} tags match "${filter}"`,
      // Clicking the count changes or clears the filter.
      action: { title: 'Filter Tags…', command: 'berth.repository.filterTags' } };
    return [summary, ...children.filter((c) => c.kind !== 'message' || c.severity !== 'info')];
  }

  /**
   * Every tag of the repository: ordering needs the whole list, and names are cheap (one request
   * per thousand). A failure part-way keeps the names read so far and shows below them.
   */
  private async fetchTagListing(node: RepositoryNode): Promise<TagListing> {
    const order = this.deps.settings.tagOrder();
    const pageSize = this.deps.settings.pageSize();
    try {
      const read = await readTagNames(await this.deps.registry(), node.parent.registry, node.name);
      return tagListing(read.names, order, pageSize, read.error);
    } catch (err) {
      return tagListing([], order, pageSize, err);
    }
  }

  /**
   * Dates the tags shown and not dated since the last refresh (see ManifestCache.tagDate for what
   * each costs); a tag whose manifest or config cannot be read stays undated and still shows.
   */
  private dateTags(node: RepositoryNode, tags: readonly string[]): Promise<void> {
    // One dating at a time per repository: rows asked for twice (an expand and an event) are dated once.
    const id = nodeId(node);
    // A failure (no client) leaves the tags undated; they still show.
    const run = (this.dating.get(id) ?? Promise.resolve()).then(() => this.dateUndated(node, tags)).catch(() => undefined);
    this.dating.set(id, run);
    void run.then(() => {
      if (this.dating.get(id) === run) this.dating.delete(id);
    });
    return run;
  }

  private async dateUndated(node: RepositoryNode, tags: readonly string[]): Promise<void> {
    const id = nodeId(node);
    const dates = this.created.get(id) ?? new Map<string, number>();
    const digests = this.tagDigests.get(id) ?? new Map<string, string>();
    this.created.set(id, dates);
    this.tagDigests.set(id, digests);
    const todo = tags.filter((t) => !digests.has(t));
    if (todo.length === 0) return;
    const api = await this.deps.registry();
    const entry = node.parent.registry;
    await runPool(todo, CREATED_FETCH_CONCURRENCY, async (tag) => {
      try {
        const dated = await this.manifestCache.tagDate(api, entry, node.name, tag);
        digests.set(tag, dated.digest);
        if (dated.createdMs !== undefined) dates.set(tag, dated.createdMs);
      } catch {
        // Undated tags sort after dated ones; the tag itself still shows.
      }
    });
  }

  /** A manifest's platforms (with their image sizes), then the Referrers group when anything refers to it. */
  private async manifestChildren(node: ManifestNode): Promise<RegistryTreeNode[]> {
    const repository = node.parent.parent;
    const lookup = async (): Promise<ArtifactRow[] | { failed: unknown }> => {
      try {
        return await (await this.deps.registry()).artifacts(repository.parent.registry, repository.name, node.digest);
      } catch (err) {
        return { failed: err };
      }
    };
    const [manifests, artifacts] = await Promise.all([this.platformManifests(node), lookup()]);
    const platforms = platformChildren(node, manifests);
    // A registry that refuses the lookup still shows the platforms.
    if ('failed' in artifacts) return [...platforms, errorNode(node, repository.parent, artifacts.failed)];
    if (artifacts.length) return [...platforms, { kind: 'referrers', parent: node, artifacts }];
    if (platforms.length) return platforms;
    return [{ kind: 'message', parent: node, severity: 'info', message: 'No signatures, SBOMs or attestations refer to it' }];
  }

  /**
   * The manifests of an index's platforms, for their image sizes: read when the platform rows are
   * shown, a few at once, and kept by digest (so expanding again reads nothing). One that cannot be
   * read leaves its row without a size.
   */
  private async platformManifests(node: ManifestNode): Promise<Map<string, Manifest>> {
    const out = new Map<string, Manifest>();
    const platforms = node.platforms ?? [];
    if (platforms.length === 0) return out;
    const repository = node.parent.parent;
    try {
      const api = await this.deps.registry();
      await runPool(platforms, CREATED_FETCH_CONCURRENCY, async (p) => {
        try {
          out.set(p.digest, (await this.manifestCache.manifest(api, repository.parent.registry, repository.name, p.digest)).manifest);
        } catch {
          // The row still shows its platform and digest.
        }
      });
    } catch {
      // Without a client the rows show without sizes; the referrers lookup reports the failure.
    }
    return out;
  }

  private async tagChildren(node: TagNode): Promise<RegistryTreeNode[]> {
    const id = nodeId(node);
    let cached = this.manifests.get(id);
    if (cached === undefined) {
      try {
        const api = await this.deps.registry();
        const entry = node.parent.parent.registry;
        // Dated since the last refresh: the tag's digest is fresh, and its manifest is likely kept.
        const digest = this.tagDigests.get(nodeId(node.parent))?.get(node.tag);
        const fetched = digest !== undefined
          ? await this.manifestCache.manifest(api, entry, node.parent.name, digest)
          : await this.manifestCache.manifestOfTag(api, entry, node.parent.name, node.tag);
        cached = manifestNode(node, fetched);
      } catch (err) {
        cached = { failed: err };
      }
      this.manifests.set(id, cached);
    }
    if (typeof cached === 'object' && cached !== null && 'failed' in cached) {
      // A failure is not cached: expanding again retries.
      this.manifests.delete(id);
      return [errorNode(node, node.parent.parent, (cached as { failed: unknown }).failed)];
    }
    return [cached as ManifestNode];
  }

  async loadMore(node: RegistryTreeNode): Promise<void> {
    const parent = node.kind === 'loadMore' ? node.parent : node;
    if (parent.kind !== 'registry' && parent.kind !== 'repository') return;
    const id = nodeId(parent);
    if (parent.kind === 'repository') {
      // The whole list is already read: the next page of it is revealed (and dated, for `newest`, when shown).
      const tags = this.tagListings.get(id);
      if (tags) this.tagListings.set(id, revealMore(tags, this.deps.settings.pageSize()));
    } else {
      this.listings.set(id, await this.fetchRepositories(parent, this.listings.get(id)));
    }
    this.changed.fire(parent);
  }

  setFilter(registryId: string, filter: string | undefined, search?: SearchResult): void {
    if (filter?.trim()) this.filters.set(registryId, filter.trim());
    else this.filters.delete(registryId);
    if (search && filter?.trim()) this.searches.set(registryId, search);
    else this.searches.delete(registryId);
    const node = this.registryNodes.get(registryId);
    if (node) {
      if (filter?.trim()) node.filter = filter.trim();
      else delete node.filter;
      this.changed.fire(node);
    }
  }

  filterOf(registryId: string): string | undefined {
    return this.filters.get(registryId);
  }

  /**
   * A repository changed (a registry event): refresh its node if it is shown, else its
   * registry (a new repository appears).
   */
  refreshRepository(registryId: string, repository: string, changedAtMs?: number): void {
    const key = `${registryId}/${repository}`;
    if (changedAtMs !== undefined && Number.isFinite(changedAtMs)) this.changedAtMs.set(key, Math.max(changedAtMs, this.changedAtMs.get(key) ?? 0));
    else this.changedAtMs.set(key, Infinity);
    this.debounce.run(key, () => {
      const latest = this.changedAtMs.get(key) ?? Infinity;
      this.changedAtMs.delete(key);
      const registry = this.registryNodes.get(registryId);
      if (!registry) return;
      if (this.emptyRepositories.get(registryId)?.has(repository)) {
        // A hidden empty repository changed: the registry's listing looks at its tags again and shows it if it has any.
        this.refresh(registry);
        return;
      }
      const target = this.known.get(`${nodeId(registry)}/${repository}`) ?? registry;
      // Someone (a person's refresh, an expand) already listed it after the change: re-rendering
      // would only move rows under their pointer.
      const fetchedAt = this.fetchedAtMs.get(nodeId(target));
      const listed = this.listings.has(nodeId(target)) || this.tagListings.has(nodeId(target));
      if (fetchedAt !== undefined && listed && fetchedAt > latest) return;
      this.refresh(target);
    });
  }

  /** Drops what was fetched under `node` (or everything) and tells VS Code to ask again. */
  refresh(node?: unknown): void {
    const target = node !== undefined && typeof node === 'object' && node !== null && 'kind' in node ? (node as RegistryTreeNode) : undefined;
    if (!target) {
      for (const [id, empty] of this.emptyRepositories) this.recheckEmpty.set(id, new Set(empty));
      this.searches.clear();
      this.listings.clear();
      this.manifests.clear();
      this.tagListings.clear();
      this.created.clear();
      this.tagDigests.clear();
      this.changed.fire(undefined);
      return;
    }
    // Refreshing a "Load more…" or message node refreshes the list it belongs to.
    const refreshable = target.kind === 'loadMore' || target.kind === 'message' || target.kind === 'platform' ? target.parent : target;
    const prefix = nodeId(refreshable);
    if (isRegistryNode(refreshable)) {
      this.searches.delete(refreshable.registry.id);
      this.recheckEmpty.set(refreshable.registry.id, new Set(this.emptyRepositories.get(refreshable.registry.id)));
    }
    // A tag refreshed on its own may have moved: its digest is asked again, not taken from the last dating.
    if (refreshable.kind === 'tag') this.tagDigests.get(nodeId(refreshable.parent))?.delete(refreshable.tag);
    for (const map of [this.listings, this.manifests, this.tagListings, this.created, this.tagDigests] as Array<Map<string, unknown>>) {
      for (const key of [...map.keys()]) if (key === prefix || key.startsWith(prefix + '/') || key.startsWith(prefix + ':') || key.startsWith(prefix + '@')) map.delete(key);
    }
    this.changed.fire(isRegistryNode(refreshable) ? (this.registryNodes.get(refreshable.registry.id) ?? refreshable) : refreshable);
  }
}
