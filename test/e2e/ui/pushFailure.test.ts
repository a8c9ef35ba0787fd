import * as assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';
import { stringify } from 'yaml';
import { startBerthRegistry, type BerthRegistry } from '../../support/berthRegistry';
import { bigImageContext, busyboxContext } from '../../support/images';
import { removeDir, tempDir } from '../../support/proc';
import { fixtures } from '../fixtures';
import { connectOtherRegistry, useUiSession } from './session';

describe('Retag and Push (UI) that does not finish: a refused password, a cancelled push', function () {
  const source = 'e2e-denied/app:1.0';
  const big = 'e2e-cancel/big:1.0';
  const username = 'e2e-pusher';
  const oldPassword = 'old-pass-1';
  const newPassword = 'new-pass-2';
  let dir: string;
  let htpasswd: string;
  let registry: BerthRegistry;
  const setPassword = (password: string): void => writeFileSync(htpasswd, `${username}:${bcrypt.hashSync(password, 6)}\n`);

  const ui = useUiSession('push-failure', {
    prepare: async () => {
      dir = tempDir('e2e-push-failure');
      htpasswd = join(dir, 'htpasswd');
      setPassword(oldPassword);
      const config = join(dir, 'config.yml');
      writeFileSync(config, stringify({ auth: { htpasswd: { realm: 'e2e', path: htpasswd } } }));
      registry = await startBerthRegistry({ args: ['--config', config] });
      const ctx = busyboxContext(1, 'e2e-denied');
      const bigCtx = bigImageContext(96);
      try {
        await fixtures().dockerd.docker(['build', '-q', '-t', source, ctx]);
        await fixtures().dockerd.docker(['build', '-q', '-t', big, bigCtx], { timeoutMs: 300_000 });
      } finally {
        removeDir(ctx);
        removeDir(bigCtx);
      }
    },
  });
  after(async function () {
    await registry?.stop();
    if (dir) removeDir(dir);
  });

  async function retagAndPush(): Promise<void> {
    const wb = ui.s.wb;
    await wb.showView('Local Images');
    await wb.runCommand('Berth: Refresh Local Images');
    await wb.contextMenu(await wb.waitForRow('Local Images', source, 60_000), 'Retag and Push…');
    await wb.pick(registry.host);
    await wb.answer('e2e/denied', /Repository/);
    await wb.answer('1', /Tag/);
  }

  it('names the refusal in a short message shown whole, removes the tag it added, and Edit Credentials… fixes the push', async () => {
    const wb = ui.s.wb;
    await connectOtherRegistry(wb, registry.host, username, oldPassword);
    await wb.waitForNotification(/^Connected to /, 60_000);
    await wb.hideNotifications();

    // Someone changes the password on the registry; the editor still holds the old one.
    setPassword(newPassword);
    await retagAndPush();
    const target = `${registry.host}/e2e/denied:1`;
    const failed = new RegExp(`Push of ${target.replace(/\./g, '\\.')} failed`);
    const message = await wb.waitForNotification(failed, 120_000);
    assert.match(message, new RegExp(`Push of ${target.replace(/\./g, '\\.')} failed: ${registry.host.replace(/\./g, '\\.')} did not accept the saved credentials\\.$`));
    assert.match(message, /Edit Credentials…/, 'with its button');
    assert.equal(await wb.notificationFits(failed), true, 'the message is shown whole, not cut off');
    await wb.screenshot('push-unauthorized');
    await wb.showView('Local Images');
    assert.deepEqual((await wb.rowTexts('Local Images')).filter((t) => t.includes(`${registry.host}/e2e/denied`)), [], 'the tag added for the push is gone');

    await wb.clickNotificationButton(failed, 'Edit Credentials…');
    await wb.answer(username, /User name/);
    await wb.answer(newPassword, /Password or token/);
    await wb.answer('', /E-mail/);
    await wb.waitForNotification(/^Credentials for .* updated\./, 60_000);
    await wb.hideNotifications();

    await retagAndPush();
    assert.match(await wb.waitForNotification(/^Pushed /, 120_000), new RegExp(`Pushed ${target.replace(/\./g, '\\.')}`));
    const tags = await fetch(`${registry.url}/v2/e2e/denied/tags/list`, { headers: { Authorization: `Basic ${Buffer.from(`${username}:${newPassword}`).toString('base64')}` } });
    assert.deepEqual(((await tags.json()) as { tags: string[] }).tags, ['1']);
  });

  it('Cancel on the push notification says the push was cancelled, leaves no tag behind, and Garbage-Collect… removes the partial upload', async () => {
    const wb = ui.s.wb;
    await wb.runCommand('Notifications: Clear All Notifications');
    await wb.showView('Local Images');
    await wb.runCommand('Berth: Refresh Local Images');
    await wb.contextMenu(await wb.waitForRow('Local Images', big, 60_000), 'Retag and Push…');
    await wb.pick('Local registry');
    await wb.clickNotificationButton(/local registry is not running/i, 'Start the Local Registry');
    await wb.answer('e2e/big', /Repository/);
    await wb.answer('1', /Tag/);
    const target = `127.0.0.1:${ui.port}/e2e/big:1`;
    await wb.clickNotificationButton(new RegExp(`Pushing ${target.replace(/\./g, '\\.')}`), 'Cancel', 60_000);
    const cancelled = new RegExp(`Push of ${target.replace(/\./g, '\\.')} cancelled\\.`);
    assert.match(await wb.waitForNotification(cancelled, 60_000), /Its temporary tag was removed\. The layers it had started stay in the local registry as abandoned uploads until garbage collection\./);
    await wb.screenshot('push-cancelled');
    assert.deepEqual((await wb.rowTexts('Local Images')).filter((t) => t.includes(target)), [], 'the tag added for the push is gone');

    await wb.clickNotificationButton(cancelled, 'Garbage-Collect…');
    assert.match(await wb.confirmDialog('Continue'), /stops the local registry/);
    assert.match(await wb.confirmDialog('Delete', 60_000), /[1-9]\d* abandoned uploads? \((?!0 B)[\d.]+ [KMG]?B\)/);
    assert.match(await wb.waitForNotification(/^Garbage collection done: /, 120_000), /and [1-9]\d* abandoned uploads?/);
    // Collecting stops the registry; it runs again afterwards.
    await wb.statusBarItem(new RegExp(`Registry :${ui.port}`), 60_000);
    assert.equal((await fetch(`${ui.localUrl}/v2/e2e/big/tags/list`)).status, 404, 'no tag reached the registry');
  });
});
