import type { CommandSpec } from './command';
import { localPort, targetOf } from './imageCommon';
import { imageFrom } from './pickers';
import { dockerPullCommand } from './references';
import { copyAndSay } from './ui';

export const copyPullCommand: CommandSpec = {
  id: 'berth.tag.copyPullCommand',
  async run(deps, node) {
    const image = await imageFrom(deps, node, 'Copy docker pull Command');
    await copyAndSay(deps.ui, dockerPullCommand(targetOf(image), localPort(deps)), 'pull command');
  },
};
