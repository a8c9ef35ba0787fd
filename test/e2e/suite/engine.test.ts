import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { busyboxContext } from '../../support/images';
import { removeDir, tempDir } from '../../support/proc';
import { headManifest, listTags } from '../../support/ociImage';
import { docker, nodes, runnerEnv, startLocalRegistry } from './host';

/** Push and pull go through the engine the extension finds via DOCKER_HOST: the runner's private dockerd. */
describe('push and pull through a real dockerd', function () {
  let storage: string;
  let local: Awaited<ReturnType<typeof startLocalRegistry>>;
  const source = 'e2e-source/app:1.0';

  before(async function () {
    storage = tempDir('e2e-engine');
    local = await startLocalRegistry(storage);
    const ctx = busyboxContext(2, 'e2e-engine');
    try {
      await docker(['build', '-q', '-t', source, ctx]);
    } finally {
      removeDir(ctx);
    }
  });
  after(async function () {
    await local?.stop();
    removeDir(storage);
  });

  it('pushes a local image named for the local registry (berth.localImage.push); the registry serves the digest the engine reports', async () => {
    const reference = `127.0.0.1:${local.port}/e2e/pushed:1.0`;
    await docker(['tag', source, reference]);
    const id = await docker(['image', 'inspect', '--format', '{{.Id}}', reference]);
    await vscode.commands.executeCommand('berth.localImage.push', nodes.localImage(id, reference));
    assert.deepEqual(await listTags(local.url, 'e2e/pushed'), ['1.0']);
    const repoDigests = JSON.parse(await docker(['image', 'inspect', '--format', '{{json .RepoDigests}}', reference])) as string[];
    const served = (await headManifest(local.url, 'e2e/pushed', '1.0')).headers.get('docker-content-digest');
    assert.ok(served, 'the registry returned no Docker-Content-Digest');
    assert.ok(repoDigests.includes(`127.0.0.1:${local.port}/e2e/pushed@${served}`), `engine reports ${JSON.stringify(repoDigests)}, registry serves ${served}`);
  });

  it('pulls a tag from docker-registry into the engine (berth.tag.pull)', async () => {
    const distribution = runnerEnv('BERTH_E2E_DISTRIBUTION_URL');
    const host = new URL(distribution).host;
    const reference = `${host}/e2e/pull-me:2.0`;
    await docker(['tag', source, reference]);
    await docker(['push', '-q', reference]);
    await docker(['rmi', reference]);
    await assert.rejects(docker(['image', 'inspect', reference]), 'the image should be gone from the engine before the pull');

    await vscode.commands.executeCommand('berth.tag.pull', nodes.tag(nodes.registry(distribution), 'e2e/pull-me', '2.0'));
    const pulledId = await docker(['image', 'inspect', '--format', '{{.Id}}', reference]);
    assert.equal(pulledId, await docker(['image', 'inspect', '--format', '{{.Id}}', source]));
  });
});
