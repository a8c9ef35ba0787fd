import type { CommandSpec } from './command';
import { registryFrom } from './pickers';

export const filterRepositories: CommandSpec = {
  id: 'berth.registries.filter',
  async run(deps, node) {
    const registry = await registryFrom(deps, node, { includeLocal: true, title: 'Filter Repositories' });
    const current = deps.tree.filterOf(registry.registry.id);
    const filter = await deps.ui.input({
      title: `Filter repositories of ${registry.registry.label}`,
      prompt: 'Text the name contains (* matches anything); empty shows all',
      value: current ?? '',
    });
    if (filter === undefined) return;
    deps.tree.setFilter(registry.registry.id, filter);
  },
};
