import type { CommandSpec } from './command';

export const loadMore: CommandSpec = {
  id: 'berth.registries.loadMore',
  async run(deps, node) {
    if (node !== undefined) await deps.tree.loadMore(node);
  },
};
