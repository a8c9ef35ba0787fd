import * as assert from 'node:assert/strict';
import { buildImage, pushBuilt } from '../../support/ociImage';
import { useUiSession } from './session';

/** A catalog longer than a page: the first page shows at once, then "Load more…"; a filter narrows it. */
describe('Registries view (UI): paging and filtering a catalog', function () {
  const repositories = ['e2e/page-a', 'e2e/page-b', 'e2e/page-c', 'e2e/page-d', 'e2e/page-e'];
  const ui = useUiSession('paging', { settings: { 'berth.pageSize': 2 } });

  before(async function () {
    const wb = ui.s.wb;
    await wb.runCommand('Berth: Start Local Registry');
    await wb.waitForRow('Registries', /^\s*Local registry\s*running on/, 60_000);
    const image = buildImage();
    for (const name of repositories) await pushBuilt(ui.localUrl, name, image, '1.0');
  });

  it('shows the first page of repositories and the rest one "Load more…" at a time', async () => {
    const wb = ui.s.wb;
    await wb.collapseAll('Registries');
    await wb.expandUntil(wb.treeRow('Registries', 'Local registry'), wb.treeRow('Registries', 'e2e/page-a'));
    await wb.waitForRow('Registries', 'e2e/page-b');
    assert.equal(await wb.treeRow('Registries', 'e2e/page-c').isVisible(), false, 'page 2 shown before asking');
    for (const next of ['e2e/page-c', 'e2e/page-e']) {
      await wb.treeRow('Registries', 'Load more…').click();
      await wb.waitForRow('Registries', next);
    }
    await wb.waitForRowGone('Registries', 'Load more…');
    const shown = (await wb.rowTexts('Registries')).filter((t) => t.startsWith('e2e/page-'));
    assert.deepEqual(shown, repositories);
    await wb.screenshot('paging-all-loaded');
  });

  it('filters the local registry’s repositories from its context menu', async () => {
    const wb = ui.s.wb;
    await wb.collapseAll('Registries');
    await wb.contextMenu(wb.treeRow('Registries', /^\s*Local registry/), 'Filter Repositories…');
    await wb.answer('page-d', /Filter repositories of Local registry/);
    const registry = await wb.waitForRow('Registries', /^\s*Local registry.*filter: page-d/);
    await wb.expandUntil(registry, wb.treeRow('Registries', /e2e\/page-d|Load more…/));
    // The filter narrows what is fetched page by page; a match on a later page takes "Load more…".
    const match = wb.treeRow('Registries', 'e2e/page-d');
    for (let page = 0; page < repositories.length; page++) {
      if (await match.waitFor({ timeout: 3000 }).then(() => true, () => false)) break;
      await wb.treeRow('Registries', 'Load more…').click();
    }
    assert.deepEqual((await wb.rowTexts('Registries')).filter((t) => t.startsWith('e2e/page-')), ['e2e/page-d']);
    await wb.screenshot('filtered');
  });
});
