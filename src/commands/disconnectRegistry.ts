import { isLocalEntry } from '../app/registryEntry';
import { UserError } from '../app/problems';
import type { CommandSpec } from './command';
import { registryFrom } from './pickers';

export const disconnectRegistry: CommandSpec = {
  id: 'berth.registry.disconnect',
  async run(deps, node) {
    const registry = await registryFrom(deps, node, { includeLocal: false, title: 'Disconnect Registry' });
    if (isLocalEntry(registry.registry)) throw new UserError('The local registry cannot be disconnected; stop it instead.');
    const ok = await deps.ui.warn(`Disconnect ${registry.registry.label}?`, { modal: true, detail: 'Its saved credentials are removed from VS Code. The docker CLI\'s own login is not touched.' }, 'Disconnect');
    if (ok !== 'Disconnect') return;
    await deps.store.remove(registry.registry.id);
    (await deps.registry()).forget(registry.registry.id);
  },
};
