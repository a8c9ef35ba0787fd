import * as assert from 'node:assert/strict';
import { buildIndex, listTags, pushBuilt, type BuiltIndex } from '../../support/ociImage';
import { shortDigest } from '../../../src/views/format';
import { useUiSession } from './session';

/**
 * A person's path through the Registries view: start the local registry from the view, browse
 * registry → repository → tag → digest → platform, inspect the manifest, delete a tag.
 */
describe('Registries view (UI): the local registry from start to delete', function () {
  const ui = useUiSession('registries');

  async function ensureRunning(): Promise<void> {
    const row = ui.s.wb.treeRow('Registries', 'Local registry');
    if (/running on/.test(await row.innerText().catch(() => ''))) return;
    await ui.s.wb.runCommand('Berth: Start Local Registry');
    await ui.s.wb.waitForRow('Registries', /^\s*Local registry\s*running on/);
  }

  /**
   * Pushes `index` under each tag while the local registry's row is open, waits for the repository to
   * appear on its own (the registry tells Berth about pushes) and opens it.
   */
  async function showRepository(repository: string, index: BuiltIndex, tags: string[]): Promise<void> {
    await ensureRunning();
    await ui.s.wb.collapseAll('Registries');
    await ui.s.wb.expand(ui.s.wb.treeRow('Registries', 'Local registry'));
    for (const tag of tags) await pushBuilt(ui.localUrl, repository, index, tag);
    const repo = await ui.s.wb.waitForRow('Registries', repository);
    await ui.s.wb.expandUntil(repo, ui.s.wb.treeRow('Registries', tags[0] ?? ''));
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

  it('shows a stopped registry in the tree and the status bar, and starts it again from the tree’s own action', async () => {
    const wb = ui.s.wb;
    await ensureRunning();
    assert.match(await wb.statusBarItem(/Registry/), new RegExp(`:${ui.port}`));
    await wb.runCommand('Berth: Stop Local Registry');
    const registry = await wb.waitForRow('Registries', /^\s*Local registry\s*stopped/);
    assert.match(await wb.statusBarItem(/Registry/), /stopped/i);
    await wb.expand(registry);
    await (await wb.waitForRow('Registries', /Start the local registry/)).click();
    await wb.waitForRow('Registries', new RegExp(`^\\s*Local registry\\s*running on :${ui.port}`), 60_000);
    assert.equal((await fetch(`${ui.localUrl}/v2/`)).status, 200);
  });

  it('expands registry → repository → tag → digest → platform for a multi-platform image', async () => {
    const index = buildIndex();
    await showRepository('e2e/multi', index, ['1.0']);
    await ui.s.wb.expandUntil(ui.s.wb.treeRow('Registries', '1.0'), ui.s.wb.treeRow('Registries', shortDigest(index.digest)));
    const digest = ui.s.wb.treeRow('Registries', shortDigest(index.digest));
    assert.match(await digest.innerText(), /index · 3 platforms/);
    await ui.s.wb.expandUntil(digest, ui.s.wb.treeRow('Registries', 'linux/amd64'));
    for (const platform of ['linux/arm64/v8', 'linux/arm/v7']) await ui.s.wb.waitForRow('Registries', platform);
    await ui.s.wb.screenshot('registries-expanded-to-platforms');
  });

  it('inspects the manifest from the digest’s context menu as a JSON document', async () => {
    const index = buildIndex();
    await showRepository('e2e/inspect-ui', index, ['2.0']);
    await ui.s.wb.expandUntil(ui.s.wb.treeRow('Registries', '2.0'), ui.s.wb.treeRow('Registries', shortDigest(index.digest)));
    await ui.s.wb.contextMenu(ui.s.wb.treeRow('Registries', shortDigest(index.digest)), 'Inspect Manifest');
    await ui.s.wb.waitForEditorTitle(new RegExp(`inspect-ui@${index.digest.replace(':', '-')}\\.json`));
    const text = await ui.s.wb.activeEditorText();
    assert.match(text, new RegExp(`"digest": "${index.digest}"`));
    assert.match(text, /"mediaType": "application\/vnd\.oci\.image\.index\.v1\+json"/);
    await ui.s.wb.screenshot('inspect-manifest');
  });

  it('adds a tag in the registry from a tag’s context menu (no engine); the new tag points at the same manifest', async () => {
    const index = buildIndex();
    // Tag names differ between tests: rows are found by label, and the tree keeps earlier repositories open.
    await showRepository('e2e/retag-ui', index, ['rc-1']);
    await ui.s.wb.contextMenu(ui.s.wb.treeRow('Registries', 'rc-1'), 'Add Tag (Retag in Registry)…');
    await ui.s.wb.answer('stable', /New tag for e2e\/retag-ui:rc-1/);
    await ui.s.wb.waitForRow('Registries', 'stable');
    assert.deepEqual((await listTags(ui.localUrl, 'e2e/retag-ui')).sort(), ['rc-1', 'stable']);
    const served = await fetch(`${ui.localUrl}/v2/e2e/retag-ui/manifests/stable`, { method: 'HEAD', headers: { Accept: index.mediaType } });
    assert.equal(served.headers.get('docker-content-digest'), index.digest);
  });

  it('deletes a tag after a modal confirmation; the tag is gone from the tree and the registry', async () => {
    await showRepository('e2e/doomed', buildIndex(), ['drop', 'keep']);
    await ui.s.wb.contextMenu(ui.s.wb.treeRow('Registries', 'drop'), 'Delete…');
    const question = await ui.s.wb.confirmDialog(/^Delete/);
    assert.match(question, /drop/);
    await ui.s.wb.waitForRowGone('Registries', 'drop');
    await ui.s.wb.waitForRow('Registries', 'keep');
    assert.deepEqual(await listTags(ui.localUrl, 'e2e/doomed'), ['keep']);
    await ui.s.wb.screenshot('registries-after-delete');
  });
});
