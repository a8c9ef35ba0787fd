import type { RegistryApi } from '../app/ports';
import { errorFacts, UserError } from '../app/problems';
import type { RegistryEntry } from '../app/registryEntry';
import { shortDigest } from '../views/format';
import type { TagNode } from '../views/nodes';
import type { CommandDeps, CommandSpec } from './command';
import { targetOf } from './imageCommon';
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
      if (facts.kind === 'deletion-disabled') {
        throw new UserError(`${t.registry.registry.label} refuses deletes: deletion is disabled in its configuration (for registry:2, set storage.delete.enabled: true).`);
      }
      // Distribution deletes by digest only and answers a tag with 400: offer what it does allow.
      if (byTag && facts.kind === 'unsupported' && facts.status === 400) return offerDeleteByDigest(deps, api, image);
      throw err;
    }
    deps.tree.refresh(byTag ? image.parent : image.parent.parent);
    void deps.ui.info(`Deleted ${what}.`);
  },
};

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
  void deps.ui.info(`Deleted ${repository}@${shortDigest(digest)} and ${tags.length > 1 ? `its tags ${tags.join(', ')}` : `its tag ${tag.tag}`}.`);
}

/** The tags of a repository that resolve to `digest`, reading at most MAX_TAGS_CHECKED tags. */
async function tagsPointingAt(api: RegistryApi, entry: RegistryEntry, repository: string, digest: string, pageSize: number): Promise<{ tags: string[]; complete: boolean }> {
  const names: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await api.tags(entry, repository, cursor, pageSize);
    names.push(...page.items);
    cursor = page.next;
  } while (cursor && names.length < MAX_TAGS_CHECKED);
  const todo = names.slice(0, MAX_TAGS_CHECKED);
  const found: string[] = [];
  const worker = async (): Promise<void> => {
    for (let name = todo.shift(); name !== undefined; name = todo.shift()) {
      try {
        if ((await api.manifest(entry, repository, name)).digest === digest) found.push(name);
      } catch {
        // A tag deleted meanwhile, or one that fails to read, is not one that points at the digest.
      }
    }
  };
  await Promise.all(Array.from({ length: DIGEST_LOOKUP_CONCURRENCY }, worker));
  return { tags: found.sort(), complete: !cursor && names.length <= MAX_TAGS_CHECKED };
}
