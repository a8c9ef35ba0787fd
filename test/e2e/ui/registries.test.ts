import * as assert from 'node:assert/strict';
import { buildIndex, listTags, pushBuilt } from '../../support/ociImage';
import { useUiSession } from './session';

/**
 * A person's path through the Registries view: start the local registry from the view, browse
 * registry → repository → tag → digest → platform, inspect the manifest, delete a tag.
 */
describe('Registries view (UI): the local registry from start to delete', function () {
  const ui = useUiSession('registries');
  const index = buildIndex();

  async function ensureRunning(): Promise<void> {
    const row = ui.s.wb.treeRow('Registries', 'Local registry');
    if (/running on/.test(await row.innerText().catch(() => ''))) return;
    await ui.s.wb.runCommand('Berth: Start Local Registry');
    await ui.s.wb.waitForRow('Registries', /^\s*Local registry\s*running on/);
  }

  /** Pushes `index` under each tag (with the registry running), refreshes the local registry's row and opens the repository. */
  async function showRepository(repository: string, tags: string[]): Promise<void> {
    await ensureRunning();
    for (const tag of tags) await pushBuilt(ui.localUrl, repository, index, tag);
    const registry = ui.s.wb.treeRow('Registries', 'Local registry');
    await ui.s.wb.refreshRow(registry);
    await ui.s.wb.expand(registry);
    await ui.s.wb.expand(await ui.s.wb.waitForRow('Registries', repository));
  }

  it('starts the local registry from the view and shows it running on its port', async () => {
    await ui.s.wb.showView('Registries');
    await ui.s.wb.screenshot('registries-before-start');
    await ui.s.wb.clickWelcomeButton('Registries', 'Start Local Registry');
    const row = await ui.s.wb.waitForRow('Registries', /^\s*Local registry\s*running on/, 60_000);
    assert.match(await row.innerText(), new RegExp(`running on :${ui.port}`));
    assert.equal((await fetch(`${ui.localUrl}/v2/`)).status, 200);
    await ui.s.wb.screenshot('registries-local-running');
  });

  it('expands registry → repository → tag → digest → platform for a multi-platform image', async () => {
    await showRepository('e2e/multi', ['1.0']);
    await ui.s.wb.expand(await ui.s.wb.waitForRow('Registries', '1.0'));
    const digest = await ui.s.wb.waitForRow('Registries', index.digest);
    assert.match(await digest.innerText(), /index · 3 platforms/);
    await ui.s.wb.expand(digest);
    for (const platform of ['linux/amd64', 'linux/arm64/v8', 'linux/arm/v7']) await ui.s.wb.waitForRow('Registries', platform);
    await ui.s.wb.screenshot('registries-expanded-to-platforms');
  });

  it('inspects the manifest from the digest’s context menu as a JSON document', async () => {
    await showRepository('e2e/inspect-ui', ['2.0']);
    await ui.s.wb.expand(await ui.s.wb.waitForRow('Registries', '2.0'));
    await ui.s.wb.contextMenu(await ui.s.wb.waitForRow('Registries', index.digest), 'Inspect Manifest');
    await ui.s.wb.waitForEditorTitle(/@sha256-[0-9a-f]{64}\.json/);
    const text = await ui.s.wb.activeEditorText();
    assert.match(text, new RegExp(index.digest));
    assert.match(text, /"mediaType": "application\/vnd\.oci\.image\.index\.v1\+json"/);
    await ui.s.wb.screenshot('inspect-manifest');
  });

  it('deletes a tag after a modal confirmation; the tag is gone from the tree and the registry', async () => {
    await showRepository('e2e/doomed', ['keep', 'drop']);
    await ui.s.wb.contextMenu(await ui.s.wb.waitForRow('Registries', 'drop'), 'Delete…');
    const question = await ui.s.wb.confirmDialog(/^Delete/);
    assert.match(question, /drop/);
    await ui.s.wb.waitForRowGone('Registries', 'drop');
    assert.deepEqual(await listTags(ui.localUrl, 'e2e/doomed'), ['keep']);
    await ui.s.wb.screenshot('registries-after-delete');
  });
});
