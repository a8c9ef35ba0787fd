import type { ArtifactNode } from '../views/nodes';
import type { CommandSpec } from './command';
import { openArtifact as openArtifactDocuments, showArtifacts } from './showArtifacts';

function isArtifactNode(n: unknown): n is ArtifactNode {
  return typeof n === 'object' && n !== null && (n as { kind?: unknown }).kind === 'artifact';
}

/** A row of the Referrers group: its manifest and readable payloads as documents. */
export const openArtifact: CommandSpec = {
  id: 'berth.artifact.open',
  async run(deps, node) {
    if (!isArtifactNode(node)) return showArtifacts.run(deps, node);
    const repository = node.parent.parent.parent.parent;
    const entry = repository.parent.registry;
    const registry = (await deps.registry()).registryFor(entry);
    await openArtifactDocuments(deps, { entry, registry, target: { repository: repository.name, reference: node.parent.parent.digest } }, node.artifact);
  },
};
