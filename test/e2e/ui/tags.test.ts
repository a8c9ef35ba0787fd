import * as assert from 'node:assert/strict';
import { formatAge, shortDigest } from '../../../src/views/format';
import { buildImage, buildIndex, MULTI_PLATFORMS, pushBuilt, pushManifest, randomLayer } from '../../support/ociImage';
import { useUiSession } from './session';

/**
 * Tags as a person sees them: the order holds across the whole tag list (the highest version is on top
 * before "Load more…", not the highest of the first page the registry sent); digest rows show a short
 * digest and the image's size, and each platform row its own image's size.
 */
describe('Registries view (UI): tags and digests', function () {
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

  it('shows a short digest and the image size on digest rows, and each platform\'s own image size', async () => {
    const wb = ui.s.wb;
    const single = buildImage({ layers: [randomLayer(150_000)] });
    const images = MULTI_PLATFORMS.slice(0, 2).map((platform, i) => buildImage({ platform, layers: [randomLayer(20_000 * (i + 1))] }));
    const index = buildIndex({ images });
    await pushBuilt(ui.localUrl, 'e2e/sizes', single, 'single');
    await pushBuilt(ui.localUrl, 'e2e/sizes', index, 'multi');
    await wb.collapseAll('Registries');
    await wb.expandUntil(wb.treeRow('Registries', 'Local registry'), wb.treeRow('Registries', 'e2e/sizes'));
    await wb.expandUntil(wb.treeRow('Registries', 'e2e/sizes'), wb.treeRow('Registries', 'single'));
    await wb.expandUntil(wb.treeRow('Registries', 'single'), wb.treeRow('Registries', shortDigest(single.digest)));
    assert.deepEqual(await rowsBelow('single', 1), [`${shortDigest(single.digest)}150 KB`]);
    await wb.expandUntil(wb.treeRow('Registries', 'multi'), wb.treeRow('Registries', shortDigest(index.digest)));
    const indexRow = wb.treeRow('Registries', shortDigest(index.digest));
    await wb.expandUntil(indexRow, wb.treeRow('Registries', 'linux/arm64/v8'));
    await wb.waitForRow('Registries', /linux\/arm64\/v8.*KB/);
    assert.deepEqual(await rowsBelow('multi', 3), [
      `${shortDigest(index.digest)}index · 2 platforms`,
      `linux/amd64${shortDigest(images[0]?.digest ?? '')} · 20 KB`,
      `linux/arm64/v8${shortDigest(images[1]?.digest ?? '')} · 40 KB`,
    ]);
    await wb.screenshot('digest-rows-short-digest-and-sizes');
  });
});

describe('Registries view (UI): tags newest first', function () {
  const ui = useUiSession('tags-newest', { settings: { 'berth.pageSize': 5, 'berth.tags.sortOrder': 'newest' } });

  it('puts the most recently built image on top, each tag with its age', async () => {
    const wb = ui.s.wb;
    await wb.runCommand('Berth: Start Local Registry');
    await wb.waitForRow('Registries', /^\s*Local registry\s*running on/, 60_000);
    // The highest version is not the newest build: a rebuilt 1.0 is.
    const built: Array<[string, string]> = [['1.0', '2026-06-01T00:00:00Z'], ['2.0', '2025-01-01T00:00:00Z'], ['nightly', '2024-01-01T00:00:00Z']];
    for (const [tag, created] of built) await pushBuilt(ui.localUrl, 'e2e/built', buildImage({ created }), tag);
    await wb.collapseAll('Registries');
    await wb.expandUntil(wb.treeRow('Registries', 'Local registry'), wb.treeRow('Registries', 'e2e/built'));
    await wb.expandUntil(wb.treeRow('Registries', 'e2e/built'), wb.treeRow('Registries', '1.0'));
    const texts = await ui.s.wb.rowTexts('Registries');
    const at = texts.indexOf('e2e/built');
    const rows = texts.slice(at + 1, at + 4);
    // Label and description run together in a row's text: `1.0` then `6 months ago`.
    assert.deepEqual(rows, built.map(([tag, created]) => `${tag}${formatAge(Date.parse(created), Date.now())}`));
    await wb.screenshot('tags-newest-first');
  });
});
