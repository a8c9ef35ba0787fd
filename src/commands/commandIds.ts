import type { DisposableLike } from '../app/lifecycle';
import type { CommandDeps, CommandSpec, runCommand } from './command';

/**
 * Every command id, known at activation without loading the commands themselves (they live in
 * the lazily loaded dist/commands.js). A unit test keeps this list, the COMMANDS table and
 * package.json in step.
 */
export const COMMAND_IDS: readonly string[] = [
  'berth.registry.connect',
  'berth.registry.editCredentials',
  'berth.registry.disconnect',
  'berth.registry.importDockerConfig',
  'berth.registry.dockerLogin',
  'berth.registry.copyPullSecret',
  'berth.registry.configureTls',
  'berth.registry.addRepository',
  'berth.registries.filter',
  'berth.registries.refresh',
  'berth.registries.loadMore',
  'berth.tag.pull',
  'berth.tag.copyReference',
  'berth.tag.copyDigest',
  'berth.tag.copyPullCommand',
  'berth.tag.inspect',
  'berth.tag.showImage',
  'berth.tag.showArtifacts',
  'berth.tag.browseFiles',
  'berth.tag.compare',
  'berth.dockerfile.buildAndPush',
  'berth.artifact.open',
  'berth.tag.delete',
  'berth.repository.delete',
  'berth.repository.filterTags',
  'berth.tag.retag',
  'berth.tag.copyToRegistry',
  'berth.localImages.refresh',
  'berth.localImage.tag',
  'berth.localImage.push',
  'berth.localImage.retagAndPush',
  'berth.localImage.remove',
  'berth.local.start',
  'berth.local.stop',
  'berth.local.restart',
  'berth.local.showLogs',
  'berth.local.openStorage',
  'berth.local.gc',
  'berth.local.menu',
];

/**
 * Registers every command id through `register` (vscode.commands.registerCommand in the extension);
 * `load` supplies the table and the runner, so the extension can load them on first use.
 */
export function registerCommands(
  ids: readonly string[],
  deps: CommandDeps,
  load: () => Promise<{ COMMANDS: readonly CommandSpec[]; runCommand: typeof runCommand }>,
  register: (id: string, handler: (...args: unknown[]) => Promise<void>) => DisposableLike,
): DisposableLike[] {
  return ids.map((id) =>
    register(id, async (...args: unknown[]) => {
      const m = await load();
      const spec = m.COMMANDS.find((c) => c.id === id);
      if (spec) await m.runCommand(spec, deps, args);
    }),
  );
}
