import * as assert from 'node:assert/strict';
import { freePort, removeDir, sleep, tempDir } from '../../support/proc';
import { startUiSession, type UiSession } from './session';

/**
 * How long the window stays open after the flows below. What VS Code and Chromium fetch on their own
 * (the gallery, recommendations, component and account checks) starts within seconds of the window
 * opening; this keeps the session up a little past that. An observation window, not a speed assertion.
 */
const OBSERVE_MS = 8000;

describe('nothing leaves 127.0.0.1 (UI)', function () {
  it('code-server, its extension hosts, Chromium and the workbench page reach no address but loopback', async () => {
    const storage = tempDir('e2e-ui-offline-storage');
    let s: UiSession | undefined;
    try {
      s = await startUiSession('offline', { 'berth.localRegistry.port': await freePort(), 'berth.localRegistry.storagePath': storage }, {}, { watchNetwork: true });
      await s.wb.openViewContainer('Berth');
      await s.wb.waitForViewText('Registries', /\S/);
      // The Extensions view is what asks a marketplace: for recommendations when it opens, for a search as it
      // is typed. What the view draws is checked when it draws (code-server may leave a search unanswered).
      const shown = await s.wb.searchExtensions('docker');
      await s.wb.screenshot('offline-extensions-search');
      if (shown !== undefined) assert.doesNotMatch(shown, /ENOTFOUND|getaddrinfo/, 'the Extensions view tried a marketplace');
      await sleep(OBSERVE_MS);
    } finally {
      await s?.stop();
      removeDir(storage);
    }
    assert.deepEqual(s.outbound(), [], 'attempts to reach beyond 127.0.0.1');
  });
});
