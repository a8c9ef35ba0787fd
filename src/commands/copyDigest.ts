import type { CommandSpec } from './command';
import { digestOf } from './imageCommon';
import { imageFrom } from './pickers';

export const copyDigest: CommandSpec = {
  id: 'berth.tag.copyDigest',
  async run(deps, node) {
    const image = await imageFrom(deps, node, 'Copy Digest');
    await deps.ui.copy(await digestOf(deps, image));
  },
};
