/**
 * Finding repositories by name in a whole registry, not only in the pages a tree has loaded: through a
 * registry's own search API where it has one (Harbor, Docker Hub), else by walking its catalog page by
 * page, with progress and cancel. The result says how much was searched.
 */
import type { Page } from './paging';

/** Where the names came from: the spec's catalog (every repository looked at), or a registry's search API. */
export type SearchSource = 'catalog' | 'harbor' | 'docker-hub';

export interface SearchProgress {
  /** Repository names looked at so far (catalog), or received from a search API. */
  searched: number;
  matches: number;
}

export interface SearchResult {
  matches: string[];
  /** Names looked at: every repository when `complete` and the source is the catalog. */
  searched: number;
  /** False when stopped (cancelled, or `maxMatches` reached) before the end. */
  complete: boolean;
  source: SearchSource;
}

export interface SearchOptions {
  signal?: AbortSignal;
  onProgress?: (p: SearchProgress) => void;
  /** Stop once this many names match (a filter like "a" on a huge catalog). */
  maxMatches?: number;
}

/** Case-insensitive substring; `*` matches any run of characters. An empty filter matches everything. */
export function nameMatcher(filter: string | undefined): (name: string) => boolean {
  const f = filter?.trim().toLowerCase();
  if (!f) return () => true;
  if (!f.includes('*')) return (name) => name.toLowerCase().includes(f);
  const re = new RegExp(f.split('*').map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*'));
  return (name) => re.test(name.toLowerCase());
}

/** What to send a search API for a filter: its longest part without `*` (the API matches substrings). */
export function searchTerm(filter: string): string {
  return filter.trim().split('*').reduce((a, b) => (b.length > a.length ? b : a), '');
}

/**
 * Walks `pages` keeping the names that match. Cancelling returns what was found so far with
 * `complete: false` rather than throwing, so a person sees the partial answer and how far it got.
 */
export async function searchPages(pages: AsyncIterable<Page<string>>, source: SearchSource, matches: (name: string) => boolean, opts: SearchOptions = {}): Promise<SearchResult> {
  const found: string[] = [];
  const seen = new Set<string>();
  let searched = 0;
  const result = (complete: boolean): SearchResult => ({ matches: found, searched, complete, source });
  try {
    for await (const page of pages) {
      for (const name of page.items) {
        // Registries may repeat the boundary name across pages.
        if (seen.has(name)) continue;
        seen.add(name);
        searched++;
        if (matches(name)) found.push(name);
      }
      opts.onProgress?.({ searched, matches: found.length });
      if (opts.maxMatches !== undefined && found.length >= opts.maxMatches) return result(false);
      if (opts.signal?.aborted) return result(false);
    }
  } catch (e) {
    if (opts.signal?.aborted) return result(false);
    throw e;
  }
  return result(true);
}

/** A search API's answer, turned into repository names (`project/name`). */
export interface SearchApiPage {
  items: string[];
  /** Absolute URL of the following page, where the API pages. */
  next?: string;
}

/** Harbor's `GET /api/v2.0/search?q=` body: projects and repositories whose name holds the term. */
export function harborSearchNames(body: unknown): string[] {
  const repos = (body as { repository?: unknown } | null)?.repository;
  if (!Array.isArray(repos)) return [];
  return repos.map((r) => (r as { repository_name?: unknown }).repository_name).filter((n): n is string => typeof n === 'string' && n.length > 0);
}

/**
 * Docker Hub's `GET /v2/search/repositories/?query=` body. Official images come back without a
 * namespace (`nginx`); in the registry they are `library/nginx`.
 */
export function dockerHubSearchPage(body: unknown, requestUrl: URL): SearchApiPage {
  const b = body as { results?: unknown; next?: unknown } | null;
  const results = Array.isArray(b?.results) ? b.results : [];
  const items = results
    .map((r) => (r as { repo_name?: unknown }).repo_name)
    .filter((n): n is string => typeof n === 'string' && n.length > 0)
    .map((n) => (n.includes('/') ? n : `library/${n}`));
  return { items, ...(typeof b?.next === 'string' && b.next ? { next: new URL(b.next, requestUrl).toString() } : {}) };
}
