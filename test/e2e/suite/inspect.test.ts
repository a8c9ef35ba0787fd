import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { removeDir, tempDir } from '../../support/proc';
import { buildImage, buildIndex, pushBuilt, type BuiltImage, type BuiltIndex } from '../../support/ociImage';
import type { RegistryNode } from '../../../src/views/nodes';
import { nodes, runnerEnv, startLocalRegistry } from './host';

interface Inspected {
  summary: { digest: string; mediaType: string; layers?: Array<{ digest: string }>; platforms?: Array<{ platform: string; digest: string }> };
  manifest: unknown;
}

/** Runs Inspect Manifest on a tag and returns the document it opened. */
async function inspect(registry: RegistryNode, repository: string, tag: string): Promise<{ doc: vscode.TextDocument; json: Inspected }> {
  await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  await vscode.commands.executeCommand('berth.tag.inspect', nodes.tag(registry, repository, tag));
  const doc = vscode.window.activeTextEditor?.document;
  assert.ok(doc, 'Inspect Manifest opened no editor');
  return { doc, json: JSON.parse(doc.getText()) as Inspected };
}

function checkImage(got: Inspected, image: BuiltImage): void {
  assert.equal(got.summary.digest, image.digest);
  assert.deepEqual(got.manifest, image.manifest);
  assert.deepEqual(got.summary.layers?.map((l) => l.digest), image.manifest.layers.map((l) => l.digest));
}

function checkIndex(got: Inspected, index: BuiltIndex): void {
  assert.equal(got.summary.digest, index.digest);
  assert.deepEqual(got.manifest, index.manifest);
  assert.deepEqual(got.summary.platforms?.map((p) => p.platform), ['linux/amd64', 'linux/arm64/v8', 'linux/arm/v7']);
}

describe('Inspect Manifest (berth.tag.inspect) on real registries', function () {
  const image = buildImage();
  const index = buildIndex();
  let storage: string;
  let local: Awaited<ReturnType<typeof startLocalRegistry>>;
  const registries = new Map<string, RegistryNode>();
  const registry = (name: string): RegistryNode => {
    const node = registries.get(name);
    assert.ok(node, `${name} was not set up`);
    return node;
  };

  before(async function () {
    storage = tempDir('e2e-inspect');
    local = await startLocalRegistry(storage);
    const distribution = runnerEnv('BERTH_E2E_DISTRIBUTION_URL');
    for (const url of [local.url, distribution]) {
      await pushBuilt(url, 'e2e/inspect', image, 'image');
      await pushBuilt(url, 'e2e/inspect', index, 'index');
    }
    registries.set('the local registry', nodes.localRegistry(local.port)).set('docker-registry', nodes.registry(distribution));
  });
  after(async function () {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    await local?.stop();
    removeDir(storage);
  });

  for (const name of ['the local registry', 'docker-registry']) {
    it(`opens an image manifest from ${name} as a read-only JSON document with its layers`, async () => {
      const { doc, json } = await inspect(registry(name), 'e2e/inspect', 'image');
      assert.equal(doc.uri.scheme, 'berth');
      assert.equal(doc.languageId, 'json');
      checkImage(json, image);
    });

    it(`opens an index from ${name} listing one entry per platform`, async () => {
      checkIndex((await inspect(registry(name), 'e2e/inspect', 'index')).json, index);
    });
  }
});
