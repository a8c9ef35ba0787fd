import type { RegistryApi } from '../app/ports';
import { errorFacts, UserError } from '../app/problems';
import type { RegistryEntry } from '../app/registryEntry';
import { shortDigest } from '../views/format';
import type { RepositoryNode, TagNode } from '../views/nodes';
import type { CommandDeps, CommandSpec } from './command';
import { tagNames, targetOf } from './imageCommon';
import { imageFrom } from './pickers';

/** Tags read when looking for the others that point at a manifest about to be deleted. */
const MAX_TAGS_CHECKED = 1000;
const DIGEST_LOOKUP_CONCURRENCY = 6;

export const deleteImage: CommandSpec = {
  id: 'berth.tag.delete',
  async run(deps, node) {
    const image = await imageFrom(deps, node, 'Delete');
    const t = targetOf(image);
    const byTag = image.kind === 'tag';
    const what = byTag ? `tag ${t.repository}:${t.tag}` : `manifest ${t.repository}@${t.digest}`;
    const ok = await deps.ui.warn(
      `Delete ${what} from ${t.registry.registry.label}?`,
      { modal: true, detail: byTag ? 'Only this tag is removed; the image stays if other tags or digests point to it.' : 'Every tag pointing to this manifest is removed with it. This cannot be undone.' },
      'Delete',
    );
    if (ok !== 'Delete') return;
    const api = await deps.registry();
    try {
      if (byTag) await api.deleteTag(t.registry.registry, t.repository, t.tag ?? '');
      else await api.deleteManifest(t.registry.registry, t.repository, t.digest ?? '');
    } catch (err) {
      const facts = errorFacts(err);
      if (facts.kind === 'deletion-disabled') throw deletionDisabled(t.registry.registry);
      // Distribution deletes by digest only and answers a tag with 400: offer what it does allow.
      if (byTag && facts.kind === 'unsupported' && facts.status === 400) return offerDeleteByDigest(deps, api, image);
      throw err;
    }
    const repository = image.kind === 'tag' ? image.parent : image.kind === 'manifest' ? image.parent.parent : image.parent.parent.parent;
    deps.tree.refresh(repository);
    void deps.ui.info(`Deleted ${what}.${await emptiedNote(deps, api, repository)}`);
  },
};

/** When the delete took the repository's last tag, the tree stops listing it; the message says why it went. */
async function emptiedNote(deps: CommandDeps, api: RegistryApi, repository: RepositoryNode): Promise<string> {
  const entry = repository.parent.registry;
  const page = await api.tags(entry, repository.name, undefined, 1).catch(() => undefined);
  if (!page || page.items.length > 0 || page.next) return '';
  deps.tree.repositoryEmptied(entry.id, repository.name);
  return ` ${repository.name} has no tags left, so it is no longer listed.`;
}

async function offerDeleteByDigest(deps: CommandDeps, api: RegistryApi, tag: TagNode): Promise<void> {
  const entry = tag.parent.parent.registry;
  const repository = tag.parent.name;
  const { digest } = await api.manifest(entry, repository, tag.tag);
  const sharing = await tagsPointingAt(api, entry, repository, digest, deps.settings.pageSize());
  const tags = [tag.tag, ...sharing.tags.filter((x) => x !== tag.tag)];
  const more = sharing.complete ? '' : ` Only the first ${MAX_TAGS_CHECKED} tags were checked; others may point at it too.`;
  const detail = tags.length > 1
    ? `Deleting the manifest also removes every tag that points at it: ${tags.join(', ')}.${more} This cannot be undone.`
    : `No other tag points at it.${more} This cannot be undone.`;
  const choice = await deps.ui.warn(
    `${entry.label} refused to delete the tag ${repository}:${tag.tag} by name (HTTP 400): it deletes images only by digest. Delete the manifest ${shortDigest(digest)} instead?`,
    { modal: true, detail },
    'Delete Manifest',
  );
  if (choice !== 'Delete Manifest') return;
  await api.deleteManifest(entry, repository, digest);
  deps.tree.refresh(tag.parent);
  void deps.ui.info(`Deleted ${repository}@${shortDigest(digest)} and ${tags.length > 1 ? `its tags ${tags.join(', ')}` : `its tag ${tag.tag}`}.${await emptiedNote(deps, api, tag.parent)}`);
}

/** The refusal of a registry whose configuration turns deletes off, with where to turn them on. */
export function deletionDisabled(entry: RegistryEntry): UserError {
  return new UserError(`${entry.label} refuses deletes: deletion is disabled in its configuration (for registry:2, set storage.delete.enabled: true).`);
}

/**
 * Every tag of a repository (up to `maxTags`) with the digest it resolves to; a tag deleted meanwhile,
 * or one that fails to read, is left out.
 */
export async function tagDigests(api: RegistryApi, entry: RegistryEntry, repository: string, pageSize: number, maxTags: number): Promise<{ digests: Map<string, string>; complete: boolean }> {
  const { names: todo, complete } = await tagNames(api, entry, repository, pageSize, maxTags);
  const digests = new Map<string, string>();
  const worker = async (): Promise<void> => {
    for (let name = todo.shift(); name !== undefined; name = todo.shift()) {
      try {
        digests.set(name, (await api.manifest(entry, repository, name)).digest);
      } catch {
        // Not readable now: not one this lookup can speak for.
      }
    }
  };
  await Promise.all(Array.from({ length: DIGEST_LOOKUP_CONCURRENCY }, worker));
  return { digests, complete };
}

/** The tags of a repository that resolve to `digest`, reading at most MAX_TAGS_CHECKED tags. */
async function tagsPointingAt(api: RegistryApi, entry: RegistryEntry, repository: string, digest: string, pageSize: number): Promise<{ tags: string[]; complete: boolean }> {
  const { digests, complete } = await tagDigests(api, entry, repository, pageSize, MAX_TAGS_CHECKED);
  return { tags: [...digests].filter(([, d]) => d === digest).map(([t]) => t).sort(), complete };
}
