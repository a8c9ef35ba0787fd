import type { CommandSpec } from './command';
import { digestOf } from './imageCommon';
import { imageFrom } from './pickers';
import { copyAndSay } from './ui';

export const copyDigest: CommandSpec = {
  id: 'berth.tag.copyDigest',
  async run(deps, node) {
    const image = await imageFrom(deps, node, 'Copy Digest');
    await copyAndSay(deps.ui, await digestOf(deps, image), 'digest');
  },
};
