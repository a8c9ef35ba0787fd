/**
 * What a command asks for when it runs from the palette without a node: the same nodes the
 * tree would have handed it, built from a QuickPick.
 */
import {
  isLocalImageNode,
  isManifestNode,
  isMessageNode,
  isPlatformNode,
  isRegistryNode,
  isRepositoryNode,
  isTagNode,
  registryOf,
  type ImageNode,
  type LocalImageNode,
  type RegistryNode,
  type RegistryTreeNode,
  type RepositoryNode,
} from '../views/nodes';
import { UserError } from '../app/problems';
import { imageRows, toLocalImage } from '../views/localImages';
import { isLocalEntry, type RegistryEntry } from '../app/registryEntry';
import type { CommandDeps } from './command';
import { latestFirst, MAX_TAGS_OFFERED, tagNames } from './imageCommon';
import { required, type PickItem } from './ui';

export function registryNodeFor(deps: CommandDeps, entry: RegistryEntry): RegistryNode {
  return isLocalEntry(entry) ? { kind: 'registry', registry: entry, local: deps.local.status() } : { kind: 'registry', registry: entry };
}

function asRegistryTreeNode(node: unknown): RegistryTreeNode | undefined {
  return isRegistryNode(node) || isRepositoryNode(node) || isTagNode(node) || isManifestNode(node) || isPlatformNode(node) || isMessageNode(node) ? node : undefined;
}

/** The registry a node belongs to, or one the person picks. */
export async function registryFrom(deps: CommandDeps, node: unknown, options: { includeLocal: boolean; title: string }): Promise<RegistryNode> {
  const given = asRegistryTreeNode(node);
  if (given) return registryOf(given);
  const entries = [...(options.includeLocal ? [deps.local.entry()] : []), ...deps.store.list().filter((e) => !isLocalEntry(e))];
  if (entries.length === 0) throw new UserError('No registry is connected. Run "Berth: Connect Registry…" first.');
  const items: PickItem<RegistryEntry>[] = entries.map((e) => ({ label: e.label, description: e.server, ...(e.username ? { detail: `as ${e.username}` } : {}), value: e }));
  const entry = await required(deps.ui.pick(items, { title: options.title, placeHolder: 'Registry' }));
  return registryNodeFor(deps, entry);
}

export async function repositoryFrom(deps: CommandDeps, node: unknown, title: string): Promise<RepositoryNode> {
  if (isRepositoryNode(node)) return node;
  const registry = await registryFrom(deps, node, { includeLocal: true, title });
  const api = await deps.registry();
  const page = await api.repositories(registry.registry, undefined, deps.settings.pageSize());
  const names = 'noCatalog' in page ? deps.store.rememberedRepositories(registry.registry.id) : page.items;
  const typed = '$typed';
  const items: PickItem<string>[] = [...names.map((n) => ({ label: n, value: n })), { label: 'Type a repository name…', value: typed }];
  let name = await required(deps.ui.pick(items, { title, placeHolder: 'Repository' }));
  if (name === typed) name = await required(deps.ui.input({ title, prompt: 'Repository name, e.g. team/app' }));
  return { kind: 'repository', parent: registry, name };
}

export async function imageFrom(deps: CommandDeps, node: unknown, title: string): Promise<ImageNode> {
  if (isTagNode(node) || isManifestNode(node) || isPlatformNode(node)) return node;
  const repository = await repositoryFrom(deps, node, title);
  const api = await deps.registry();
  const { names } = await tagNames(api, repository.parent.registry, repository.name, deps.settings.pageSize(), MAX_TAGS_OFFERED);
  if (names.length === 0) throw new UserError(`${repository.name} has no tags.`);
  const tags = latestFirst(names);
  const tag = await required(deps.ui.pick(tags.map((t) => ({ label: t, value: t })), { title: `${title}: which tag of ${repository.name}?`, placeHolder: 'Tag' }));
  return { kind: 'tag', parent: repository, tag };
}

export async function localImageFrom(deps: CommandDeps, node: unknown, title: string): Promise<LocalImageNode> {
  if (isLocalImageNode(node)) return node;
  const images = await (await deps.engine()).listImages();
  const items: PickItem<LocalImageNode>[] = [];
  for (const node of imageRows(images.map(toLocalImage))) {
    if (node.image.reference) items.push({ label: node.image.reference, description: node.image.id.slice(7, 19), value: node });
  }
  if (items.length === 0) throw new UserError('The container engine has no tagged images.');
  return required(deps.ui.pick(items, { title, placeHolder: 'Local image' }));
}
