import * as assert from 'node:assert/strict';
import { buildImage, pushBuilt, pushManifest } from '../../support/ociImage';
import { useUiSession } from './session';

/**
 * Tags as a person sees them: the order holds across the whole tag list (the highest version is on top
 * before "Load more…", not the highest of the first page the registry sent).
 */
describe('Registries view (UI): tags', function () {
  const ui = useUiSession('tags', { settings: { 'berth.pageSize': 5, 'berth.tags.sortOrder': 'semver' } });

  before(async function () {
    const wb = ui.s.wb;
    await wb.runCommand('Berth: Start Local Registry');
    await wb.waitForRow('Registries', /^\s*Local registry\s*running on/, 60_000);
  });

  /** The rows below `parent`'s row, as shown (label and description run together). */
  async function rowsBelow(parent: string, count: number): Promise<string[]> {
    const texts = await ui.s.wb.rowTexts('Registries');
    const at = texts.indexOf(parent);
    assert.ok(at >= 0, `no row "${parent}" in ${JSON.stringify(texts)}`);
    return texts.slice(at + 1, at + 1 + count);
  }

  it('shows the highest version on top before "Load more…", though the registry lists 1.0.30 on its fifth page', async () => {
    const wb = ui.s.wb;
    // The registry lists tags lexically, five a page: 1.0.0, 1.0.1, 1.0.10, 1.0.11, 1.0.12 come first.
    const image = buildImage();
    await pushBuilt(ui.localUrl, 'e2e/versions', image, '1.0.0');
    for (let i = 1; i <= 30; i++) await pushManifest(ui.localUrl, 'e2e/versions', `1.0.${i}`, image);
    await wb.collapseAll('Registries');
    await wb.expandUntil(wb.treeRow('Registries', 'Local registry'), wb.treeRow('Registries', 'e2e/versions'));
    await wb.expandUntil(wb.treeRow('Registries', 'e2e/versions'), wb.treeRow('Registries', '1.0.30'));
    await wb.waitForRow('Registries', /Load more…\s*5 of 31 shown/);
    const first = await rowsBelow('e2e/versions', 6);
    assert.deepEqual(first.slice(0, 5), ['1.0.30', '1.0.29', '1.0.28', '1.0.27', '1.0.26']);
    assert.match(first[5] ?? '', /^Load more…\s*5 of 31 shown$/);
    await wb.screenshot('tags-highest-version-first');
    await wb.treeRow('Registries', 'Load more…').click();
    await wb.waitForRow('Registries', /Load more…\s*10 of 31 shown/);
    const second = await rowsBelow('e2e/versions', 11);
    assert.deepEqual(second.slice(0, 10), ['1.0.30', '1.0.29', '1.0.28', '1.0.27', '1.0.26', '1.0.25', '1.0.24', '1.0.23', '1.0.22', '1.0.21'], 'the first five rows stay; the next five come below');
    assert.match(second[10] ?? '', /^Load more…\s*10 of 31 shown$/);
  });
});
