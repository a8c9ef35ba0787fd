import { formatBytes } from '../oci/format';
import { UserError } from '../app/problems';
import { isRepositoryNode, type RepositoryNode } from '../views/nodes';
import type { CommandDeps, CommandSpec } from './command';
import { repositoryNameProblem } from './addRepository';
import { latestFirst, MAX_TAGS_OFFERED, tagNames, targetOf } from './imageCommon';
import { imageFrom, registryFrom } from './pickers';
import { tagProblem } from './retagImage';
import { required, type PickItem } from './ui';

/** One progress line over every blob copied so far, whatever tag it belongs to. */
function blobProgress(): { add(digest: string, bytesDone: number): string } {
  const bytes = new Map<string, number>();
  return {
    add(digest, bytesDone) {
      bytes.set(digest, bytesDone);
      return `${bytes.size} blobs · ${formatBytes([...bytes.values()].reduce((a, b) => a + b, 0))}`;
    },
  };
}

export const copyToRegistry: CommandSpec = {
  id: 'berth.tag.copyToRegistry',
  async run(deps, node) {
    if (isRepositoryNode(node)) return copyRepository(deps, node);
    const image = await imageFrom(deps, node, 'Copy to Another Registry');
    const from = targetOf(image);
    const target = await registryFrom(deps, undefined, { includeLocal: true, title: `Copy ${from.repository} to…` });
    const repository = await required(deps.ui.input({ title: 'Target repository', value: from.repository, validate: (v) => repositoryNameProblem(v, target.registry.server) }));
    const tag = await required(deps.ui.input({ title: 'Target tag', value: from.tag ?? 'latest', validate: tagProblem }));
    const api = await deps.registry();
    const progress = blobProgress();
    const result = await deps.ui.withProgress(`Copying ${from.repository} to ${target.registry.label}/${repository}:${tag}`, true, (report, signal) =>
      api.copy(
        { registry: from.registry.registry, repository: from.repository, reference: from.digest ?? from.tag ?? 'latest' },
        { registry: target.registry, repository: repository.trim(), reference: tag },
        (p) => report({ message: progress.add(p.digest, p.bytesDone) }),
        signal,
      ),
    );
    deps.tree.refresh();
    void deps.ui.info(`Copied to ${target.registry.server}/${repository}:${tag} (${result.digest}).`);
  },
};

/** From a repository row: the tags picked (latest preselected) go to the other registry under the same names. */
async function copyRepository(deps: CommandDeps, repo: RepositoryNode): Promise<void> {
  const entry = repo.parent.registry;
  const api = await deps.registry();
  const { names } = await tagNames(api, entry, repo.name, deps.settings.pageSize(), MAX_TAGS_OFFERED);
  if (names.length === 0) throw new UserError(`${repo.name} has no tags to copy.`);
  const ordered = latestFirst(names);
  const preselect = ordered.includes('latest') ? 'latest' : ordered[0];
  const items: PickItem<string>[] = ordered.map((t) => ({ label: t, value: t, ...(t === preselect ? { picked: true } : {}) }));
  const tags = await required(deps.ui.pickMany(items, { title: `Copy to Another Registry: which tags of ${repo.name}?`, placeHolder: 'Tags (each keeps its name)' }));
  if (tags.length === 0) return;
  const target = await registryFrom(deps, undefined, { includeLocal: true, title: `Copy ${repo.name} to…` });
  const repository = (await required(deps.ui.input({ title: 'Target repository', value: repo.name, validate: (v) => repositoryNameProblem(v, target.registry.server) }))).trim();
  const progress = blobProgress();
  await deps.ui.withProgress(`Copying ${tags.length} tag${tags.length === 1 ? '' : 's'} of ${repo.name} to ${target.registry.label}/${repository}`, true, async (report, signal) => {
    for (const [i, tag] of tags.entries()) {
      await api.copy(
        { registry: entry, repository: repo.name, reference: tag },
        { registry: target.registry, repository, reference: tag },
        (p) => report({ message: `tag ${i + 1} of ${tags.length} (${tag}) · ${progress.add(p.digest, p.bytesDone)}` }),
        signal,
      );
    }
  });
  deps.tree.refresh();
  void deps.ui.info(`Copied ${tags.join(', ')} of ${repo.name} to ${target.registry.server}/${repository}.`);
}
