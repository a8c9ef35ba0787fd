import { errorFacts, UserError } from '../app/problems';
import type { CommandSpec } from './command';
import { deletionDisabled, tagDigests } from './deleteImage';
import { repositoryFrom } from './pickers';

/** Tags read before deleting a repository; a bigger one is deleted in rounds of this many. */
const MAX_TAGS_PER_ROUND = 10_000;
/** Manifests deleted at once. */
const DELETE_CONCURRENCY = 4;

/**
 * Deletes every tag of a repository. The registry API deletes manifests, not repositories: each
 * manifest a tag points at is deleted by digest (distribution deletes by digest only), which removes
 * every tag pointing at it. Blobs stay until the registry's garbage collection.
 */
export const deleteRepository: CommandSpec = {
  id: 'berth.repository.delete',
  async run(deps, node) {
    const repo = await repositoryFrom(deps, node, 'Delete Repository');
    const entry = repo.parent.registry;
    const api = await deps.registry();
    const found = await deps.ui.withProgress(`Reading the tags of ${repo.name}`, false, () => tagDigests(api, entry, repo.name, deps.settings.pageSize(), MAX_TAGS_PER_ROUND));
    const tags = found.digests.size;
    if (tags === 0) {
      deps.tree.repositoryEmptied(entry.id, repo.name);
      void deps.ui.info(`${repo.name} has no tags left in ${entry.label}; there is nothing to delete.`);
      return;
    }
    const manifests = [...new Set(found.digests.values())];
    const count = `${tags}${found.complete ? '' : '+'} tag${tags === 1 ? '' : 's'} (${manifests.length} manifest${manifests.length === 1 ? '' : 's'})`;
    const ok = await deps.ui.warn(
      `Delete the repository ${repo.name} from ${entry.label}? It has ${count}.`,
      { modal: true, detail: `Every tag and manifest of ${repo.name} is deleted. This cannot be undone. The layers are freed by the registry's garbage collection.` },
      'Delete Repository',
    );
    if (ok !== 'Delete Repository') return;
    let deleted = 0;
    try {
      await deps.ui.withProgress(`Deleting ${repo.name}`, true, async (report, signal) => {
        const todo = [...manifests];
        const worker = async (): Promise<void> => {
          for (let digest = todo.shift(); digest !== undefined && !signal.aborted; digest = todo.shift()) {
            try {
              await api.deleteManifest(entry, repo.name, digest);
            } catch (err) {
              // Deleted meanwhile (another tag's manifest, another person): already what was asked.
              if (errorFacts(err).kind !== 'not-found') throw err;
            }
            deleted++;
            report({ message: `${deleted} of ${manifests.length} manifests`, increment: 100 / manifests.length });
          }
        };
        await Promise.all(Array.from({ length: DELETE_CONCURRENCY }, worker));
      });
    } catch (err) {
      deps.tree.refresh(repo);
      const facts = errorFacts(err);
      if (facts.kind === 'deletion-disabled') throw deletionDisabled(entry);
      if (facts.kind === 'unsupported') throw new UserError(`${entry.label} refused to delete manifests of ${repo.name} (HTTP ${facts.status ?? '?'}): this registry does not allow deleting through its API. Delete the repository in the registry's own interface.`);
      throw err;
    }
    const left = (await api.tags(entry, repo.name, undefined, 1)).items.length > 0;
    if (left) {
      deps.tree.refresh(repo);
      void deps.ui.warn(`Deleted ${deleted} manifests of ${repo.name}, but it still has tags (pushed meanwhile, or beyond the first ${MAX_TAGS_PER_ROUND}). Run Delete Repository again to delete them.`, {});
      return;
    }
    deps.tree.repositoryEmptied(entry.id, repo.name);
    void deps.ui.info(`Deleted the repository ${repo.name} from ${entry.label}: ${count}.`);
  },
};
