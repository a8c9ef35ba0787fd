import type { CommandSpec } from './command';
import { localPort, targetOf } from './imageCommon';
import { imageFrom } from './pickers';
import { imageReference } from './references';

export const copyReference: CommandSpec = {
  id: 'berth.tag.copyReference',
  async run(deps, node) {
    const image = await imageFrom(deps, node, 'Copy Image Reference');
    await deps.ui.copy(imageReference(targetOf(image), localPort(deps), image.kind !== 'tag'));
  },
};
