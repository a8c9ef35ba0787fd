import type { CommandSpec } from './command';
import { askPushTarget, pushTo } from './pushFlow';
import { localImageFrom } from './pickers';

/** Right-click on a local image: pick registry, repository and tag, tag it for there, and push, in one step. */
export const retagAndPush: CommandSpec = {
  id: 'berth.localImage.retagAndPush',
  async run(deps, node) {
    const image = await localImageFrom(deps, node, 'Retag and Push');
    const { registry, target } = await askPushTarget(deps, image);
    await pushTo(deps, image, registry, target);
  },
};
