/** Pushing a local image: choose where, tag it for there, push with per-layer progress. */
import { isLocalEntry } from '../app/registryEntry';
import type { LocalImageNode, RegistryNode } from '../views/nodes';
import { Cancelled, errorFacts, problemOf, UserError } from '../app/problems';
import type { EngineApi } from '../app/ports';
import type { CommandDeps } from './command';
import { repositoryNameProblem } from './addRepository';
import { engineAuthFor, localPort } from './imageCommon';
import { TransferProgress } from './layerProgress';
import { registryFrom } from './pickers';
import { planPush, suggestedTarget, type PushTarget } from './pushPlan';
import { dockerHost } from './references';
import { tagProblem } from './retagImage';
import { editCredentials } from './editCredentials';
import { localGc } from './localGc';
import { startLocal } from './localStart';
import { required } from './ui';

export async function askPushTarget(deps: CommandDeps, image: LocalImageNode, registry?: RegistryNode): Promise<{ registry: RegistryNode; target: PushTarget }> {
  const reg = registry ?? (await registryFrom(deps, undefined, { includeLocal: true, title: `Push ${image.image.reference ?? image.image.id} to…` }));
  await ensureRunningIfLocal(deps, reg);
  const suggestion = suggestedTarget(image.image.reference);
  const repository = await required(deps.ui.input({ title: 'Repository', prompt: `In ${reg.registry.label}`, value: suggestion.repository, validate: (v) => repositoryNameProblem(v, reg.registry.server) }));
  const tag = await required(deps.ui.input({ title: 'Tag', value: suggestion.tag, validate: tagProblem }));
  return { registry: reg, target: { host: dockerHost(reg.registry, localPort(deps)), repository: repository.trim(), tag } };
}

/**
 * A push to a stopped local registry would fail with a misleading engine error: start it first, the
 * way Start Local Registry does (a port another program took gets the offer of a free one).
 */
async function ensureRunningIfLocal(deps: CommandDeps, registry: RegistryNode): Promise<void> {
  if (!isLocalEntry(registry.registry) || deps.local.status().state === 'running') return;
  const start = await deps.ui.warn('The local registry is not running.', {}, 'Start the Local Registry');
  if (start !== 'Start the Local Registry') throw new UserError('The local registry is not running: start it first.');
  await startLocal(deps, { announce: false });
  // startLocal has said why it did not start.
  if (deps.local.status().state !== 'running') throw new Cancelled();
}

/** A name Berth gave the image for one push, and the image that name pointed at before, if any. */
interface PushTag {
  reference: string;
  /** The person's own tag of that name, pointing elsewhere before the push moved it. */
  previousId?: string;
}

async function imageIdOf(engine: EngineApi, reference: string): Promise<string | undefined> {
  try {
    return (await engine.inspectImage(reference)).id;
  } catch (err) {
    if (errorFacts(err).kind === 'not-found') return undefined;
    throw err;
  }
}

/** Tags the image for the push; undefined when the name already pointed at this very image (nothing to undo). */
async function tagForPush(engine: EngineApi, source: string, reference: string): Promise<PushTag | undefined> {
  const previousId = await imageIdOf(engine, reference);
  if (previousId !== undefined && previousId === (await imageIdOf(engine, source))) return undefined;
  await engine.tag(source, reference);
  return { reference, ...(previousId !== undefined ? { previousId } : {}) };
}

/**
 * Leaves the engine's names as they were before a push that did not finish: the tag Berth added goes,
 * a tag the person had points at its image again. Returns what was done, as a sentence for the message.
 */
async function undoPushTag(deps: CommandDeps, engine: EngineApi, tag: PushTag): Promise<string> {
  try {
    if (tag.previousId !== undefined) {
      await engine.tag(tag.previousId, tag.reference);
      return ` ${tag.reference} points at its earlier image again.`;
    }
    // Removing an image's only name would delete the image itself.
    if ((await engine.inspectImage(tag.reference)).tags.length < 2) return ` The tag ${tag.reference} stays: it is the image's only name.`;
    await engine.remove(tag.reference, { noPrune: true });
    deps.log.info(`removed the temporary tag ${tag.reference}`);
    return ' Its temporary tag was removed.';
  } catch (err) {
    deps.log.warn(`could not undo the tag ${tag.reference}: ${problemOf(err).message}`);
    return ` The temporary tag ${tag.reference} could not be removed: ${problemOf(err).message}`;
  }
}

const EDIT_CREDENTIALS = 'Edit Credentials…';
const COLLECT_GARBAGE = 'Garbage-Collect…';

/**
 * Says what became of a push that did not finish, in words that fit a notification (the engine's own
 * words go to the log), and offers the way out: new credentials, or collecting a partial upload.
 * Always throws: Cancelled once the person has been told, a UserError otherwise.
 */
async function reportUnfinishedPush(deps: CommandDeps, err: unknown, push: { reference: string; repository: string; registry: RegistryNode; undone: string; sentCredentials: boolean }): Promise<never> {
  const { reference, registry, undone } = push;
  const { kind } = errorFacts(err);
  const local = isLocalEntry(registry.registry);
  if (problemOf(err).kind === 'cancelled') {
    deps.log.info(`push of ${reference} cancelled`);
    if (!local) {
      void deps.ui.info(`Push of ${reference} cancelled.${undone}`);
      throw new Cancelled();
    }
    const choice = await deps.ui.info(`Push of ${reference} cancelled.${undone} The layers it had started stay in the local registry as abandoned uploads until garbage collection.`, COLLECT_GARBAGE);
    if (choice === COLLECT_GARBAGE) await localGc.run(deps);
    throw new Cancelled();
  }
  if ((kind === 'unauthorized' || kind === 'denied') && !local) {
    deps.log.error(`push of ${reference} failed: ${problemOf(err).message}${undone}`);
    const label = registry.registry.label;
    const why = kind === 'denied' ? `this account may not push to ${push.repository} on ${label}`
      : push.sentCredentials ? `${label} did not accept the saved credentials` : `${label} wants you to sign in`;
    const choice = await deps.ui.error(`Push of ${reference} failed: ${why}.`, EDIT_CREDENTIALS);
    if (choice === EDIT_CREDENTIALS) await editCredentials.run(deps, registry);
    throw new Cancelled();
  }
  throw new UserError(`${problemOf(err).message}${undone}`);
}

export async function pushTo(deps: CommandDeps, image: LocalImageNode, registry: RegistryNode, target: PushTarget): Promise<void> {
  await ensureRunningIfLocal(deps, registry);
  const engine = await deps.engine();
  const plan = planPush(image.image.reference, target);
  const added = plan.needsTag ? await tagForPush(engine, image.image.reference ?? image.image.id, plan.reference) : undefined;
  const auth = await engineAuthFor(deps, registry.registry);
  deps.log.info(`Pushing ${plan.reference}`);
  const progress = new TransferProgress((line) => deps.log.info(line));
  try {
    await deps.ui.withProgress(`Pushing ${plan.reference}`, true, (report, signal) =>
      engine.push(plan.reference, { ...(auth ? { auth } : {}), signal, onProgress: (e) => report(progress.report(e)) }),
    );
  } catch (err) {
    const undone = added ? await undoPushTag(deps, engine, added) : '';
    deps.tree.refreshLocalImages();
    await reportUnfinishedPush(deps, err, { reference: plan.reference, repository: target.repository, registry, undone, sentCredentials: auth !== undefined });
  }
  deps.log.info(`Pushed ${plan.reference}: ${progress.summary().length} layers`);
  deps.tree.refreshLocalImages();
  deps.tree.refresh(registry);
  void deps.ui.info(`Pushed ${plan.reference}.`);
}
