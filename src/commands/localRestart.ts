import type { CommandSpec } from './command';
import { startLocal } from './localStart';

export const localRestart: CommandSpec = {
  id: 'berth.local.restart',
  async run(deps) {
    await deps.local.stop();
    await startLocal(deps);
  },
};
