import { presetOf } from '../app/presets';
import { isRepositoryName } from '../oci/names';
import type { CommandSpec } from './command';
import { registryFrom } from './pickers';
import { required } from './ui';

export function repositoryNameProblem(name: string, host: string): string | undefined {
  const n = name.trim();
  if (!n) return 'Enter a repository name, e.g. team/app.';
  if (n !== n.toLowerCase()) return 'Repository names are lowercase.';
  return isRepositoryName(n, host) ? undefined : `"${n}" is not a repository name: lowercase letters, digits and . _ - separated by /.`;
}

export const addRepository: CommandSpec = {
  id: 'berth.registry.addRepository',
  async run(deps, node) {
    const registry = await registryFrom(deps, node, { includeLocal: true, title: 'Add Repository' });
    const host = registry.registry.server;
    const name = await required(
      deps.ui.input({
        title: `Add a repository of ${registry.registry.label}`,
        prompt: `Repository, e.g. ${presetOf(registry.registry).repositoryExample}`,
        validate: (v) => repositoryNameProblem(v, host),
      }),
    );
    await deps.store.rememberRepository(registry.registry.id, name.trim());
    deps.tree.refresh(registry);
  },
};
