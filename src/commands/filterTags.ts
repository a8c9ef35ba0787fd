import type { CommandSpec } from './command';
import { repositoryFrom } from './pickers';

/** Narrows a repository's tags in the tree to those matching a text; the whole tag list is searched. */
export const filterTags: CommandSpec = {
  id: 'berth.repository.filterTags',
  async run(deps, node) {
    // The summary row under a filtered repository offers the filter again.
    const target = typeof node === 'object' && node !== null && (node as { kind?: unknown }).kind === 'message' ? (node as { parent?: unknown }).parent : node;
    const repo = await repositoryFrom(deps, target, 'Filter Tags');
    const entry = repo.parent.registry;
    const input = await deps.ui.input({
      title: `Filter tags of ${repo.name}`,
      prompt: 'Text the tag contains (* matches anything). Empty shows all tags',
      value: deps.tree.tagFilterOf(entry.id, repo.name) ?? '',
    });
    if (input === undefined) return;
    deps.tree.setTagFilter(entry.id, repo.name, input.trim() || undefined);
  },
};
