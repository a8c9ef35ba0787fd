import type { CommandSpec } from './command';

export const refreshLocalImages: CommandSpec = {
  id: 'berth.localImages.refresh',
  async run(deps) {
    deps.tree.refreshLocalImages();
  },
};
