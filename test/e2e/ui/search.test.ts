import * as assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { tempDir } from '../../support/proc';
import { useUiSession } from './session';

/** The filter searches the whole catalog: the last of 50,000 repositories is found, and the tree and a notification say how much was searched. */
describe('Registries view (UI): a filter searches every repository of the registry', function () {
  const storage = tempDir('e2e-search-storage');
  const ui = useUiSession('search', {
    prepare: async () => {
      // Repositories as distribution's layout holds them: a `_manifests` folder makes one.
      for (let i = 0; i < 50_000; i++) mkdirSync(join(storage, 'docker', 'registry', 'v2', 'repositories', 'team', `app-${String(i).padStart(5, '0')}`, '_manifests', 'tags'), { recursive: true });
    },
    settings: { 'berth.localRegistry.storagePath': storage },
  });
  // 200,000 folders take minutes to remove on a loaded machine; removing them asynchronously keeps the
  // hook's own timeout meaningful instead of blocking the runner.
  after(async function () {
    this.timeout(900_000);
    await rm(storage, { recursive: true, force: true });
  });

  it('finds team/app-49999 among 50,000 repositories and says all were searched', async () => {
    const wb = ui.s.wb;
    await wb.runCommand('Berth: Start Local Registry');
    await wb.waitForRow('Registries', /^\s*Local registry\s*running on/, 60_000);
    await wb.contextMenu(wb.treeRow('Registries', /^\s*Local registry/), 'Filter Repositories…');
    await wb.answer('app-49999', /Filter repositories of Local registry/);
    const message = await wb.waitForNotification(/in all 50,000 repositories/, 180_000);
    assert.match(message, /^1 match for "app-49999" in all 50,000 repositories of Local registry\./);
    await wb.hideNotifications();
    const registry = await wb.waitForRow('Registries', /^\s*Local registry.*filter: app-49999/);
    await wb.expandUntil(registry, wb.treeRow('Registries', 'team/app-49999'));
    const rows = (await wb.rowTexts('Registries')).map((t) => t.replace(/\s+/g, ' ').trim()).filter((t) => /app-|match/.test(t) && !/^Local registry/.test(t));
    assert.equal(rows.length, 2, JSON.stringify(rows));
    assert.match(rows[0] ?? '', /^1 match for "app-49999" in all 50,000 repositories/);
    assert.match(rows[1] ?? '', /^team\/app-49999/);
    await wb.screenshot('search-50000');
  });
});
