import { errorFacts, UserError } from '../app/problems';
import { formatBytes } from '../oci/format';
import type { CommandDeps, CommandSpec } from './command';
import { localImageFrom } from './pickers';

/** The engine's own words, without the advice an EngineError appends (the prompt gives its own). */
function engineWords(err: unknown): string {
  const said = (err as { engineMessage?: unknown }).engineMessage;
  return typeof said === 'string' && said.trim() ? said.trim() : err instanceof Error ? err.message : String(err);
}

/**
 * Removes a local image as `docker rmi` does: a tag (the image stays while other tags name it), or an
 * untagged image by id. A container that uses it makes the engine refuse; the refusal is shown in the
 * engine's words with force offered (the engine still refuses force for a running container).
 */
export const removeLocalImage: CommandSpec = {
  id: 'berth.localImage.remove',
  async run(deps, node) {
    const row = await localImageFrom(deps, node, 'Remove Image');
    const image = row.image;
    const ref = image.reference ?? image.id;
    const shortId = image.id.replace(/^sha256:/, '').slice(0, 12);
    const others = image.repoTags.filter((t) => t !== image.reference && t !== '<none>:<none>');
    const detail = image.reference && others.length
      ? `Only the tag is removed: the image ${shortId} stays under ${others.join(', ')}.`
      : `The image ${shortId} (${formatBytes(image.sizeBytes)}) is deleted from the engine, with the layers no other image uses.`;
    const ok = await deps.ui.warn(`Remove ${ref} from the container engine?`, { modal: true, detail }, 'Remove');
    if (ok !== 'Remove') return;
    const engine = await deps.engine();
    let removed;
    try {
      removed = await engine.remove(ref);
    } catch (err) {
      if (errorFacts(err).kind !== 'conflict') throw err;
      removed = await offerForce(deps, ref, engineWords(err));
      if (!removed) return;
    }
    deps.tree.refreshLocalImages();
    const deleted = removed.deleted.length;
    void deps.ui.info(deleted
      ? `Removed ${ref} (${deleted} image layer${deleted === 1 ? '' : 's'} deleted).`
      : `Untagged ${ref}; the image stays${others.length ? ` under ${others.join(', ')}` : ' while a container uses it'}.`);
  },
};

async function offerForce(deps: CommandDeps, ref: string, said: string): Promise<{ untagged: string[]; deleted: string[] } | undefined> {
  const running = /running container|cannot be forced/i.test(said);
  if (running) {
    throw new UserError(`${ref} is used by a running container, so the engine will not remove it, even with force: ${said}. Stop and remove the container first.`);
  }
  const choice = await deps.ui.warn(
    `The engine refused to remove ${ref}: a container uses it.`,
    { modal: true, detail: `${said}.\n\nRemove Anyway forces it (docker rmi --force): the container stays, without its image name.` },
    'Remove Anyway',
  );
  if (choice !== 'Remove Anyway') return undefined;
  try {
    return await (await deps.engine()).remove(ref, { force: true });
  } catch (err) {
    if (errorFacts(err).kind === 'conflict') throw new UserError(`${ref} could not be removed even with force: ${engineWords(err)}. Remove the containers that use it first.`);
    throw err;
  }
}
