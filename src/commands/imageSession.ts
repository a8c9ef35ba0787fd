/**
 * What the image commands (image page, artifacts, compare, files) share: the node → image target
 * mapping and the session's layer cache.
 */
import type { Registry } from '../client';
import { describeTarget, type ImageTarget } from '../image/resolve';
import type { RegistryEntry } from '../app/registryEntry';
import type { CommandDeps } from './command';
import { targetOf } from './imageCommon';
import type { ImageNode } from '../views/nodes';
import { imageFrom } from './pickers';

export interface ImageAt {
  node: ImageNode;
  entry: RegistryEntry;
  registry: Registry;
  target: ImageTarget;
  /** `registry/repo:tag (linux/arm64)`, for titles and messages. */
  label: string;
}

/** A tag names its manifest by tag; a digest row by digest; a platform row by its digest and platform. */
export async function imageAt(deps: CommandDeps, node: unknown, title: string): Promise<ImageAt> {
  const image = await imageFrom(deps, node, title);
  const t = targetOf(image);
  const entry = t.registry.registry;
  const target: ImageTarget = {
    repository: t.repository,
    reference: image.kind === 'tag' ? image.tag : t.digest ?? t.tag ?? 'latest',
    ...(image.kind === 'platform' ? { platform: image.platform } : {}),
  };
  const registry = (await deps.registry()).registryFor(entry);
  return { node: image, entry, registry, target, label: `${entry.label}: ${describeTarget(target)}` };
}

export { sharedLayerCache } from '../app/imageFileBackend';

/** A document path that is unique per image and readable in the editor's title. */
export function documentPath(kind: string, entry: RegistryEntry, target: ImageTarget, extension: string): string {
  const ref = target.reference.replace(/:/g, '-');
  const platform = target.platform ? `-${target.platform.replace(/\//g, '-')}` : '';
  return `/${kind}/${entry.server}/${target.repository}/${ref}${platform}.${extension}`;
}
