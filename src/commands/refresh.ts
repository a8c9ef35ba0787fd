import type { CommandSpec } from './command';

export const refreshRegistries: CommandSpec = {
  id: 'berth.registries.refresh',
  async run(deps, node) {
    deps.tree.refresh(node);
  },
};
