import * as assert from 'node:assert/strict';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { useUiSession } from './session';

describe('without a container engine (UI)', function () {
  // A socket path nothing listens on: the engine is simply not there.
  const ui = useUiSession('no-engine', { hostEnv: { DOCKER_HOST: `unix://${join(tmpdir(), 'berth-e2e-no-engine', 'docker.sock')}` } });

  it('Local Images says no engine answered and how to fix it, while the Registries view keeps working', async () => {
    const wb = ui.s.wb;
    assert.match(await wb.waitForViewText('Local Images', /No container engine answered/), /DOCKER_HOST/);
    await wb.showView('Registries');
    await wb.clickWelcomeButton('Registries', 'Start Local Registry');
    await wb.waitForRow('Registries', new RegExp(`^\\s*Local registry\\s*running on :${ui.port}`), 60_000);
    await wb.screenshot('no-engine');
  });
});
