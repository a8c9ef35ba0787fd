/** Pushing a local image: choose where, tag it for there, push with per-layer progress. */
import { isLocalEntry } from '../app/registryEntry';
import type { LocalImageNode, RegistryNode } from '../views/nodes';
import { UserError } from '../app/problems';
import type { CommandDeps } from './command';
import { repositoryNameProblem } from './addRepository';
import { engineAuthFor, localPort } from './imageCommon';
import { TransferProgress } from './layerProgress';
import { registryFrom } from './pickers';
import { planPush, suggestedTarget, type PushTarget } from './pushPlan';
import { dockerHost } from './references';
import { tagProblem } from './retagImage';
import { required } from './ui';

export async function askPushTarget(deps: CommandDeps, image: LocalImageNode, registry?: RegistryNode): Promise<{ registry: RegistryNode; target: PushTarget }> {
  const reg = registry ?? (await registryFrom(deps, undefined, { includeLocal: true, title: `Push ${image.image.reference ?? image.image.id} to…` }));
  await ensureRunningIfLocal(deps, reg);
  const suggestion = suggestedTarget(image.image.reference);
  const repository = await required(deps.ui.input({ title: 'Repository', prompt: `In ${reg.registry.label}`, value: suggestion.repository, validate: (v) => repositoryNameProblem(v, reg.registry.server) }));
  const tag = await required(deps.ui.input({ title: 'Tag', value: suggestion.tag, validate: tagProblem }));
  return { registry: reg, target: { host: dockerHost(reg.registry, localPort(deps)), repository: repository.trim(), tag } };
}

/** A push to a stopped local registry would fail with a misleading engine error: start it first. */
async function ensureRunningIfLocal(deps: CommandDeps, registry: RegistryNode): Promise<void> {
  if (!isLocalEntry(registry.registry) || deps.local.status().state === 'running') return;
  const start = await deps.ui.warn('The local registry is not running.', {}, 'Start the Local Registry');
  if (start !== 'Start the Local Registry') throw new UserError('The local registry is not running: start it first.');
  await deps.local.start();
}

export async function pushTo(deps: CommandDeps, image: LocalImageNode, registry: RegistryNode, target: PushTarget): Promise<void> {
  await ensureRunningIfLocal(deps, registry);
  const engine = await deps.engine();
  const plan = planPush(image.image.reference, target);
  if (plan.needsTag) await engine.tag(image.image.reference ?? image.image.id, plan.reference);
  const auth = await engineAuthFor(deps, registry.registry);
  const progress = new TransferProgress();
  await deps.ui.withProgress(`Pushing ${plan.reference}`, true, (report, signal) =>
    engine.push(plan.reference, { ...(auth ? { auth } : {}), signal, onProgress: (e) => report(progress.report(e)) }),
  );
  deps.tree.refreshLocalImages();
  deps.tree.refresh(registry);
  void deps.ui.info(`Pushed ${plan.reference}.`);
}
