import type { CommandSpec } from './command';
import { localGc } from './localGc';
import { localOpenStorage } from './localOpenStorage';
import { localRestart } from './localRestart';
import { localShowLogs } from './localShowLogs';
import { localStart } from './localStart';
import { localStop } from './localStop';

/** What the status bar item offers: the actions that make sense in the current state. */
export function localMenuItems(state: string): CommandSpec[] {
  const running = state === 'running' || state === 'starting';
  return [...(running ? [localStop, localRestart] : [localStart]), localShowLogs, localOpenStorage, localGc];
}

const LABELS: Record<string, string> = {
  'berth.local.start': '$(debug-start) Start',
  'berth.local.stop': '$(debug-stop) Stop',
  'berth.local.restart': '$(debug-restart) Restart',
  'berth.local.showLogs': '$(output) Show Logs',
  'berth.local.openStorage': '$(folder-opened) Open Storage Folder',
  'berth.local.gc': '$(trash) Garbage Collection…',
};

export const localMenu: CommandSpec = {
  id: 'berth.local.menu',
  async run(deps) {
    const status = deps.local.status();
    const spec = await deps.ui.pick(
      localMenuItems(status.state).map((c) => ({ label: LABELS[c.id] ?? c.id, value: c })),
      { title: `Local registry: ${status.state}${status.port ? ` on 127.0.0.1:${status.port}` : ''}` },
    );
    if (spec) await spec.run(deps);
  },
};
