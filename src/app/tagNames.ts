/**
 * A repository's tag names, every page of `/tags/list` in turn: the tree orders the whole list, and
 * the pick lists offer it with `latest` first wherever the registry lists it.
 */
import { isRegistryError } from '../client/errors';
import type { Page, RegistryApi } from './ports';
import type { RegistryEntry } from './registryEntry';

/** Names asked for per request by default: 10,000 tags take ten requests. */
export const TAG_NAMES_PER_REQUEST = 1000;
/** What the distribution spec says every registry should serve per request. */
const SPEC_TAGS_PER_REQUEST = 100;
/** A bound on the walk, against a registry whose pages never end. */
const MAX_PAGES = 1000;

export interface TagNames {
  names: string[];
  /** False when the walk stopped at `maxTags` (or the page bound) with more to read. */
  complete: boolean;
  /** Reading failed part-way: `names` holds what was read before. */
  error?: unknown;
}

export async function readTagNames(
  api: RegistryApi, entry: RegistryEntry, repository: string,
  opts: { perRequest?: number; maxTags?: number } = {},
): Promise<TagNames> {
  const names: string[] = [];
  const maxTags = opts.maxTags ?? Infinity;
  let perRequest = opts.perRequest ?? TAG_NAMES_PER_REQUEST;
  const seen = new Set<string>();
  let cursor: string | undefined;
  try {
    for (let page = 0; page < MAX_PAGES; page++) {
      let p: Page;
      try {
        p = await api.tags(entry, repository, cursor, perRequest);
      } catch (err) {
        // Some registries refuse more than the spec's 100 per request (Quay did for a while): ask for 100.
        if (page > 0 || perRequest <= SPEC_TAGS_PER_REQUEST || !isRegistryError(err, 'bad-request')) throw err;
        perRequest = SPEC_TAGS_PER_REQUEST;
        p = await api.tags(entry, repository, cursor, perRequest);
      }
      names.push(...p.items);
      // A registry whose next page does not move on would be read forever.
      if (!p.next || seen.has(p.next)) return { names: names.slice(0, maxTags), complete: names.length <= maxTags };
      if (names.length >= maxTags) return { names: names.slice(0, maxTags), complete: false };
      seen.add(p.next);
      cursor = p.next;
    }
    return { names, complete: false };
  } catch (error) {
    return { names: names.slice(0, maxTags), complete: false, error };
  }
}
