import { isTag } from '../oci/names';
import type { CommandSpec } from './command';
import { targetOf } from './imageCommon';
import { imageFrom } from './pickers';
import { required } from './ui';

export function tagProblem(tag: string): string | undefined {
  if (!tag) return 'Enter a tag.';
  return isTag(tag) ? undefined : 'A tag is up to 128 letters, digits, _ . and -, not starting with . or -.';
}

export const retagImage: CommandSpec = {
  id: 'berth.tag.retag',
  async run(deps, node) {
    const image = await imageFrom(deps, node, 'Add Tag');
    const t = targetOf(image);
    const newTag = await required(deps.ui.input({ title: `New tag for ${t.repository}${t.tag ? `:${t.tag}` : ''}`, prompt: 'The same manifest gets this tag too (in the registry; no download).', validate: tagProblem }));
    await (await deps.registry()).retag(t.registry.registry, t.repository, t.digest ?? t.tag ?? 'latest', newTag);
    const repo = image.kind === 'tag' ? image.parent : image.kind === 'manifest' ? image.parent.parent : image.parent.parent.parent;
    deps.tree.refresh(repo);
    void deps.ui.info(`Tagged ${t.repository}:${newTag}.`);
  },
};
