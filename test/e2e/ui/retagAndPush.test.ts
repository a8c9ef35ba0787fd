import * as assert from 'node:assert/strict';
import { removeDir } from '../../support/proc';
import { busyboxContext } from '../../support/images';
import { listTags } from '../../support/ociImage';
import { fixtures } from '../fixtures';
import { useUiSession } from './session';

describe('Local Images view (UI): right-click → Retag and Push…', function () {
  const source = 'e2e-ui/app:1.0';
  const ui = useUiSession('retag-and-push', {
    prepare: async () => {
      const ctx = busyboxContext(2, 'e2e-ui');
      try {
        await fixtures().dockerd.docker(['build', '-q', '-t', source, ctx]);
      } finally {
        removeDir(ctx);
      }
    },
  });

  it('pushes a local image to the local registry under a new name, with the registry started on the way', async () => {
    const wb = ui.s.wb;
    await wb.showView('Local Images');
    await wb.runCommand('Berth: Refresh Local Images');
    const image = await wb.waitForRow('Local Images', source, 60_000);
    await wb.screenshot('local-images');
    await wb.contextMenu(image, 'Retag and Push…');
    await wb.pick('Local registry');
    // The local registry is stopped: Berth offers to start it before asking for the name.
    await wb.clickNotificationButton(/local registry is not running/i, 'Start the Local Registry');
    await wb.answer('e2e/retagged', /Repository/);
    await wb.answer('2.0', /Tag/);
    const done = await wb.waitForNotification(/^Pushed /, 120_000);
    assert.match(done, new RegExp(`Pushed 127\\.0\\.0\\.1:${ui.port}/e2e/retagged:2\\.0`));
    assert.deepEqual(await listTags(ui.localUrl, 'e2e/retagged'), ['2.0']);
    await wb.hideNotifications();
    await wb.showView('Registries');
    const registry = await wb.waitForRow('Registries', /^\s*Local registry\s*running on/);
    await wb.expand(registry);
    await wb.waitForRow('Registries', 'e2e/retagged');
    await wb.screenshot('retag-and-push-done');
  });

  it('Push Local Image… takes localhost:<port>/… for the local registry on its non-default port, and offers to start it, never an insecure-registries hint', async () => {
    const wb = ui.s.wb;
    const reference = `localhost:${ui.port}/e2e/direct:3`;
    await fixtures().dockerd.docker(['tag', source, reference]);
    // The first flow's notifications (the same "not running" one among them) must not answer for this one.
    await wb.runCommand('Notifications: Clear All Notifications');
    await wb.runCommand('Berth: Stop Local Registry');
    await wb.statusBarItem(/Registry stopped/, 60_000);
    await wb.showView('Local Images');
    await wb.runCommand('Berth: Refresh Local Images');
    await wb.contextMenu(await wb.waitForRow('Local Images', reference, 60_000), 'Push Local Image…');
    // No question where to: the name already says the local registry.
    await wb.clickNotificationButton(/local registry is not running/i, 'Start the Local Registry');
    await wb.waitForNotification(new RegExp(`^Pushed ${reference.replace(/\./g, '\\.')}`), 120_000);
    assert.deepEqual(await listTags(ui.localUrl, 'e2e/direct'), ['3']);
    assert.deepEqual((await wb.notifications()).filter((n) => /insecure-registries/.test(n)), []);
    await wb.screenshot('push-local-image-non-default-port');
  });
});
