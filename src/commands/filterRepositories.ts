import { isRegistryError } from '../client/errors';
import { searchSummary } from '../views/treeModel';
import type { CommandSpec } from './command';
import { registryFrom } from './pickers';

/**
 * Filters a registry's repositories by searching the whole registry (its search API, or every catalog
 * page) under a cancellable progress notification, then says how much was searched.
 */
export const filterRepositories: CommandSpec = {
  id: 'berth.registries.filter',
  async run(deps, node) {
    const registry = await registryFrom(deps, node, { includeLocal: true, title: 'Filter Repositories' });
    const entry = registry.registry;
    const current = deps.tree.filterOf(entry.id);
    const input = await deps.ui.input({
      title: `Filter repositories of ${entry.label}`,
      prompt: 'Text the name contains (* matches anything); the whole registry is searched. Empty shows all',
      value: current ?? '',
    });
    if (input === undefined) return;
    const filter = input.trim();
    if (!filter) return deps.tree.setFilter(entry.id, undefined);
    const api = await deps.registry();
    let search;
    try {
      search = await deps.ui.withProgress(`Searching ${entry.label} for "${filter}"`, true, (report, signal) =>
        api.searchRepositories(entry, filter, {
          signal,
          onProgress: (p) => report({ message: `${p.searched.toLocaleString('en-US')} repositories searched, ${p.matches.toLocaleString('en-US')} found` }),
        }));
    } catch (err) {
      // No catalog to walk: the filter still narrows the repositories added by name.
      if (isRegistryError(err, 'unsupported')) return deps.tree.setFilter(entry.id, filter);
      throw err;
    }
    deps.tree.setFilter(entry.id, filter, search);
    void deps.ui.info(`${searchSummary(filter, search)} of ${entry.label}.`);
  },
};
