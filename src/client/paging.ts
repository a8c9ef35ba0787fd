/**
 * Pages of a listing (catalog, tags, Docker Hub repositories). A page carries an opaque `next` cursor
 * a tree can keep in its "Load more…" node and hand back later; `pages()` walks them all lazily.
 */

export interface Page<T> {
  items: T[];
  /** Pass to the same listing to get the following page; absent on the last page. */
  next?: PageCursor;
}

/** Where the next page is: the absolute URL to fetch (the registry's own `Link`, host and query kept). */
export interface PageCursor {
  url: string;
  /**
   * The registry pages with `Link`: a later page without one is the last, even when full. Without
   * it, a full page is continued with `last`, for registries that page but send no `Link`.
   */
  linked?: boolean;
}

/**
 * The `rel="next"` target of an RFC 5988/8288 `Link` header, resolved against the request URL so
 * the registry's host and query (including its own parameters) are kept as given.
 */
export function nextLink(header: string | undefined, requestUrl: URL): URL | undefined {
  if (!header) return undefined;
  // Links are comma-separated, but a URL may itself contain commas: split on commas before '<'.
  for (const part of header.split(/,(?=\s*<)/)) {
    const m = /^\s*<([^>]*)>\s*(.*)$/.exec(part);
    if (!m) continue;
    const params = m[2] ?? '';
    const rel = /(?:^|;)\s*rel\s*=\s*(?:"([^"]*)"|([^;\s]+))/i.exec(params);
    const rels = (rel?.[1] ?? rel?.[2] ?? '').toLowerCase().split(/\s+/);
    if (rels.includes('next')) {
      try {
        return new URL(m[1] ?? '', requestUrl);
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}

/**
 * The following page when a registry sends no `Link`: only if the page was full (exactly `n`
 * items), continue after its last item with `last`, as the spec's older pagination did.
 */
export function fallbackNext(requestUrl: URL, items: string[], pageSize: number): URL | undefined {
  const last = items[items.length - 1];
  if (last === undefined || items.length !== pageSize) return undefined;
  const next = new URL(requestUrl);
  next.searchParams.set('n', String(pageSize));
  next.searchParams.set('last', last);
  return next;
}

/** Walks pages one at a time: only one page is held in memory. */
export async function* walkPages<T>(first: () => Promise<Page<T>>, following: (cursor: PageCursor) => Promise<Page<T>>, maxPages = 1_000_000): AsyncGenerator<Page<T>> {
  let page = await first();
  yield page;
  let previous = '';
  for (let i = 1; page.next && i < maxPages; i++) {
    // A registry whose next link does not move on would loop forever.
    if (page.next.url === previous) return;
    previous = page.next.url;
    page = await following(page.next);
    yield page;
  }
}

/** Items of every page, one at a time. */
export async function* walkItems<T>(pages: AsyncIterable<Page<T>>): AsyncGenerator<T> {
  for await (const page of pages) yield* page.items;
}
