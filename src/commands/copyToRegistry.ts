import { formatBytes } from '../oci/format';
import type { CommandSpec } from './command';
import { repositoryNameProblem } from './addRepository';
import { targetOf } from './imageCommon';
import { imageFrom, registryFrom } from './pickers';
import { tagProblem } from './retagImage';
import { required } from './ui';

export const copyToRegistry: CommandSpec = {
  id: 'berth.tag.copyToRegistry',
  async run(deps, node) {
    const image = await imageFrom(deps, node, 'Copy to Another Registry');
    const from = targetOf(image);
    const target = await registryFrom(deps, undefined, { includeLocal: true, title: `Copy ${from.repository} to…` });
    const repository = await required(deps.ui.input({ title: 'Target repository', value: from.repository, validate: (v) => repositoryNameProblem(v, target.registry.server) }));
    const tag = await required(deps.ui.input({ title: 'Target tag', value: from.tag ?? 'latest', validate: tagProblem }));
    const api = await deps.registry();
    const bytes = new Map<string, number>();
    const result = await deps.ui.withProgress(`Copying ${from.repository} to ${target.registry.label}/${repository}:${tag}`, true, (report, signal) =>
      api.copy(
        { registry: from.registry.registry, repository: from.repository, reference: from.digest ?? from.tag ?? 'latest' },
        { registry: target.registry, repository: repository.trim(), reference: tag },
        (p) => {
          bytes.set(p.digest, p.bytesDone);
          report({ message: `${bytes.size} blobs · ${formatBytes([...bytes.values()].reduce((a, b) => a + b, 0))}` });
        },
        signal,
      ),
    );
    deps.tree.refresh();
    void deps.ui.info(`Copied to ${target.registry.server}/${repository}:${tag} (${result.digest}).`);
  },
};
