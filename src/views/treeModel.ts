/**
 * The Registries tree's shape as pure functions of what has been fetched so far, so paging,
 * "Load more…", error nodes, ordering and filtering are tested without a window or a network.
 */
import { formatPlatform, type ImageIndex, type Manifest } from '../oci/types';
import { isIndexMediaType } from '../oci/mediaTypes';
import type {
  LoadMoreNode,
  ManifestNode,
  MessageNode,
  NodeAction,
  PlatformEntry,
  PlatformNode,
  RegistryNode,
  RepositoryNode,
  TagNode,
} from './nodes';
import type { FetchedManifest, Page } from '../app/ports';
import { problemOf, type Problem } from '../app/problems';
import { revealOrder, sortTags, type TagOrder } from './tagOrder';
import { nameMatcher, type SearchResult } from '../client/search';

/** Pages fetched so far for one parent. `next` is the opaque cursor of the following page. */
export interface Listing {
  items: string[];
  next?: string;
  /** Set when the last fetch failed: the loaded items stay, the failure shows below them. */
  error?: unknown;
  /** Set when the registry has no catalog (first page only). */
  noCatalog?: string;
}

export function appendPage(listing: Listing | undefined, page: Page): Listing {
  const seen = new Set(listing?.items ?? []);
  // Registries may repeat the boundary item across pages; show it once.
  const items = [...(listing?.items ?? []), ...page.items.filter((i) => !seen.has(i))];
  return page.next ? { items, next: page.next } : { items };
}

export function failListing(listing: Listing | undefined, error: unknown): Listing {
  return { items: listing?.items ?? [], ...(listing?.next ? { next: listing.next } : {}), error };
}

export const Fix = {
  signIn: { title: 'Sign in again', command: 'berth.registry.editCredentials' },
  trust: { title: 'Trust this certificate…', command: 'berth.registry.configureTls' },
  startLocal: { title: 'Start the local registry', command: 'berth.local.start' },
  retry: { title: 'Retry', command: 'berth.registries.refresh' },
  addRepository: { title: 'Add Repository…', command: 'berth.registry.addRepository' },
  showLogs: { title: 'Show the local registry logs', command: 'berth.local.showLogs' },
} as const satisfies Record<string, NodeAction>;

/** The fix to offer for a problem, depending on which registry it came from. */
export function fixFor(problem: Problem, registry: RegistryNode): NodeAction {
  switch (problem.kind) {
    case 'unauthorized':
    case 'denied':
      return registry.local ? Fix.retry : Fix.signIn;
    case 'tls':
      return Fix.trust;
    case 'unreachable':
      return registry.local ? Fix.startLocal : Fix.retry;
    default:
      return Fix.retry;
  }
}

const PROBLEM_HEADLINES: Record<Problem['kind'], string> = {
  unauthorized: 'Not signed in (401)',
  denied: 'Access denied (403)',
  'not-found': 'Not found',
  tls: 'Certificate not trusted',
  unreachable: 'Registry unreachable',
  'not-a-registry': 'Not a container registry',
  'rate-limited': 'Rate limited: try again later',
  unsupported: 'Not supported by this registry',
  cancelled: 'Cancelled',
  unknown: 'Failed',
};

export function errorNode(parent: MessageNode['parent'], registry: RegistryNode, err: unknown): MessageNode {
  const problem = problemOf(err);
  return {
    kind: 'message',
    parent,
    severity: 'error',
    message: `${PROBLEM_HEADLINES[problem.kind]}: ${fixFor(problem, registry).title}`,
    detail: problem.message,
    action: fixFor(problem, registry),
  };
}

function loadMore(parent: RegistryNode | RepositoryNode, listing: Listing): LoadMoreNode[] {
  return listing.next && listing.error === undefined ? [{ kind: 'loadMore', parent, loaded: listing.items.length }] : [];
}

/** Case-insensitive substring; `*` matches any run of characters. */
export function matchesFilter(name: string, filter: string | undefined): boolean {
  return nameMatcher(filter)(name);
}

/** What the embedded registry shows instead of repositories when it is not running. */
export function localStateChildren(registry: RegistryNode): MessageNode[] | undefined {
  const local = registry.local;
  if (!local || local.state === 'running') return undefined;
  switch (local.state) {
    case 'starting':
      return [{ kind: 'message', parent: registry, severity: 'info', message: 'Starting…' }];
    case 'stopping':
      return [{ kind: 'message', parent: registry, severity: 'info', message: 'Stopping…' }];
    case 'failed':
      return [
        { kind: 'message', parent: registry, severity: 'error', message: `${local.crashed ? 'Stopped unexpectedly' : 'Failed to start'}: ${Fix.startLocal.title}`, detail: local.message ?? '', action: Fix.startLocal },
        { kind: 'message', parent: registry, severity: 'action', message: Fix.showLogs.title, action: Fix.showLogs },
      ];
    case 'stopped':
      return [{ kind: 'message', parent: registry, severity: 'action', message: 'Stopped: Start the local registry', action: Fix.startLocal }];
  }
}

/** Children of a registry: its repositories (filtered), or for a registry without a catalog the names the user added. */
export function repositoryChildren(registry: RegistryNode, listing: Listing, remembered: readonly string[]): Array<RepositoryNode | LoadMoreNode | MessageNode> {
  const out: Array<RepositoryNode | LoadMoreNode | MessageNode> = [];
  const filter = registry.filter;
  if (listing.noCatalog !== undefined) {
    out.push({ kind: 'message', parent: registry, severity: 'info', message: 'This registry does not list its repositories', detail: listing.noCatalog });
    for (const name of [...remembered].sort()) {
      if (matchesFilter(name, filter)) out.push({ kind: 'repository', parent: registry, name, remembered: true });
    }
    out.push({ kind: 'message', parent: registry, severity: 'action', message: Fix.addRepository.title, action: Fix.addRepository });
    return out;
  }
  const listed = new Set(listing.items);
  for (const name of listing.items) {
    if (matchesFilter(name, filter)) out.push({ kind: 'repository', parent: registry, name });
  }
  // Names added by hand stay visible even when the catalog (say, filtered by access) omits them.
  for (const name of remembered) {
    if (!listed.has(name) && matchesFilter(name, filter)) out.push({ kind: 'repository', parent: registry, name, remembered: true });
  }
  if (listing.error !== undefined) out.push(errorNode(registry, registry, listing.error));
  else if (out.length === 0 && !listing.next) {
    out.push({ kind: 'message', parent: registry, severity: 'info', message: filter ? `No repository matches "${filter}"` : 'No repositories yet' });
  }
  out.push(...loadMore(registry, listing));
  return out;
}

const count = (n: number, one: string, many = `${one}s`): string => `${n.toLocaleString('en-US')} ${n === 1 ? one : many}`;

/** How much a search covered, in words: the row above the matches and the notification after a search say it. */
export function searchSummary(filter: string, r: SearchResult): string {
  const found = r.matches.length === 0 ? `No repository matches "${filter}"` : `${count(r.matches.length, 'match', 'matches')} for "${filter}"`;
  switch (r.source) {
    case 'catalog':
      return r.complete ? `${found} in all ${count(r.searched, 'repository', 'repositories')}` : `${found} in the first ${count(r.searched, 'repository', 'repositories')} (search stopped)`;
    case 'harbor':
      return `${found} from Harbor's search`;
    case 'docker-hub':
      return r.complete ? `${found} from Docker Hub's search` : `${found} in the first ${count(r.searched, 'result')} of Docker Hub's search`;
  }
}

/** Children of a filtered registry after a search of the whole registry: what it covered, then the matches. */
export function searchChildren(registry: RegistryNode, filter: string, search: SearchResult, remembered: readonly string[]): Array<RepositoryNode | MessageNode> {
  const out: Array<RepositoryNode | MessageNode> = [{ kind: 'message', parent: registry, severity: 'info', message: searchSummary(filter, search) }];
  const found = new Set(search.matches);
  for (const name of search.matches) out.push({ kind: 'repository', parent: registry, name });
  for (const name of remembered) {
    if (!found.has(name) && matchesFilter(name, filter)) out.push({ kind: 'repository', parent: registry, name, remembered: true });
  }
  return out;
}

/**
 * A repository's whole tag list, read once (every page of `/tags/list`), then revealed a page at a
 * time in the chosen order, so the top rows do not change when more are loaded.
 */
export interface TagListing {
  /** Every tag, in the order they are revealed (revealOrder). */
  ordered: string[];
  order: TagOrder;
  /** How many of `ordered` are shown. */
  shown: number;
  /** Reading the list failed part-way: the tags read before stay, the failure shows below them. */
  error?: unknown;
}

export function tagListing(names: readonly string[], order: TagOrder, pageSize: number, error?: unknown): TagListing {
  const ordered = revealOrder([...new Set(names)], order);
  return { ordered, order, shown: Math.min(ordered.length, pageSize), ...(error !== undefined ? { error } : {}) };
}

/** The same list with the next page revealed. */
export function revealMore(listing: TagListing, pageSize: number): TagListing {
  return { ...listing, shown: Math.min(listing.ordered.length, listing.shown + pageSize) };
}

/** The tags shown so far, in reveal order (the ones `newest` needs dates for). */
export function shownTags(listing: TagListing): string[] {
  return listing.ordered.slice(0, listing.shown);
}

export function tagChildren(repository: RepositoryNode, listing: TagListing, createdMs?: ReadonlyMap<string, number>): Array<TagNode | LoadMoreNode | MessageNode> {
  const shown = shownTags(listing);
  const rows = listing.order === 'newest' ? sortTags(shown, 'newest', createdMs) : shown;
  const out: Array<TagNode | LoadMoreNode | MessageNode> = rows.map((tag) => {
    const created = createdMs?.get(tag);
    return created === undefined ? { kind: 'tag', parent: repository, tag } : { kind: 'tag', parent: repository, tag, createdMs: created };
  });
  if (listing.error !== undefined) out.push(errorNode(repository, repository.parent, listing.error));
  else if (out.length === 0) out.push({ kind: 'message', parent: repository, severity: 'info', message: 'No tags' });
  if (listing.shown < listing.ordered.length) out.push({ kind: 'loadMore', parent: repository, loaded: listing.shown, total: listing.ordered.length });
  return out;
}

/** The manifest node under a tag, with the platforms of an index and the total size of an image. */
export function manifestNode(tag: TagNode, fetched: FetchedManifest): ManifestNode {
  const node: ManifestNode = { kind: 'manifest', parent: tag, digest: fetched.digest, mediaType: fetched.mediaType, size: fetched.size };
  const m = fetched.manifest;
  if (isIndexMediaType(fetched.mediaType) || 'manifests' in m) {
    node.platforms = platformsOf(m as ImageIndex);
  } else {
    const size = imageSizeOf(m);
    if (size !== undefined) node.totalSize = size;
  }
  return node;
}

/** An image's size as a pull downloads it: its config and compressed layers (not the manifest itself). */
export function imageSizeOf(manifest: Manifest): number | undefined {
  if (!('layers' in manifest) || !('config' in manifest)) return undefined;
  return manifest.config.size + manifest.layers.reduce((sum, l) => sum + l.size, 0);
}

export function platformsOf(index: ImageIndex): PlatformEntry[] {
  return index.manifests.map((d) => ({
    // Attestations and other artifacts in an index have no platform, or `unknown/unknown`.
    platform: d.platform ? formatPlatform(d.platform) : (d.artifactType ?? 'unknown'),
    digest: d.digest,
    mediaType: d.mediaType,
    size: d.size,
  }));
}

/** One row per platform; `manifests` holds the platform manifests read so far, by digest, for their image sizes. */
export function platformChildren(manifest: ManifestNode, manifests?: ReadonlyMap<string, Manifest>): PlatformNode[] {
  return (manifest.platforms ?? []).map((p) => {
    const m = manifests?.get(p.digest);
    const imageSize = m ? imageSizeOf(m) : undefined;
    return { kind: 'platform', parent: manifest, ...p, ...(imageSize !== undefined ? { imageSize } : {}) };
  });
}
