import type { CommandSpec } from './command';

export const localStop: CommandSpec = {
  id: 'berth.local.stop',
  async run(deps) {
    await deps.local.stop();
  },
};
