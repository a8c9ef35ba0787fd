import { findFreePort } from '../local/localRegistry';
import { problemOf } from '../app/problems';
import type { CommandDeps, CommandSpec } from './command';

/** Starts the local registry; a busy port gets a clear message and the offer of a free one. */
export async function startLocal(deps: CommandDeps): Promise<void> {
  try {
    await deps.local.start();
  } catch (err) {
    if ((err as { kind?: string }).kind !== 'port-in-use') throw err;
    const port = (err as { port?: number }).port;
    const free = await findFreePort();
    const use = `Use Port ${free}`;
    const choice = await deps.ui.warn(`${problemOf(err).message} Start it on port ${free} instead? (Saved in the setting berth.localRegistry.port.)`, {}, use, 'Show Logs');
    if (choice === 'Show Logs') deps.local.showLogs();
    if (choice !== use) return;
    await deps.settings.setLocalPort(free);
    deps.log.info(`port ${port ?? '?'} was in use; the local registry now uses ${free}`);
    await deps.local.start();
  }
  void deps.ui.info(`The local registry is running on 127.0.0.1:${deps.local.status().port ?? '?'}.`);
}

export const localStart: CommandSpec = {
  id: 'berth.local.start',
  run: (deps) => startLocal(deps),
};
