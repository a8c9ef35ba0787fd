import { Cancelled, problemOf, UserError } from '../app/problems';
import type { Ui } from './ui';
import type { Docs, EngineApi, LocalRegistryControl, Log, RegistryApi, RegistryStore, Settings, TreeControl } from '../app/ports';

/** Everything a command may touch, passed in (no global service locator). */
export interface CommandDeps {
  ui: Ui;
  log: Log;
  store: RegistryStore;
  /** Loaded on first use, so activation does not pay for the client. */
  registry(): Promise<RegistryApi>;
  /** Loaded on first use: dockerode is never imported at activation. */
  engine(): Promise<EngineApi>;
  local: LocalRegistryControl;
  tree: TreeControl;
  settings: Settings;
  docs: Docs;
  /** Home-relative paths and environment, injectable for tests. */
  env: NodeJS.ProcessEnv;
}

export interface CommandSpec {
  id: string;
  run(deps: CommandDeps, node?: unknown, ...rest: unknown[]): Promise<void>;
}

/**
 * Runs a command so that a failure is a message a person can act on, never a stack trace;
 * the stack goes to the log. Dismissing a prompt ends the command quietly.
 */
export async function runCommand(spec: CommandSpec, deps: CommandDeps, args: unknown[]): Promise<void> {
  try {
    await spec.run(deps, ...args);
  } catch (err) {
    if (err instanceof Cancelled) return;
    const problem = problemOf(err);
    if (problem.kind === 'cancelled') return;
    deps.log.error(`${spec.id} failed: ${err instanceof Error && !(err instanceof UserError) ? (err.stack ?? err.message) : problem.message}`);
    await deps.ui.error(problem.message);
  }
}
