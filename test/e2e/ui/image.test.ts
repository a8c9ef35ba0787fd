import * as assert from 'node:assert/strict';
import { MediaType } from '../../../src/oci/mediaTypes';
import { shortDigest } from '../../../src/views/format';
import { layerTar } from '../../support/layerTar';
import { blobOf, buildArtifact, buildImage, layerOf, pushBuilt, type BuiltImage } from '../../support/ociImage';
import { useUiSession, type SessionHooks } from './session';

/*
 * Seeing inside an image without pulling it: the Referrers group under its digest, the image page,
 * and its files as a folder in the explorer, all straight from the local registry.
 */

/** An image with one file, /etc/motd, pushed to the session's local registry (started for it) as e2e/insight:v1. */
async function pushInsightImage(ui: SessionHooks): Promise<BuiltImage> {
  const wb = ui.s.wb;
  await wb.showView('Registries');
  await wb.runCommand('Berth: Start Local Registry');
  await wb.waitForRow('Registries', /^\s*Local registry\s*running on/, 60_000);
  const layer = layerOf(await layerTar([{ path: 'etc', type: 'directory' }, { path: 'etc/motd', content: 'welcome aboard\n' }]), { gzip: true });
  const config = blobOf(JSON.stringify({
    architecture: 'amd64', os: 'linux', created: '2025-05-06T07:08:09Z', config: { Cmd: ['/bin/motd'], ExposedPorts: { '8080/tcp': {} } },
    rootfs: { type: 'layers', diff_ids: [layer.diffId] }, history: [{ created_by: 'COPY motd /etc/motd # buildkit' }],
  }), MediaType.ociConfig);
  const image = buildImage({ layers: [layer], config });
  await pushBuilt(ui.localUrl, 'e2e/insight', image, 'v1');
  await wb.collapseAll('Registries');
  await wb.expand(wb.treeRow('Registries', 'Local registry'));
  await wb.expandUntil(await wb.waitForRow('Registries', 'e2e/insight'), wb.treeRow('Registries', 'v1'));
  return image;
}

describe('Image insight (UI): referrers, the image page and the files of a tag, in a window with a folder', function () {
  const ui = useUiSession('image-insight');
  let image: BuiltImage;

  before(async function () {
    image = await pushInsightImage(ui);
    await pushBuilt(ui.localUrl, 'e2e/insight', buildArtifact({
      subject: image.descriptor, artifactType: 'application/spdx+json', annotations: { 'org.opencontainers.image.created': '2025-05-06T08:00:00Z' },
      blobs: [blobOf('{"spdxVersion":"SPDX-2.3","name":"insight"}', 'application/spdx+json')],
    }));
  });

  it('lists the SBOM in a Referrers group under the digest and opens its payload', async function () {
    const wb = ui.s.wb;
    await wb.expandUntil(wb.treeRow('Registries', 'v1'), wb.treeRow('Registries', shortDigest(image.digest)));
    await wb.expandUntil(wb.treeRow('Registries', shortDigest(image.digest)), wb.treeRow('Registries', 'Referrers'));
    assert.match(await wb.treeRow('Registries', 'Referrers').innerText(), /1 SBOM/);
    await wb.expandUntil(wb.treeRow('Registries', 'Referrers'), wb.treeRow('Registries', 'SBOM (SPDX)'));
    await wb.treeRow('Registries', 'SBOM (SPDX)').click();
    await wb.waitForEditorTitle(/sha256-[0-9a-f]{64}\.json/);
    assert.match(await wb.activeEditorText(), /"spdxVersion": "SPDX-2\.3"/);
    await wb.screenshot('image-referrers');
  });

  it('shows the image page (config, history, layers) from the tag’s context menu', async function () {
    const wb = ui.s.wb;
    await wb.contextMenu(wb.treeRow('Registries', 'v1'), 'Show Image (config, history, layers)');
    await wb.waitForEditorTitle(/v1\.md/);
    const text = await wb.activeEditorText();
    assert.match(text, /# 127\.0\.0\.1:\d+\/e2e\/insight:v1/);
    assert.match(text, /`8080\/tcp`/);
    await wb.screenshot('image-page');
  });

  it('adds the tag’s files next to the open folder: the window reloads as a workspace with both', async function () {
    const wb = ui.s.wb;
    await wb.contextMenu(wb.treeRow('Registries', 'v1'), 'Browse Files');
    await wb.waitForReload(/[?&]workspace=/, 120_000);
    const folder = wb.explorerRow('Local registry: e2e/insight:v1');
    await folder.waitFor({ timeout: 90_000 });
    await wb.explorerRow('workspace').waitFor({ timeout: 30_000 });
    await wb.expandUntil(folder, wb.explorerRow('etc'), 90_000);
    await wb.expandUntil(wb.explorerRow('etc'), wb.explorerRow('motd'));
    await wb.statusBarItem(new RegExp(`Registry :${ui.port}`), 60_000);
    await wb.screenshot('image-files-next-to-folder');
  });
});

/**
 * Browse Files in a window with no folder: VS Code can only add a folder by reloading the window into
 * a workspace, which also restarts the extension host (and with it the local registry).
 */
describe('Image insight (UI): the files of a tag, from a window with no folder open', function () {
  const ui = useUiSession('image-files', { emptyWindow: true });

  before(async function () {
    await pushInsightImage(ui);
  });

  it('opens the tag’s files as a folder in the explorer after the reload, and a file from it; the local registry runs again', async function () {
    const wb = ui.s.wb;
    await wb.statusBarItem(new RegExp(`Registry :${ui.port}`));
    await wb.contextMenu(wb.treeRow('Registries', 'v1'), 'Browse Files');
    // The window comes back as a workspace; on a loaded machine that takes a while.
    await wb.waitForReload(/[?&]workspace=/, 120_000);
    const folder = wb.explorerRow('Local registry: e2e/insight:v1');
    await folder.waitFor({ timeout: 90_000 });
    await wb.expandUntil(folder, wb.explorerRow('etc'), 90_000);
    await wb.expandUntil(wb.explorerRow('etc'), wb.explorerRow('motd'));
    await wb.explorerRow('motd').click();
    await wb.waitForEditorTitle(/motd/);
    assert.match(await wb.activeEditorText(), /welcome aboard/);
    // It ran before the reload, so it runs after it, on the same port.
    await wb.statusBarItem(new RegExp(`Registry :${ui.port}`), 60_000);
    await wb.screenshot('image-files');
  });
});
