import { imageUri } from '../image/imageUri';
import type { CommandSpec } from './command';
import { imageAt } from './imageSession';

/** Opens an image's files as a read-only folder in the explorer (the `berth-image:` file system). */
export const browseFiles: CommandSpec = {
  id: 'berth.tag.browseFiles',
  async run(deps, node) {
    const at = await imageAt(deps, node, 'Browse Files');
    await deps.ui.addWorkspaceFolder(imageUri(at.entry.id, at.target), at.label);
  },
};
