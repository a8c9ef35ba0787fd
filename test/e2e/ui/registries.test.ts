import * as assert from 'node:assert/strict';
import { freePort, removeDir, tempDir } from '../../support/proc';
import { buildIndex, listTags, pushBuilt } from '../../support/ociImage';
import { startUiSession, type UiSession } from './session';

/**
 * A person's path through the Registries view: start the local registry from the view, browse
 * registry → repository → tag → digest → platform, inspect the manifest, delete a tag.
 */
describe('Registries view (UI): the local registry from start to delete', function () {
  let s: UiSession;
  let storage: string;
  let port: number;
  const index = buildIndex();
  const url = (): string => `http://127.0.0.1:${port}`;

  before(async function () {
    storage = tempDir('e2e-ui-storage');
    port = await freePort();
    s = await startUiSession('registries', { 'berth.localRegistry.port': port, 'berth.localRegistry.storagePath': storage });
    await s.wb.openViewContainer('Berth');
    await s.wb.showView('Registries');
  });
  afterEach(async function () {
    await s?.captureFailure(this);
  });
  after(async function () {
    await s?.stop();
    removeDir(storage);
  });

  async function ensureRunning(): Promise<void> {
    const row = s.wb.treeRow('Registries', 'Local registry');
    if (/running on/.test(await row.innerText().catch(() => ''))) return;
    await s.wb.runCommand('Berth: Start Local Registry');
    await s.wb.waitForRow('Registries', /^\s*Local registry\s*running on/);
  }

  it('starts the local registry from the view and shows it running on its port', async () => {
    await s.wb.screenshot('registries-before-start');
    await s.wb.clickWelcomeButton('Registries', 'Start Local Registry');
    const row = await s.wb.waitForRow('Registries', /^\s*Local registry\s*running on/, 60_000);
    assert.match(await row.innerText(), new RegExp(`running on :${port}`));
    assert.equal((await fetch(`${url()}/v2/`)).status, 200);
    await s.wb.screenshot('registries-local-running');
  });

  it('expands registry → repository → tag → digest → platform for a multi-platform image', async () => {
    await ensureRunning();
    await pushBuilt(url(), 'e2e/multi', index, '1.0');
    const registry = s.wb.treeRow('Registries', 'Local registry');
    await s.wb.refreshRow(registry);
    await s.wb.expand(registry);
    await s.wb.expand(await s.wb.waitForRow('Registries', 'e2e/multi'));
    await s.wb.expand(await s.wb.waitForRow('Registries', '1.0'));
    const digest = await s.wb.waitForRow('Registries', index.digest);
    assert.match(await digest.innerText(), /index · 3 platforms/);
    await s.wb.expand(digest);
    for (const platform of ['linux/amd64', 'linux/arm64/v8', 'linux/arm/v7']) await s.wb.waitForRow('Registries', platform);
    await s.wb.screenshot('registries-expanded-to-platforms');
  });

  it('inspects the manifest from the digest’s context menu as a JSON document', async () => {
    await ensureRunning();
    await pushBuilt(url(), 'e2e/inspect-ui', index, '2.0');
    const registry = s.wb.treeRow('Registries', 'Local registry');
    await s.wb.refreshRow(registry);
    await s.wb.expand(registry);
    await s.wb.expand(await s.wb.waitForRow('Registries', 'e2e/inspect-ui'));
    await s.wb.expand(await s.wb.waitForRow('Registries', '2.0'));
    await s.wb.contextMenu(await s.wb.waitForRow('Registries', index.digest), 'Inspect Manifest');
    await s.wb.waitForEditorTitle(/@sha256-[0-9a-f]{64}\.json/);
    const text = await s.wb.activeEditorText();
    assert.match(text, new RegExp(index.digest));
    assert.match(text, /"mediaType": "application\/vnd\.oci\.image\.index\.v1\+json"/);
    await s.wb.screenshot('inspect-manifest');
  });

  it('deletes a tag after a modal confirmation; the tag is gone from the tree and the registry', async () => {
    await ensureRunning();
    await pushBuilt(url(), 'e2e/doomed', index, 'keep');
    await pushBuilt(url(), 'e2e/doomed', index, 'drop');
    const registry = s.wb.treeRow('Registries', 'Local registry');
    await s.wb.refreshRow(registry);
    await s.wb.expand(registry);
    await s.wb.expand(await s.wb.waitForRow('Registries', 'e2e/doomed'));
    await s.wb.contextMenu(await s.wb.waitForRow('Registries', 'drop'), 'Delete…');
    const question = await s.wb.confirmDialog(/^Delete/);
    assert.match(question, /drop/);
    await s.wb.waitForRowGone('Registries', 'drop');
    assert.deepEqual(await listTags(url(), 'e2e/doomed'), ['keep']);
    await s.wb.screenshot('registries-after-delete');
  });
});
