import type { CommandSpec } from './command';

export const localShowLogs: CommandSpec = {
  id: 'berth.local.showLogs',
  async run(deps) {
    deps.local.showLogs();
  },
};
