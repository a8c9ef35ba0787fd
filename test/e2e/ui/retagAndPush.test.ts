import * as assert from 'node:assert/strict';
import { freePort, removeDir, tempDir } from '../../support/proc';
import { busyboxContext } from '../../support/images';
import { listTags } from '../../support/ociImage';
import { fixtures } from '../fixtures';
import { startUiSession, type UiSession } from './session';

describe('Local Images view (UI): right-click → Retag and Push…', function () {
  let s: UiSession;
  let storage: string;
  let port: number;
  const source = 'e2e-ui/app:1.0';

  before(async function () {
    const ctx = busyboxContext(2, 'e2e-ui');
    try {
      await fixtures().dockerd.docker(['build', '-q', '-t', source, ctx]);
    } finally {
      removeDir(ctx);
    }
    storage = tempDir('e2e-ui-push');
    port = await freePort();
    s = await startUiSession('retag-and-push', { 'berth.localRegistry.port': port, 'berth.localRegistry.storagePath': storage });
    await s.wb.openViewContainer('Berth');
  });
  afterEach(async function () {
    await s?.captureFailure(this);
  });
  after(async function () {
    await s?.stop();
    removeDir(storage);
  });

  it('pushes a local image to the local registry under a new name, with the registry started on the way', async () => {
    await s.wb.showView('Local Images');
    await s.wb.runCommand('Berth: Refresh Local Images');
    const image = await s.wb.waitForRow('Local Images', source, 60_000);
    await s.wb.screenshot('local-images');
    await s.wb.contextMenu(image, 'Retag and Push…');
    await s.wb.pick('Local registry');
    // The local registry is stopped: Berth offers to start it before asking for the name.
    await s.wb.clickNotificationButton(/local registry is not running/i, 'Start the Local Registry');
    await s.wb.answer('e2e/retagged', /Repository/);
    await s.wb.answer('2.0', /Tag/);
    const done = await s.wb.waitForNotification(/^Pushed /, 120_000);
    assert.match(done, new RegExp(`Pushed 127\\.0\\.0\\.1:${port}/e2e/retagged:2\\.0`));
    assert.deepEqual(await listTags(`http://127.0.0.1:${port}`, 'e2e/retagged'), ['2.0']);
    await s.wb.hideNotifications();
    await s.wb.showView('Registries');
    const registry = await s.wb.waitForRow('Registries', /^\s*Local registry\s*running on/);
    await s.wb.expand(registry);
    await s.wb.waitForRow('Registries', 'e2e/retagged');
    await s.wb.screenshot('retag-and-push-done');
  });
});
