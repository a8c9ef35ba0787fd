import { isReferenceError, parseReference } from '../oci/reference';
import type { CommandSpec } from './command';
import { localImageFrom } from './pickers';
import { required } from './ui';

export function newReferenceProblem(value: string): string | undefined {
  if (!value.trim()) return 'Enter a name like registry.example.com/team/app:1.0.';
  const parsed = parseReference(value.trim());
  return isReferenceError(parsed) ? parsed.message : parsed.digest ? 'A tag cannot include a digest.' : undefined;
}

export const tagLocalImage: CommandSpec = {
  id: 'berth.localImage.tag',
  async run(deps, node) {
    const image = await localImageFrom(deps, node, 'Tag Local Image');
    const value = await required(deps.ui.input({ title: `Tag ${image.image.reference ?? image.image.id}`, prompt: 'New name, [host/]repository[:tag]', value: image.image.reference ?? '', validate: newReferenceProblem }));
    await (await deps.engine()).tag(image.image.reference ?? image.image.id, value.trim());
    deps.tree.refreshLocalImages();
  },
};
