/** What the image commands share: where a node points, its digest, and engine credentials. */
import { imageTargetOf, type ImageNode, type ImageTarget } from '../views/nodes';
import type { RegistryApi } from '../app/ports';
import type { RegistryEntry } from '../app/registryEntry';
import { readTagNames } from '../app/tagNames';
import type { CommandDeps } from './command';
import { dockerHost } from './references';
import type { EngineAuth } from '../engine/engine';

export function targetOf(node: ImageNode): ImageTarget {
  return imageTargetOf(node);
}

/** The digest a node stands for, asking the registry when the node is a tag. */
export async function digestOf(deps: CommandDeps, node: ImageNode): Promise<string> {
  if (node.kind !== 'tag') return node.digest;
  const t = targetOf(node);
  const m = await (await deps.registry()).manifest(t.registry.registry, t.repository, t.tag ?? 'latest');
  return m.digest;
}

/** Tags offered in a pick list: all of them for most repositories, and `latest` found even when listed late. */
export const MAX_TAGS_OFFERED = 1000;

/** A repository's tag names, page by page, up to `maxTags`; `complete` is false when there were more. */
export async function tagNames(api: RegistryApi, entry: RegistryEntry, repository: string, pageSize: number, maxTags: number): Promise<{ names: string[]; complete: boolean }> {
  const read = await readTagNames(api, entry, repository, { perRequest: pageSize, maxTags });
  if (read.error !== undefined) throw read.error;
  return { names: read.names, complete: read.complete };
}

export function latestFirst(tags: readonly string[]): string[] {
  return [...tags].sort((a, b) => Number(b === 'latest') - Number(a === 'latest'));
}

export function localPort(deps: CommandDeps): number | undefined {
  return deps.local.status().port;
}

/** Credentials for the docker engine's push/pull to this registry (none for the local one). */
export async function engineAuthFor(deps: CommandDeps, entry: RegistryEntry): Promise<EngineAuth | undefined> {
  const cred = await deps.store.credentials(entry.id);
  if (!cred?.username || !(cred.password || cred.identityToken)) return undefined;
  return {
    serverAddress: dockerHost(entry, localPort(deps)),
    username: cred.username,
    ...(cred.password ? { password: cred.password } : {}),
    ...(cred.identityToken ? { identityToken: cred.identityToken } : {}),
  };
}
