import { isLocalEntry } from '../app/registryEntry';
import { UserError } from '../app/problems';
import type { CommandSpec } from './command';
import { collectConnection } from './connectFlow';
import { checkAndSave } from './connectRegistry';
import { registryFrom } from './pickers';
import { entryFromDraft } from '../app/presets';

export const editCredentials: CommandSpec = {
  id: 'berth.registry.editCredentials',
  async run(deps, node) {
    const registry = await registryFrom(deps, node, { includeLocal: false, title: 'Edit Credentials' });
    if (isLocalEntry(registry.registry)) throw new UserError('The local registry needs no credentials.');
    const existing = deps.store.get(registry.registry.id) ?? registry.registry;
    const draft = await collectConnection(deps.ui, { existing });
    await checkAndSave(deps, entryFromDraft(draft, existing), draft);
    deps.tree.refresh(registry);
    void deps.ui.info(`Credentials for ${existing.label} updated.`);
  },
};
