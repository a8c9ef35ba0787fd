import { findFreePort } from '../local/localRegistry';
import { problemOf } from '../app/problems';
import type { CommandDeps, CommandSpec } from './command';

/**
 * Starts the local registry; a busy port gets a clear message and the offer of the next free one,
 * saying which setting it is saved in. `automatic`: the auto-start at launch failed, so the
 * messages say that this is what happened. `announce: false`: a plain successful start says nothing
 * (a push that started it on the way says what it did itself).
 */
export async function startLocal(deps: CommandDeps, options: { automatic?: boolean; announce?: boolean } = {}): Promise<void> {
  const prefix = options.automatic ? 'The local registry did not start automatically. ' : '';
  try {
    await deps.local.start();
  } catch (err) {
    deps.log.error(`starting the local registry failed: ${problemOf(err).message}`);
    if ((err as { kind?: string }).kind !== 'port-in-use') {
      if ((await deps.ui.error(`${prefix}${problemOf(err).message}`, 'Show Logs')) === 'Show Logs') deps.local.showLogs();
      return;
    }
    const port = (err as { port?: number }).port;
    const free = await findFreePort(port);
    const use = `Use Port ${free}`;
    const choice = await deps.ui.warn(`${prefix}${problemOf(err).message} Start it on port ${free} instead? That saves berth.localRegistry.port = ${free} in your settings.`, {}, use, 'Show Logs');
    if (choice === 'Show Logs') deps.local.showLogs();
    if (choice !== use) return;
    const where = await deps.settings.setLocalPort(free);
    deps.log.info(`port ${port ?? '?'} was in use; berth.localRegistry.port is now ${free} in ${where}`);
    await deps.local.start();
    void deps.ui.info(`The local registry is running on 127.0.0.1:${deps.local.status().port ?? free}. berth.localRegistry.port = ${free} is saved in ${where}.`);
    return;
  }
  if (options.announce !== false) void deps.ui.info(`The local registry is running on 127.0.0.1:${deps.local.status().port ?? '?'}.`);
}

export const localStart: CommandSpec = {
  id: 'berth.local.start',
  run: (deps, arg) => startLocal(deps, { automatic: typeof arg === 'object' && arg !== null && (arg as { automatic?: unknown }).automatic === true }),
};
