import * as assert from 'node:assert/strict';
import { removeDir } from '../../support/proc';
import { busyboxContext } from '../../support/images';
import { buildImage, listTags, pushBuilt } from '../../support/ociImage';
import { fixtures } from '../fixtures';
import { useUiSession } from './session';

/**
 * What a person finds on the rows: the repository row's own menu (pull, filter tags, copy, delete
 * the repository), a copy that says what it copied, and Remove Image on a local image.
 */
describe('Registries and Local Images (UI): repository menu, copy feedback, Remove Image', function () {
  const localImage = 'e2e-remove/app:1.0';
  const ui = useUiSession('repository-menu', {
    prepare: async () => {
      const ctx = busyboxContext(1, 'e2e-remove');
      try {
        await fixtures().dockerd.docker(['build', '-q', '-t', localImage, ctx]);
      } finally {
        removeDir(ctx);
      }
    },
  });

  async function ensureRunning(): Promise<void> {
    const row = ui.s.wb.treeRow('Registries', 'Local registry');
    if (/running on/.test(await row.innerText().catch(() => ''))) return;
    await ui.s.wb.runCommand('Berth: Start Local Registry');
    await ui.s.wb.waitForRow('Registries', /^\s*Local registry\s*running on/, 60_000);
  }

  /** Pushes one image under `tags` and opens the repository's row in the tree. */
  async function showRepository(repository: string, tags: string[]): Promise<void> {
    await ui.s.wb.showView('Registries');
    await ensureRunning();
    await ui.s.wb.collapseAll('Registries');
    const image = buildImage();
    for (const tag of tags) await pushBuilt(ui.localUrl, repository, image, tag);
    await ui.s.wb.expand(ui.s.wb.treeRow('Registries', 'Local registry'));
    const repo = await ui.s.wb.waitForRow('Registries', repository);
    await ui.s.wb.expandUntil(repo, ui.s.wb.treeRow('Registries', tags[0] ?? ''));
  }

  it('a repository row offers Pull Image, Filter Tags…, Copy to Another Registry…, Delete Repository… and Refresh', async () => {
    await showRepository('e2e/menu', ['1.0', 'latest']);
    const items = await ui.s.wb.contextMenuItems(ui.s.wb.treeRow('Registries', 'e2e/menu'));
    for (const item of ['Pull Image', 'Filter Tags…', 'Copy to Another Registry…', 'Delete Repository…', 'Refresh']) {
      assert.ok(items.some((i) => i.startsWith(item)), `${item} in ${JSON.stringify(items)}`);
    }
  });

  it('Copy Image Reference says in the status bar what it copied', async () => {
    await showRepository('e2e/copied', ['2.0']);
    await ui.s.wb.contextMenu(ui.s.wb.treeRow('Registries', '2.0'), 'Copy Image Reference');
    const reference = `127.0.0.1:${ui.port}/e2e/copied:2.0`;
    assert.match(await ui.s.wb.statusBarItem(/Copied image reference/, 10_000), new RegExp(`Copied image reference: ${reference.replace(/\./g, '\\.')}`));
    assert.equal(await ui.s.wb.clipboardText(), reference);
    await ui.s.wb.screenshot('copy-feedback');
  });

  it('Filter Tags… narrows the repository to the matching tags, with a count', async () => {
    await showRepository('e2e/filtered', ['1.0', '1.1', '2.0']);
    await ui.s.wb.contextMenu(ui.s.wb.treeRow('Registries', 'e2e/filtered'), 'Filter Tags…');
    await ui.s.wb.answer('1.*', /Filter tags of e2e\/filtered/);
    await ui.s.wb.waitForRow('Registries', /2 of 3 tags match "1\.\*"/);
    await ui.s.wb.waitForRow('Registries', /e2e\/filtered\s*filter: 1\.\*/);
    await ui.s.wb.waitForRowGone('Registries', '2.0');
    await ui.s.wb.screenshot('filter-tags');
  });

  it('Delete Repository… names how many tags it deletes, and the repository leaves the tree', async () => {
    await showRepository('e2e/doomed-repo', ['a', 'b']);
    await ui.s.wb.contextMenu(ui.s.wb.treeRow('Registries', 'e2e/doomed-repo'), 'Delete Repository…');
    const question = await ui.s.wb.confirmDialog('Delete Repository');
    assert.match(question, /Delete the repository e2e\/doomed-repo from Local registry\? It has 2 tags \(1 manifest\)\./);
    await ui.s.wb.waitForRowGone('Registries', 'e2e/doomed-repo');
    assert.deepEqual(await listTags(ui.localUrl, 'e2e/doomed-repo').catch(() => []), []);
    await ui.s.wb.screenshot('repository-deleted');
  });

  it('Remove Image… on a local image asks first, then the image leaves the Local Images view', async () => {
    const wb = ui.s.wb;
    await wb.showView('Local Images');
    await wb.runCommand('Berth: Refresh Local Images');
    const row = await wb.waitForRow('Local Images', localImage, 60_000);
    await wb.contextMenu(row, 'Remove Image…');
    const question = await wb.confirmDialog(/^Remove$/);
    assert.match(question, /Remove e2e-remove\/app:1\.0 from the container engine\?/);
    await wb.waitForRowGone('Local Images', localImage, 60_000);
    const images = (await fixtures().dockerd.docker(['images', '--format', '{{.Repository}}:{{.Tag}}'])).stdout;
    assert.doesNotMatch(images, /e2e-remove\/app:1\.0/);
  });
});
