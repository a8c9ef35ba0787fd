import type { CommandSpec } from './command';
import { copyAndSay } from './ui';

export const localOpenStorage: CommandSpec = {
  id: 'berth.local.openStorage',
  async run(deps) {
    const path = deps.local.storagePath();
    if (await deps.ui.revealFolder(path)) return;
    // A remote window (code-server, SSH) has no file manager to reveal into.
    const choice = await deps.ui.info(`The local registry stores its images in ${path}`, 'Copy Path');
    if (choice === 'Copy Path') await copyAndSay(deps.ui, path, 'storage path');
  },
};
