import { UserError } from '../app/problems';
import { formatBytes } from '../oci/format';
import type { CommandSpec } from './command';
import { startLocal } from './localStart';

/** The registry's CLI writes exact byte counts (for scripts); people read "4.2 MB". */
export function readableSizes(line: string): string {
  return line.replace(/\b(\d+) bytes\b/g, (_m, n: string) => formatBytes(Number(n)));
}

/** The lines of a gc dry run worth showing in a confirmation (its summary first), sizes in KB/MB. */
export function gcPreview(output: string, maxLines = 12): { summary: string; detail: string; nothingToDo: boolean } {
  const lines = output.split(/\r?\n/).map((l) => readableSizes(l.trim())).filter(Boolean);
  const summary = lines.find((l) => /remove \d+ manifests? and \d+ blobs?/i.test(l)) ?? lines[lines.length - 1] ?? 'Nothing to remove.';
  // The registry's summary: "would remove N manifests and M blobs (B bytes) and U abandoned uploads (X bytes); K blobs kept, …".
  const counts = /remove (\d+) manifests? and (\d+) blobs?/i.exec(output);
  const uploads = /and (\d+) abandoned uploads?/i.exec(output)?.[1] ?? '0';
  const nothingToDo = lines.length === 0 || (counts ? counts[1] === '0' && counts[2] === '0' && uploads === '0' : /nothing to (remove|delete|collect)/i.test(output));
  const shown = lines.slice(0, maxLines);
  return { summary, detail: shown.join('\n') + (lines.length > maxLines ? `\n… and ${lines.length - maxLines} more lines (see the logs)` : ''), nothingToDo };
}

/**
 * Garbage collection needs the registry stopped (the server holds a lock on its root): preview
 * with --dry-run, confirm, collect, and start it again if it was running.
 */
export const localGc: CommandSpec = {
  id: 'berth.local.gc',
  async run(deps) {
    const wasRunning = deps.local.status().state === 'running';
    if (wasRunning) {
      const ok = await deps.ui.warn('Garbage collection stops the local registry while it runs, then starts it again.', { modal: true }, 'Continue');
      if (ok !== 'Continue') return;
      await deps.local.stop();
    }
    try {
      const preview = gcPreview(await deps.ui.withProgress('Looking for unreferenced blobs…', false, () => deps.local.gc(true)));
      if (preview.nothingToDo) {
        void deps.ui.info(`Nothing to collect: ${preview.summary}`);
        return;
      }
      const go = await deps.ui.warn(`Garbage collection: ${preview.summary}`, { modal: true, detail: preview.detail }, 'Delete');
      if (go !== 'Delete') return;
      const out = await deps.ui.withProgress('Collecting garbage…', false, () => deps.local.gc(false));
      void deps.ui.info(`Garbage collection done: ${gcPreview(out).summary}`);
    } catch (err) {
      throw err instanceof Error ? new UserError(err.message) : err;
    } finally {
      if (wasRunning) await startLocal(deps);
    }
  },
};
