import { problemOf, UserError } from '../app/problems';
import type { CommandSpec } from './command';
import { targetOf } from './imageCommon';
import { imageFrom } from './pickers';

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
      const p = problemOf(err);
      if (p.kind === 'unsupported' || (err as { status?: number }).status === 405) {
        throw new UserError(`${t.registry.registry.label} refuses deletes: deletion is disabled in its configuration (for registry:2, set storage.delete.enabled: true).`);
      }
      throw err;
    }
    deps.tree.refresh(byTag ? image.parent : image.parent.parent);
    void deps.ui.info(`Deleted ${what}.`);
  },
};
