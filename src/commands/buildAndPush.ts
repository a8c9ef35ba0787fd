/**
 * Build and Push: a Dockerfile built through the engine (per-step progress, cancellable) and pushed
 * to a connected registry with its stored credentials, then shown in the tree. Build arguments and
 * the target stage are asked for only when the Dockerfile has them.
 */
import { readFile } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { askableArgs, parseDockerfile, type DockerfileInfo } from '../engine/dockerfile';
import type { LocalImageNode } from '../views/nodes';
import { UserError } from '../app/problems';
import type { CommandDeps, CommandSpec } from './command';
import { askPushTarget, pushTo } from './pushFlow';
import { required } from './ui';

function fsPathOf(node: unknown): string | undefined {
  const p = (node as { fsPath?: unknown; scheme?: unknown } | undefined);
  return p && typeof p.fsPath === 'string' && (p.scheme === undefined || p.scheme === 'file') ? p.fsPath : undefined;
}

/** A name docker accepts from a folder name: `My App` → `my-app`. */
export function repositoryFromFolder(folder: string): string {
  return basename(folder).toLowerCase().replace(/[^a-z0-9._-]+/g, '-').replace(/^[^a-z0-9]+|[^a-z0-9]+$/g, '') || 'app';
}

async function askBuildArgs(deps: CommandDeps, info: DockerfileInfo): Promise<Record<string, string>> {
  const args = askableArgs(info);
  if (!args.length) return {};
  const chosen = await required(deps.ui.pickMany(args.map((a) => ({
    label: a.name, description: a.defaultValue !== undefined ? `default: ${a.defaultValue}` : 'no default', picked: a.defaultValue === undefined, value: a,
  })), { title: 'Build arguments to set (the others keep their defaults)', placeHolder: 'ARG' }));
  const out: Record<string, string> = {};
  for (const a of chosen) out[a.name] = await required(deps.ui.input({ title: `Build argument ${a.name}`, value: a.defaultValue ?? '', prompt: `--build-arg ${a.name}=…` }));
  return out;
}

async function askTarget(deps: CommandDeps, info: DockerfileInfo): Promise<string | undefined> {
  const named = info.stages.filter((s) => s.name);
  if (info.stages.length < 2 || !named.length) return undefined;
  const last = info.stages[info.stages.length - 1];
  const items = [
    { label: `${last?.name ?? `stage ${info.stages.length}`} (last stage)`, description: `FROM ${last?.base ?? ''}`, value: '' },
    ...named.filter((s) => s !== last).map((s) => ({ label: s.name as string, description: `FROM ${s.base}`, value: s.name as string })),
  ];
  const target = await required(deps.ui.pick(items, { title: 'Stage to build (--target)', placeHolder: 'Stage' }));
  return target || undefined;
}

export const buildAndPush: CommandSpec = {
  id: 'berth.dockerfile.buildAndPush',
  async run(deps, node) {
    const dockerfile = fsPathOf(node) ?? await required(deps.ui.pickFile({ title: 'Dockerfile to build' }));
    let text: string;
    try {
      text = await readFile(dockerfile, 'utf8');
    } catch (e) {
      throw new UserError(`Cannot read ${dockerfile}: ${e instanceof Error ? e.message : String(e)}`);
    }
    const info = parseDockerfile(text);
    if (info.problems.length) throw new UserError(`${basename(dockerfile)} cannot be built: ${info.problems.join(' ')}`);
    const contextDir = dirname(dockerfile);
    const suggested: LocalImageNode = { kind: 'localImage', image: { id: '', reference: `${repositoryFromFolder(contextDir)}:latest`, repoTags: [], sizeBytes: 0, createdMs: 0 } };
    const { registry, target } = await askPushTarget(deps, suggested);
    const buildArgs = await askBuildArgs(deps, info);
    const stage = await askTarget(deps, info);
    const reference = `${target.host}/${target.repository}:${target.tag}`;
    const engine = await deps.engine();
    deps.log.info(`Building ${reference} from ${dockerfile}`);
    const result = await deps.ui.withProgress(`Building ${reference}`, true, (report, signal) => engine.build({
      contextDir, dockerfile, tags: [reference], buildArgs, ...(stage ? { target: stage } : {}), signal,
      onProgress: (e) => {
        if (e.type === 'step') {
          report({ message: `Step ${e.step}/${e.total}: ${e.instruction}`, increment: 100 / e.total });
          deps.log.info(`Step ${e.step}/${e.total} : ${e.instruction}`);
        } else deps.log.info(e.text);
      },
    }));
    deps.log.info(`Built ${result.imageId} as ${reference}`);
    const built: LocalImageNode = { kind: 'localImage', image: { id: result.imageId, reference, repoTags: [reference], sizeBytes: 0, createdMs: Date.now() } };
    await pushTo(deps, built, registry, target);
  },
};
