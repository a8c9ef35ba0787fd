import type { CommandSpec } from './command';
import { localPort, targetOf } from './imageCommon';
import { imageFrom } from './pickers';
import { imageReference } from './references';
import { copyAndSay } from './ui';

export const copyReference: CommandSpec = {
  id: 'berth.tag.copyReference',
  async run(deps, node) {
    const image = await imageFrom(deps, node, 'Copy Image Reference');
    await copyAndSay(deps.ui, imageReference(targetOf(image), localPort(deps), image.kind !== 'tag'), 'image reference');
  },
};
